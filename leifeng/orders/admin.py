"""Django admin for the operator: Open311 clients (a key limited to Open311, shown once on creation)."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leifeng.orders import services
from leifeng.orders.models import Open311Client


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    """The operator adds a client (name, node, the account it acts as) and reads its key once; only the hash is
    stored. Revoking is an action; nothing is edited or deleted (the audit trail names the client)."""

    list_display = ["name", "org", "user", "prefix", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username", "org__name"]
    list_select_related = ["org", "user"]
    raw_id_fields = ["org", "user"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["name", "org", "user"] if obj is None else ["name", "org", "user", "prefix", "created_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["name", "org", "user", "prefix", "created_at", "revoked_at"]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        client, raw = services.open311_client_create(
            actor=request.user, name=obj.name, org_id=obj.org_id, user=obj.user
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = client.pk, client.prefix, client.key_hash, client.created_at
        messages.warning(request, _("The Open311 key (shown only now; give it to the client): %(key)s") % {"key": raw})

    @admin.action(description=gettext_lazy("Revoke the selected Open311 keys"))
    def revoke(self, request, queryset):
        for client in queryset.filter(revoked_at__isnull=True):
            services.open311_client_revoke(actor=request.user, client_id=client.pk)
        messages.success(request, _("Open311 keys revoked."))

"""Django admin for the operator: the audit trail is read-only; admin writes are audited too."""

from django.contrib import admin

from leifeng.core import audit
from leifeng.core.codes import AuditAction
from leifeng.core.models import AuditEvent


class AuditedModelAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes write an audit event like any service would."""

    def save_model(self, request, obj, form, change):
        before = {f: form.initial.get(f) for f in form.changed_data} if change else {}
        super().save_model(request, obj, form, change)
        changes = {f: [before.get(f), form.cleaned_data.get(f)] for f in form.changed_data if "password" not in f}
        action = AuditAction.ADMIN_CHANGE if change else AuditAction.ADMIN_ADD
        audit.record(actor=request.user, action=action, obj=obj, changes=changes, note="Django admin")

    def delete_model(self, request, obj):
        audit.record(actor=request.user, action=AuditAction.ADMIN_DELETE, obj=obj, note="Django admin")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit.record(actor=request.user, action=AuditAction.ADMIN_DELETE, obj=obj, note="Django admin")
        super().delete_queryset(request, queryset)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: nobody adds, edits or deletes audit events, not even the operator."""

    list_display = ["created_at", "actor", "action", "object_type", "object_repr", "org"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "object_repr", "object_id", "actor__username", "actor__display_name"]
    date_hierarchy = "created_at"
    list_select_related = ["actor", "org"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

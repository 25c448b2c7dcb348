"""Django admin for the operator: accounts with their roles, role assignments, API tokens."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from leifeng.accounts import services
from leifeng.accounts.codes import AuditAction
from leifeng.accounts.models import ApiToken, RoleAssignment, User
from leifeng.core import audit
from leifeng.core.admin import AuditedModelAdmin


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ["org"]
    readonly_fields = ["created_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin, AuditedModelAdmin):
    list_display = ["username", "display_name", "phone", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "roles__role"]
    search_fields = ["username", "display_name", "phone", "email"]
    ordering = ["username"]
    inlines = [RoleAssignmentInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["display_name", "phone", "email"]}),
        (_("Permissions"), {"fields": ["is_active", "is_staff", "is_superuser"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "display_name", "phone", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_formset(self, request, form, formset, change):
        """Role changes made in the inline are audited like role_grant / role_revoke."""
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            audit.record(actor=request.user, action=AuditAction.ROLE_REVOKE, obj=obj, note="Django admin")
            obj.delete()
        for obj in instances:
            is_new = obj.pk is None
            obj.save()
            audit.record(
                actor=request.user,
                action=AuditAction.ROLE_GRANT if is_new else AuditAction.ROLE_ADMIN_CHANGE,
                obj=obj,
                changes={"role": [None, obj.role]} if is_new else {},
                note="Django admin",
            )
        formset.save_m2m()


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedModelAdmin):
    list_display = ["user", "role", "org", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__display_name", "org__name"]
    raw_id_fields = ["user", "org"]
    list_select_related = ["user", "org"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Only the hash is stored, so the operator can see and revoke tokens but never read or make one."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
            services.token_revoke_by_operator(actor=request.user, token=token)
        messages.success(request, _("Tokens revoked."))

"""Django admin for the operator. The ID number is shown masked only; registration and status changes go
through the services (audited), so the admin never creates volunteers nor edits ciphertext or status."""

from django.contrib import admin

from leifeng.people.models import Skill, Volunteer


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    list_display = ["number", "name", "org", "status", "id_masked", "phone", "political_status", "created_at"]
    list_filter = ["status", "political_status", "in_service_party_member", "channel"]
    search_fields = ["=number", "^name", "^name_initials", "=phone"]  # prefix/exact: index-friendly
    list_select_related = ["org"]
    show_full_result_count = False  # no exact COUNT over a million rows on every page
    raw_id_fields = ["org", "unit", "user"]
    filter_horizontal = ["skills"]
    exclude = ["id_number_encrypted", "id_index", "reviewed_by"]
    readonly_fields = [
        "number",
        "id_type",
        "id_masked",
        "gender",
        "birth_date",
        "name_pinyin",
        "name_initials",
        "status",
        "rejection_reason",
        "reviewed_at",
        "channel",
        "consent_at",
        "guardian_consent_at",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

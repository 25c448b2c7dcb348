"""Django admin for the operator. Day-to-day changes go through the pages and the API (audited services)."""

from django.contrib import admin

from leifeng.teams.models import Team, TeamMembership


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    raw_id_fields = ("volunteer", "decided_by")
    fields = ("volunteer", "status", "message", "reason", "decided_at", "decided_by")
    readonly_fields = ("decided_at",)
    show_change_link = True


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "org", "level", "category", "kind", "leader", "max_members", "is_active")
    list_filter = ("level", "category", "kind", "is_active")
    search_fields = ("name", "org__name")
    list_select_related = ("org", "leader")
    raw_id_fields = ("org", "parent", "leader", "deputy")
    inlines = [MembershipInline]


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ("volunteer", "team", "status", "decided_at", "decided_by")
    list_filter = ("status",)
    search_fields = ("volunteer__name", "volunteer__number", "team__name")
    list_select_related = ("volunteer", "team", "decided_by")
    raw_id_fields = ("team", "volunteer", "decided_by")
    date_hierarchy = "created_at"

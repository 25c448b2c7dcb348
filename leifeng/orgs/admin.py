"""Django admin for the operator. Edits here bypass the services' audit trail: prefer the pages."""

from django.contrib import admin
from treebeard.admin import TreeAdmin
from treebeard.forms import movenodeform_factory

from leifeng.orgs.models import LeadingGroup, LeadingGroupMember, Org, Position, Unit


@admin.register(Org)
class OrgAdmin(TreeAdmin):
    form = movenodeform_factory(Org)
    list_display = ["name", "level", "division_code", "contact_name", "contact_phone"]
    list_filter = ["level"]
    search_fields = ["name", "division_code", "address"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "org", "parent", "credit_code", "contact_name"]
    list_filter = ["kind"]
    search_fields = ["name", "credit_code", "org__name"]
    list_select_related = ["org", "parent"]
    raw_id_fields = ["org", "parent"]


@admin.register(Position)
class PositionAdmin(admin.ModelAdmin):
    list_display = ["person_name", "title", "org", "phone", "user"]
    list_filter = ["title"]
    search_fields = ["person_name", "phone", "org__name"]
    list_select_related = ["org", "user"]
    raw_id_fields = ["org", "user"]


class LeadingGroupMemberInline(admin.TabularInline):
    model = LeadingGroupMember
    extra = 1
    raw_id_fields = ["user"]


@admin.register(LeadingGroup)
class LeadingGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "org"]
    search_fields = ["name", "org__name"]
    list_select_related = ["org"]
    raw_id_fields = ["org"]
    inlines = [LeadingGroupMemberInline]

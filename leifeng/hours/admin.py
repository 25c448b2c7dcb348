"""Admin for the operator. The ledger is read-only here: records are never edited or deleted (DESIGN §4 rule 11);
corrections go through the hours review page or the API (a reversing entry plus a new one)."""

from django.contrib import admin

from leifeng.hours.models import CorrectionRequest, HoursClaim, ServiceRecord


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServiceRecord)
class ServiceRecordAdmin(ReadOnly):
    list_display = ["id", "volunteer", "org", "service_date", "minutes", "kind", "source", "reverses"]
    list_filter = ["kind", "source"]
    search_fields = ["volunteer__number", "volunteer__name", "content"]
    raw_id_fields = ["volunteer", "org", "activity", "post", "team", "reverses", "recorded_by", "approved_by"]
    date_hierarchy = "service_date"


@admin.register(HoursClaim)
class HoursClaimAdmin(ReadOnly):
    list_display = ["id", "volunteer", "post", "minutes", "status", "entered_by", "decided_by"]
    list_filter = ["status"]
    raw_id_fields = ["volunteer", "post", "entered_by", "decided_by", "record"]


@admin.register(CorrectionRequest)
class CorrectionRequestAdmin(ReadOnly):
    list_display = ["id", "record", "requested_minutes", "status", "requested_by", "answered_by"]
    list_filter = ["status"]
    raw_id_fields = ["record", "requested_by", "answered_by"]

"""Admin for the operator: attendance is read here; changes go through check-in, roll call and the services."""

from django.contrib import admin

from leifeng.attendance.models import Attendance, CheckRequest, DurationCode, PostClosure, RollCallMark


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Attendance)
class AttendanceAdmin(ReadOnly):
    list_display = ["id", "volunteer", "post", "status", "checked_in_at", "checked_out_at", "late", "auto_closed"]
    list_filter = ["status", "method_in", "late", "auto_closed"]
    search_fields = ["volunteer__number", "volunteer__name"]
    raw_id_fields = ["activity", "post", "volunteer", "record", "marked_by"]


@admin.register(CheckRequest)
class CheckRequestAdmin(ReadOnly):
    list_display = ["key", "user", "action", "attendance", "created_at"]
    search_fields = ["key"]
    raw_id_fields = ["user", "attendance"]


@admin.register(RollCallMark)
class RollCallMarkAdmin(ReadOnly):
    list_display = ["post", "volunteer", "mark", "marked_by", "marked_at"]
    raw_id_fields = ["post", "volunteer", "marked_by"]


@admin.register(DurationCode)
class DurationCodeAdmin(ReadOnly):
    list_display = ["code", "post", "created_by", "created_at", "expires_at"]
    raw_id_fields = ["post", "created_by"]


@admin.register(PostClosure)
class PostClosureAdmin(ReadOnly):
    list_display = ["post", "closed_at", "auto_closed", "no_shows"]
    raw_id_fields = ["post"]

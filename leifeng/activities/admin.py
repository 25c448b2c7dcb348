"""Django admin for the operator: read and fix rows. Day-to-day work goes through the pages and services."""

from django.contrib import admin

from leifeng.activities.models import (
    Activity,
    ActivityReport,
    Campaign,
    CampaignPhase,
    Insurance,
    Post,
    ReportPhoto,
    Signup,
    SignupGroup,
)


class PhaseInline(admin.TabularInline):
    model = CampaignPhase
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("title", "org", "starts_on", "ends_on")
    list_filter = ("starts_on",)
    search_fields = ("title", "theme")
    raw_id_fields = ("org", "leading_group", "copied_from", "created_by")
    filter_horizontal = ("units",)
    inlines = [PhaseInline]


class PostInline(admin.TabularInline):
    model = Post
    extra = 0
    fields = ("title", "starts_at", "ends_at", "quota", "filled")
    readonly_fields = ("filled",)


class InsuranceInline(admin.TabularInline):
    model = Insurance
    extra = 0
    raw_id_fields = ("recorded_by",)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("title", "org", "category", "status", "risky", "published_at")
    list_filter = ("status", "category", "risky", "visibility")
    search_fields = ("title", "address")
    raw_id_fields = ("org", "campaign", "lead_unit", "created_by")
    filter_horizontal = ("teams",)
    readonly_fields = ("published_at",)
    inlines = [PostInline, InsuranceInline]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "activity", "starts_at", "ends_at", "quota", "filled")
    search_fields = ("title", "activity__title")
    raw_id_fields = ("activity",)
    readonly_fields = ("filled",)  # kept in step by the sign-up services only


@admin.register(Signup)
class SignupAdmin(admin.ModelAdmin):
    list_display = ("volunteer", "post", "status", "created_at", "assigned_by")
    list_filter = ("status",)
    search_fields = ("volunteer__name", "volunteer__number", "post__title")
    raw_id_fields = ("post", "volunteer", "group", "assigned_by")
    readonly_fields = ("status", "starts_at", "ends_at")  # status moves only through the services


@admin.register(SignupGroup)
class SignupGroupAdmin(admin.ModelAdmin):
    list_display = ("post", "number", "leader")
    raw_id_fields = ("post", "leader")


class PhotoInline(admin.TabularInline):
    model = ReportPhoto
    extra = 0
    readonly_fields = ("width", "height")


@admin.register(ActivityReport)
class ActivityReportAdmin(admin.ModelAdmin):
    list_display = ("activity", "filed_by", "created_at")
    raw_id_fields = ("activity", "filed_by")
    inlines = [PhotoInline]

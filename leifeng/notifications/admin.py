from django.contrib import admin

from leifeng.notifications.models import Delivery, FeedToken, Notification, Relay


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    readonly_fields = ["channel", "status", "attempts", "address", "error", "last_attempt_at", "sent_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "created_at", "read_at"]
    list_filter = ["kind"]
    search_fields = ["title", "recipient__username", "dedupe_key"]
    raw_id_fields = ["recipient", "relay"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "status", "attempts", "last_attempt_at", "error"]
    list_filter = ["channel", "status"]
    raw_id_fields = ["notification"]


@admin.register(Relay)
class RelayAdmin(admin.ModelAdmin):
    list_display = ["title", "org", "sender", "recipient_count", "created_at"]
    raw_id_fields = ["org", "sender"]


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    raw_id_fields = ["user"]
    exclude = ["token"]

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "leifeng.notifications"
    label = "notifications"

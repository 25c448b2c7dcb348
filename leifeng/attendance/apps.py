from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "leifeng.attendance"
    label = "attendance"

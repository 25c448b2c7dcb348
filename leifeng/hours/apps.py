from django.apps import AppConfig


class HoursConfig(AppConfig):
    name = "leifeng.hours"
    label = "hours"

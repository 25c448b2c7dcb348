from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "leifeng.activities"
    label = "activities"

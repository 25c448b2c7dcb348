from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "leifeng.teams"
    label = "teams"

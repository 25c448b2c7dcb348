from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "leifeng.orgs"
    label = "orgs"

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "leifeng.people"
    label = "people"

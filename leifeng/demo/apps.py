from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "leifeng.demo"
    label = "demo"

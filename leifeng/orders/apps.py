from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "leifeng.orders"
    label = "orders"

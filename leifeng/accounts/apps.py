from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leifeng.accounts"
    label = "accounts"

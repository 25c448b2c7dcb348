from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """The signed-in home page and the role-aware menu: the top of the house, reading from every app below."""

    name = "leifeng.home"
    label = "home"
    verbose_name = _("Home")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "leifeng.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self):
        from django.contrib.auth.signals import user_login_failed

        from leifeng.core.throttle import note_failed_login

        user_login_failed.connect(note_failed_login, dispatch_uid="leifeng.core.throttle")

"""WSGI entry point (gunicorn `leifeng.config.wsgi`). The kiosk check-in's burst path sits in front of
Django: leifeng/attendance/fast.py (it hands everything but its one common case to Django)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")
application = get_wsgi_application()

from leifeng.attendance.fast import FastPaths  # noqa: E402  (needs the apps loaded)

application = FastPaths(application)

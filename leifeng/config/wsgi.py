"""WSGI entry point (production: `granian --interface wsgi leifeng.config.wsgi:application`, docs/operations.md;
gunicorn `leifeng.config.wsgi` works too). The burst paths of Lei Feng Day (kiosk check-in,
sign-up) sit in front of Django: leifeng/core/fast.py; each hands everything but its common case to Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")
application = get_wsgi_application()

import leifeng.activities.fast  # noqa: E402  (registers the sign-up route; needs the apps loaded)
import leifeng.attendance.fast  # noqa: E402,F401  (registers the check-in route)
from leifeng.core.fast import FastPaths  # noqa: E402

application = FastPaths(application)

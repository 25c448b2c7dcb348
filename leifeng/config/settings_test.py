"""Test settings: the real settings with fast hashing; DATABASE_URL picks SQLite or PostgreSQL."""

import os

os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

from leifeng.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None  # nothing collected in tests; WhiteNoise serves from the finders
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
NOTIFICATION_CHANNELS = ["console"]

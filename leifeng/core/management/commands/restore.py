"""manage.py restore FILE: load an archive written by `manage.py backup` into an empty, migrated database."""

import tempfile
import zipfile
from pathlib import Path

from django.apps import apps
from django.core import management
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction


def _has_data() -> bool:
    """Does any of leifeng's own tables hold a row? (A freshly migrated database holds none.)"""
    return any(
        model._default_manager.exists()
        for config in apps.get_app_configs()
        if config.name.startswith("leifeng.")
        for model in config.get_models()
        if not model._meta.proxy
    )


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database (run `manage.py migrate` first)."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, **options):
        source = Path(options["file"])
        if not source.exists():
            raise CommandError(f"{source}: no such file.")
        if _has_data():
            raise CommandError("The database is not empty: restore only into a freshly migrated database.")
        try:
            zf = zipfile.ZipFile(source)
        except zipfile.BadZipFile as exc:
            raise CommandError(f"{source}: not a backup archive ({exc}).") from None
        with zf, tempfile.TemporaryDirectory() as tmp:
            if "data.json" not in zf.namelist():
                raise CommandError(f"{source}: data.json missing; not a leifeng backup.")
            data = Path(tmp) / "data.json"
            data.write_bytes(zf.read("data.json"))
            with transaction.atomic():  # all or nothing
                management.call_command("loaddata", str(data), verbosity=0)
            count = 0
            for name in zf.namelist():
                if name.startswith("media/") and not name.endswith("/"):
                    default_storage.save(name.removeprefix("media/"), ContentFile(zf.read(name)))
                    count += 1
        self.stdout.write(f"restored from {source} ({count} uploaded files)")

"""manage.py backup FILE: everything in the database (and uploaded files) into one archive.

A zip holding `data.json` (Django's serializer, natural keys, so it loads into a fresh database of either
engine) and `media/…` (uploaded photos). ID numbers stay encrypted: restore needs the same FIELD_ENCRYPTION_KEY
(or SECRET_KEY). For big PostgreSQL installations pg_dump is faster; this command is the engine-neutral path.
"""

import io
import os
import zipfile
from pathlib import Path

from django.core import management
from django.core.files.storage import default_storage
from django.core.management.base import BaseCommand, CommandError

# Rebuilt by migrate on the target; dumping them would clash with the rows migrate creates. Login sessions
# (accounts.session, and Django's own table) are not data: a restore signs everybody out.
EXCLUDE = [
    "contenttypes",
    "auth.permission",
    "sessions",
    "accounts.session",
    "admin.logentry",
    "axes",
    "core.throttlebucket",
]


def _media_files(path: str = ""):
    try:
        dirs, files = default_storage.listdir(path)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in files:
        yield f"{path}/{name}" if path else name
    for d in dirs:
        yield from _media_files(f"{path}/{d}" if path else d)


class Command(BaseCommand):
    help = "Back up the whole database and uploaded files into one zip archive."

    def add_arguments(self, parser):
        parser.add_argument("file", help="archive to write, e.g. backup-2026-11-22.zip")

    def handle(self, *args, **options):
        target = Path(options["file"])
        if target.exists():
            raise CommandError(f"{target} exists; choose a new file name (a backup never overwrites).")
        data = io.StringIO()
        management.call_command(
            "dumpdata",
            natural_foreign=True,
            natural_primary=True,
            exclude=EXCLUDE,
            stdout=data,
            verbosity=0,
        )
        count = 0
        tmp = target.with_suffix(target.suffix + ".part")
        # Personal data: readable by the operator's account only (0600), from the first byte written.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # whatever the umask
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("data.json", data.getvalue())
            for name in _media_files():
                with default_storage.open(name, "rb") as fh:
                    zf.writestr(f"media/{name}", fh.read())
                count += 1
        tmp.rename(target)  # a half-written archive never carries the final name
        self.stdout.write(f"backup written: {target} ({target.stat().st_size:,} bytes, {count} uploaded files)")

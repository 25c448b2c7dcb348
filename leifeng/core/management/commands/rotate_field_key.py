"""manage.py rotate_field_key: re-encrypt every encrypted column with the newest FIELD_ENCRYPTION_KEY.

Put the new key first in FIELD_ENCRYPTION_KEY (new,old), restart, run this command, then drop the old key.
All or nothing: one transaction; a value that no configured key opens stops the run and changes nothing.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from leifeng.core import audit, crypto
from leifeng.core.codes import AuditAction

BATCH = 2000


class Command(BaseCommand):
    help = "Re-encrypt personal data with the first key of FIELD_ENCRYPTION_KEY (key rotation)."

    def handle(self, *args, **options):
        crypto.reset()
        done: dict[str, int] = {}
        try:
            with transaction.atomic():
                for label, field in crypto.encrypted_fields():
                    model = apps.get_model(label)
                    n = 0
                    batch = []
                    for obj in model._default_manager.exclude(**{field: ""}).only("pk", field).iterator(BATCH):
                        setattr(obj, field, crypto.rotate(getattr(obj, field)))
                        batch.append(obj)
                        if len(batch) >= BATCH:
                            model._default_manager.bulk_update(batch, [field])
                            n += len(batch)
                            batch = []
                    model._default_manager.bulk_update(batch, [field])
                    n += len(batch)
                    done[f"{label}.{field}"] = n
                audit.record(
                    actor=None,
                    action=AuditAction.FIELD_KEY_ROTATE,
                    object_type="core.encryption",
                    object_repr="FIELD_ENCRYPTION_KEY",
                    changes={"rotated": done},
                )
        except crypto.DecryptionFailed as exc:
            raise CommandError(f"{exc.message} Nothing was changed.") from None
        for name, n in done.items():
            self.stdout.write(f"{name}: {n} values re-encrypted with the first key")

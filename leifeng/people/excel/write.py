"""Writing a validated import in one transaction: numbers, volunteers, skills and audit rows in bulk."""

import time
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from leifeng.core import audit, crypto
from leifeng.core.bulk import insert_rows, reserve_ids
from leifeng.core.idnumbers import mask_id
from leifeng.core.models import AuditEvent
from leifeng.core.numbers import allocate
from leifeng.people.codes import AuditAction
from leifeng.people.excel.columns import BATCH_SIZE
from leifeng.people.excel.reader import _pinyin_keys
from leifeng.people.excel.report import ImportResult
from leifeng.people.excel.validate import _common_org, _Ready, _Validator
from leifeng.people.models import (
    RegistrationChannel,
    Skill,
    Volunteer,
    VolunteerStatus,
)
from leifeng.people.services import (
    NUMBER_SEQUENCE,
    format_number,
)


class _VolunteerRows:
    """Column values of each new volunteer, in `attnames` order.

    The values are what services._build sets for the same input (test_excel holds the two equal),
    produced without a model instance per row and with pinyin worked out once per distinct name:
    at 100,000 rows those two costs are a large part of the import.
    """

    def __init__(self, *, now: datetime, pinyin: dict[str, tuple[str, str]] | None = None):
        fields = Volunteer._meta.concrete_fields
        self.attnames = tuple(f.attname for f in fields)
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.now = now
        self._pinyin = pinyin if pinyin is not None else {}  # name → (full, initials), computed once

    def values(self, r: _Ready, *, pk: int | None, number: str, status: str, reviewer_id) -> tuple:
        keys = self._pinyin.get(r.name)
        if keys is None:
            keys = self._pinyin[r.name] = _pinyin_keys(r.name)
        now = self.now
        approved = status == VolunteerStatus.APPROVED
        row = dict(self.defaults)
        row.update(
            id=pk,
            created_at=now,
            updated_at=now,
            number=number,
            channel=RegistrationChannel.IMPORT,
            consent_at=now,
            org_id=r.org_id,
            unit_id=r.unit_id,
            name=r.name,
            name_pinyin=keys[0],
            name_initials=keys[1],
            id_type=r.id_type,
            id_number_encrypted=crypto.encrypt(r.id_number),
            id_index=r.id_index,
            id_masked=mask_id(r.id_number),
            gender=r.gender,
            birth_date=r.birth_date,
            phone=r.phone,
            extra_info_consent=r.extra_info_consent,
            email=r.email,
            address=r.address,
            available_times=list(r.available_times),
            political_status=r.political_status,
            in_service_party_member=r.in_service_party_member,
            guardian_name=r.guardian_name,
            guardian_phone=r.guardian_phone,
            guardian_consent_at=now if r.guardian_phone else None,
            status=status,
            reviewed_at=now if approved else None,
            reviewed_by_id=reviewer_id if approved else None,
        )
        return tuple(row[a] for a in self.attnames)


def _skill_ids(names: list[str]) -> dict[str, int]:
    """Skill name → id, creating the names nobody has used yet (two or three queries in all)."""
    if not names:
        return {}
    found = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    missing = [Skill(name=n) for n in names if n not in found]
    if missing:
        Skill.objects.bulk_create(missing, ignore_conflicts=True)
        found = dict(Skill.objects.filter(name__in=names).values_list("name", "id"))
    return found


AUDIT_COLUMNS = (
    "created_at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "org_id",
    "changes",
    "note",
)


class _Lap:
    """Seconds per step of the write, into ImportResult.timings (the benchmark prints them)."""

    def __init__(self, into: dict[str, float]):
        self.into = into
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.into[name] = now - self.last
        self.last = now


def _write(
    actor, validator: _Validator, result: ImportResult, *, approve: bool, file_name: str, pinyin: dict | None = None
) -> None:
    """One transaction: a block of numbers, then volunteers, skills and one audit row each, in bulk."""
    rows = validator.rows
    stations = validator.stations
    now = timezone.now()
    builder = _VolunteerRows(now=now, pinyin=pinyin)
    statuses = [
        VolunteerStatus.APPROVED if approve and stations.may_approve(r.org_id) else VolunteerStatus.PENDING
        for r in rows
    ]
    lap = _Lap(result.timings)
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        if postgres:
            # Check foreign keys row by row while COPY streams (alongside Python building the next rows)
            # rather than all at COMMIT, when nothing else is left to overlap with.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        block = allocate(NUMBER_SEQUENCE, len(rows))
        numbers = [format_number(seq) for seq in block]
        skill_ids = _skill_ids(sorted({s for r in rows for s in r.skills}))
        ids = reserve_ids(Volunteer, len(rows)) if postgres else [None] * len(rows)
        built = (
            builder.values(r, pk=pk, number=number, status=status, reviewer_id=actor.pk)
            for r, pk, number, status in zip(rows, ids, numbers, statuses, strict=True)
        )
        ids = insert_rows(Volunteer, builder.attnames, built, batch_size=BATCH_SIZE) or ids
        lap("write_volunteers")
        insert_rows(
            Volunteer.skills.through,
            ("volunteer_id", "skill_id"),
            ((pk, skill_ids[s]) for pk, r in zip(ids, rows, strict=True) for s in r.skills),
        )
        lap("write_skills")
        note = file_name[:500]
        insert_rows(
            AuditEvent,
            AUDIT_COLUMNS,
            (
                (
                    now,
                    actor.pk,
                    AuditAction.VOLUNTEER_IMPORT,
                    "people.volunteer",
                    str(pk),
                    f"{r.name} ({number})"[:200],
                    r.org_id,
                    {"channel": RegistrationChannel.IMPORT.value, "status": status, "row": r.row},
                    note,
                )
                for pk, r, number, status in zip(ids, rows, numbers, statuses, strict=True)
            ),
        )
        approved = statuses.count(VolunteerStatus.APPROVED)
        first, last = numbers[0], numbers[-1]
        org_ids = {r.org_id for r in rows}
        audit.record(
            actor=actor,
            action=AuditAction.VOLUNTEER_IMPORT_FILE,
            object_type="people.volunteer",
            object_repr=f"{first}–{last}",
            org=_common_org(stations.by_id[i].path for i in org_ids),
            changes={"file": file_name, "created": len(rows), "approved": approved, "first": first, "last": last},
        )
        lap("write_audit")
        if postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default again, for an outer transaction
    lap("commit")
    result.created = len(rows)
    result.approved = approved
    result.numbers = (first, last)

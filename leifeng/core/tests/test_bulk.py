"""core.bulk: COPY text escaping, reserved primary keys and a round trip on whichever database runs."""

from datetime import UTC, date, datetime

import pytest
from django.db import transaction
from django.utils import timezone

from leifeng.core.bulk import Writer, copy_text, insert_rows, reserve_ids
from leifeng.core.models import AuditEvent
from leifeng.people.models import Skill, VolunteerStatus


def test_copy_text_escapes_and_formats():
    assert copy_text("东关社区") == "东关社区"
    assert copy_text("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert copy_text(None) == "\\N"
    assert copy_text(True) == "t"
    assert copy_text(False) == "f"
    assert copy_text(42) == "42"
    assert copy_text(datetime(2026, 3, 5, 8, 30, 1, tzinfo=UTC)) == "2026-03-05T08:30:01+00:00"
    assert copy_text(date(2026, 3, 5)) == "2026-03-05"
    assert copy_text(VolunteerStatus.APPROVED) == "approved"


@pytest.mark.django_db
def test_reserve_ids_are_fresh_and_increasing():
    Skill.objects.create(name="急救")
    with transaction.atomic():
        ids = reserve_ids(Skill, 3)
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert ids[0] > Skill.objects.get(name="急救").pk
        Writer(Skill, ["id", "name"], timezone.now()).write([(pk, f"技能{pk}") for pk in ids])
    later = Skill.objects.create(name="心理疏导")  # the sequence moved past the reserved keys
    assert later.pk > ids[-1]
    with transaction.atomic():
        assert reserve_ids(Skill, 1)[0] > later.pk


@pytest.mark.django_db
def test_round_trip_through_the_bulk_path():
    now = timezone.now()
    names = ["普通", "带\t制表符", "带\n换行", "反斜杠\\"]
    with transaction.atomic():
        ids = reserve_ids(Skill, len(names))
        Writer(Skill, ["id", "name"], now).write(iter(list(zip(ids, names, strict=True))))
    assert dict(Skill.objects.filter(pk__in=ids).values_list("pk", "name")) == dict(zip(ids, names, strict=True))

    columns = ("created_at", "action", "object_type", "object_id", "object_repr", "changes", "note")
    rows = [
        (now, "skill.import", "people.skill", str(pk), n, {"name": n, "row": i}, "")
        for i, (pk, n) in enumerate(zip(ids, names, strict=True))
    ]
    with transaction.atomic():
        insert_rows(AuditEvent, columns, iter(rows), batch_size=3)
    events = AuditEvent.objects.filter(action="skill.import").order_by("pk")
    assert [(e.object_id, e.changes) for e in events] == [
        (str(pk), {"name": n, "row": i}) for i, (pk, n) in enumerate(zip(ids, names, strict=True))
    ]

"""Rows of hand-written statements become the same model instances the ORM loads: Django's `Manager.raw()`, which
the activity page, the signed-in principal and the API token lookup use (core.rows is gone, issue #11)."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from leifeng.activities.models import Activity


def test_django_raw_reads_like_the_orm_too(tree):
    """What replaces `row_reader` (issue #11): `Model.objects.raw()` converts the model's columns the same way
    and sets the statement's other columns on the instance as they are."""
    a = Activity.objects.create(
        org=tree.st_a1,
        title="学雷锋",
        category="other",
        address="广场",
        latitude=Decimal("34.123456"),
        risky=True,
        signup_closes_at=timezone.now() + timedelta(days=1),
    )
    table = Activity._meta.db_table
    (raw,) = Activity.objects.raw(f"SELECT a.*, 7 AS extra FROM {table} a WHERE a.id = %s", [a.pk])
    orm = Activity.objects.get(pk=a.pk)
    for field in Activity._meta.concrete_fields:
        assert getattr(raw, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(raw, field.attname)) is type(getattr(orm, field.attname)), field.name
    assert raw.extra == 7 and raw._state.adding is False

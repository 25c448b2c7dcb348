"""Rows of hand-written statements become the same model instances the ORM loads (core.rows)."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from leifeng.activities.models import Activity
from leifeng.core.rows import row_reader


def test_a_raw_row_reads_like_the_orm(tree):
    """Decimals, booleans and datetimes come back as the ORM gives them, on SQLite (text and 0/1) as on
    PostgreSQL."""
    now = timezone.now()
    a = Activity.objects.create(
        org=tree.st_a1,
        title="学雷锋",
        category="other",
        address="广场",
        latitude=Decimal("34.123456"),
        longitude=Decimal("108.654321"),
        risky=True,
        minors_allowed=False,
        signup_closes_at=now + timedelta(days=1),
    )
    reader = row_reader(Activity, connection.alias)
    with connection.cursor() as cur:
        cur.execute(f"SELECT {reader.select('a')} FROM {Activity._meta.db_table} a WHERE a.id = %s", [a.pk])
        row = cur.fetchone()
    raw = reader.instance(row)
    orm = Activity.objects.get(pk=a.pk)
    for field in Activity._meta.concrete_fields:
        assert getattr(raw, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(raw, field.attname)) is type(getattr(orm, field.attname)), field.name
    assert raw._state.adding is False and raw._state.db == connection.alias
    assert raw.signup_closes_at.tzinfo is not None and raw.risky is True


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

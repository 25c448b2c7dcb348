"""Fast bulk inserts: COPY on PostgreSQL, executemany (or bulk_create) on SQLite.

Django's bulk_create spends ~100–180 µs a row building SQL for a wide model (30 columns), most of a
100,000-row import. COPY takes the rows as one stream of text, and it streams while Python builds the
next rows, so the database works alongside. gen_scale (demo/scale.py) and the Excel import
(people/excel.py) both write through here.
"""

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import islice

from django.db import connection, models

COPY_CHUNK = 1000  # rows per write to the COPY stream: large enough to be cheap, small enough to overlap

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """One field in PostgreSQL's COPY text format.

    Built here rather than with psycopg's write_row, which adapts value by value in Python and cost
    more than everything else in gen_scale's loop together.
    """
    if type(value) is str:
        # Scanning for the four special characters is far cheaper than translate() on CJK text.
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_COPY_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):  # str subclasses such as TextChoices members
        return copy_text(str.__str__(value))
    return str(value)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Primary keys for `count` new rows, taken so that concurrent inserts cannot collide with them.

    COPY and executemany write the keys themselves, so the caller needs them first (and then knows them
    for the rows that point at the new ones). On SQLite the keys are max + 1…: call this inside the
    IMMEDIATE transaction that does the insert, whose write lock keeps them ours.
    """
    table, pk = model._meta.db_table, model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, count]
            )
            return [r[0] for r in cursor.fetchall()]
        if connection.vendor != "sqlite":
            raise NotImplementedError(f"reserve_ids supports PostgreSQL and SQLite, not {connection.vendor}")
        cursor.execute(f"SELECT COALESCE(MAX({quote(pk)}), 0) FROM {quote(table)}")
        top = cursor.fetchone()[0]
        # AUTOINCREMENT never reuses a deleted key: stay above the highest ever handed out too.
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM sqlite_sequence WHERE name = %s", [table])
        top = max(top, cursor.fetchone()[0])
        return list(range(top + 1, top + 1 + count))


def _columns(model: type[models.Model], attnames: Sequence[str]) -> list[str]:
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[a].column for a in attnames]


def copy_rows(model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple], consts: tuple = ()) -> None:
    """COPY `rows` into the model's table (PostgreSQL only), streaming as `rows` yields them.

    Each row holds the values of the first len(row) `attnames`; `consts` are the values of the rest,
    the same for every row (formatted once). Values must already be what the column takes (JSON as
    text). Database errors come out as Django's (IntegrityError and the like).
    """
    quote = connection.ops.quote_name
    statement = f"COPY {quote(model._meta.db_table)} ({', '.join(map(quote, _columns(model, attnames)))}) FROM STDIN"
    tail = "".join("\t" + copy_text(v) for v in consts) + "\n"
    it = iter(rows)
    with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        while chunk := list(islice(it, COPY_CHUNK)):
            copy.write("".join("\t".join(map(copy_text, row)) + tail for row in chunk))


class Writer:
    """Inserts of plain tuples for the columns the caller fills; every other column gets its default.

    Timestamps (auto_now, auto_now_add) get `now`, so a field added to the model later is filled too,
    or, when it is required and has no default, named in a clear error. COPY on PostgreSQL,
    executemany on SQLite; the caller supplies primary keys (reserve_ids) when it needs to know them.
    """

    def __init__(self, model: type[models.Model], given: Sequence[str], now: datetime) -> None:
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"bulk writes support PostgreSQL and SQLite, not {self.vendor}")
        self.model = model
        rest = [f for f in model._meta.concrete_fields if f.attname not in given and not f.primary_key]
        constants = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default() or f.null or f.empty_strings_allowed:
                value = f.get_default()
            else:
                raise ValueError(f"no value for the required field {model.__name__}.{f.name}")
            if value is not None and isinstance(f, models.JSONField):
                value = json.dumps(value)
            elif self.vendor == "sqlite":
                value = f.get_db_prep_save(value, connection)
            constants.append(value)
        self.attnames = [*given, *(f.attname for f in rest)]
        self.constants = tuple(constants)
        if self.vendor == "sqlite":
            quote = connection.ops.quote_name
            cols = ", ".join(map(quote, _columns(model, self.attnames)))
            marks = ", ".join("?" * len(self.attnames))
            self.insert = f"INSERT INTO {quote(model._meta.db_table)} ({cols}) VALUES ({marks})"

    def write(self, rows: Iterable[tuple]) -> None:
        if self.vendor == "postgresql":
            copy_rows(self.model, self.attnames, rows, self.constants)
        else:
            consts = self.constants
            with connection.wrap_database_errors, connection.cursor() as cursor:
                cursor.cursor.executemany(self.insert, [row + consts for row in rows])


def insert_rows(
    model: type[models.Model], attnames: Sequence[str], rows: Iterable[tuple], *, batch_size: int = 2000
) -> list | None:
    """INSERT every row of model values (JSON fields as Python objects): COPY on PostgreSQL, else bulk_create.

    Returns the new primary keys from bulk_create; COPY returns None (its callers reserve theirs with
    reserve_ids, since rows written by COPY report nothing back).
    """
    if connection.vendor != "postgresql":
        pks = []
        it = iter(rows)
        while batch := [model(**dict(zip(attnames, values, strict=True))) for values in islice(it, batch_size)]:
            model.objects.bulk_create(batch)
            pks.extend(obj.pk for obj in batch)
        return pks
    fields = {f.attname: f for f in model._meta.concrete_fields}
    json_at = [(i, fields[a].encoder) for i, a in enumerate(attnames) if isinstance(fields[a], models.JSONField)]
    if json_at:
        rows = (_dump_json(values, json_at) for values in rows)
    copy_rows(model, attnames, rows)
    return None


def _dump_json(values: tuple, json_at: list) -> list:
    values = list(values)
    for i, encoder in json_at:
        values[i] = json.dumps(values[i], cls=encoder)
    return values

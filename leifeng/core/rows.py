"""Model instances from the rows of a hand-written statement, converted exactly as the ORM would convert them.

Being replaced by Django's own facilities (issue #11): a hand-written statement that loads a model's rows is
`Model.objects.raw(sql, params)`, which applies the same converters (SQLite's 0/1 booleans and text
datetimes, decimals) to the model's columns and sets the statement's other columns on each instance as they
are; a deferred instance of a few known fields is `Model.from_db(alias, names, values)` with the names in
the model's field order. The signed-in principal (`accounts.sessions`) and the API token lookup
(`accounts.api_auth`) read their rows that way now.

What is left here is used only by `activities.selectors` (the activity page's and the roster's statements,
`selectors/page.py` after the split), which another change of issue #11 was rewriting at the same time; it
moves to `.raw()` the same way and this module goes with it. Nothing here is beyond Django: `RowReader` is
what `raw()` does per statement, kept because the callers index its columns by position.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from django.db import connections
from django.db.models import Field, Model


@cache
def field_converters(field: Field, alias: str, table: str) -> tuple[tuple[Callable, object], ...]:
    """What Django's compiler applies to this field's column when it reads it, as (converter, column) pairs."""
    connection = connections[alias]
    col = field.get_col(table)
    return tuple((conv, col) for conv in connection.ops.get_db_converters(col) + field.get_db_converters(connection))


def convert(value, converters: tuple[tuple[Callable, object], ...], alias: str):
    connection = connections[alias]
    for conv, col in converters:
        value = conv(value, col, connection)
    return value


def partial(model: type[Model], alias: str, **values) -> Model:
    """An instance read from the database with only these fields loaded (the others deferred, read on first
    use): `from_db` takes the values in the model's field order, whatever the order of the names."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(alias, names, [values[name] for name in names])


@dataclass(frozen=True)
class RowReader:
    """Every concrete field of a model, in model order (what `Model.from_db` takes), with its converters."""

    model: type[Model]
    alias: str
    attnames: tuple[str, ...]
    columns: tuple[str, ...]
    converters: tuple[tuple[tuple[Callable, object], ...], ...]

    def __len__(self) -> int:
        return len(self.attnames)

    def select(self, table: str) -> str:
        """The columns for a SELECT list, qualified by the statement's alias of the model's table."""
        qn = connections[self.alias].ops.quote_name
        return ", ".join(f"{table}.{qn(c)}" for c in self.columns)

    def instance(self, values: Sequence) -> Model:
        """The model instance of these values (as the ORM would load it: converted, not `adding`)."""
        connection = connections[self.alias]
        converted = list(values)
        for i, convs in enumerate(self.converters):
            for conv, col in convs:
                converted[i] = conv(converted[i], col, connection)
        return self.model.from_db(self.alias, self.attnames, converted)


@cache
def row_reader(model: type[Model], alias: str) -> RowReader:
    fields = model._meta.concrete_fields
    return RowReader(
        model=model,
        alias=alias,
        attnames=tuple(f.attname for f in fields),
        columns=tuple(f.column for f in fields),
        converters=tuple(field_converters(f, alias, "t") for f in fields),
    )

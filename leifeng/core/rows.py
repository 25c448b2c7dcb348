"""Model instances from the rows of a hand-written statement, converted exactly as the ORM would convert them.

The pages every request pays for (the signed-in principal, the activity page, the roster) read their rows with one
statement built once per process instead of the ORM's per-request query building. Their values must still come
out as the ORM gives them: SQLite returns booleans as 0/1 and datetimes as naive text, which Django's
converters turn into bool and aware datetimes; PostgreSQL needs none. `RowReader` keeps, per model and database,
the columns in model order and the converters the compiler would apply to each.
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

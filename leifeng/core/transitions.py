"""The one transition helper every status table goes through (Saleor's status enums + a table of allowed moves).

An app declares its table once, next to its status enum::

    ORDER_TRANSITIONS = Transitions(OrderStatus, {OrderStatus.NEW: {OrderStatus.REVIEWED, ...}, ...},
                                    message=_("An order that is “%(from)s” cannot become “%(to)s”."))

and its services change a status only through ``ORDER_TRANSITIONS.move(order, to)`` (or ``.check(from, to)`` when
the write is a conditional UPDATE). A move the table does not allow raises `Conflict` with code
``invalid_transition`` (or the code the table names) and changes nothing. A state the table does not list
allows no move at all.
"""

from collections.abc import Iterable, Mapping
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from leifeng.core.errors import Conflict, ErrorCode

DEFAULT_MESSAGE = _("Something that is “%(from)s” cannot become “%(to)s”.")


class Transitions(Mapping):
    """An immutable table {from status: frozenset of statuses it may move to}."""

    def __init__(
        self,
        statuses: type[models.TextChoices],
        table: Mapping[str, Iterable[str]],
        *,
        message=DEFAULT_MESSAGE,
        code: StrEnum = ErrorCode.INVALID_TRANSITION,
        field: str = "status",
    ):
        unknown = {s for s in table for s in (s, *table[s])} - set(statuses.values)
        if unknown:
            raise ValueError(f"{statuses.__name__}: no such status {sorted(unknown)}")
        self.statuses = statuses
        self._table = {statuses(k): frozenset(statuses(v) for v in vs) for k, vs in table.items()}
        self.message = message
        self.code = code
        self.field = field

    # Mapping: TABLE[status] is the set of statuses it may move to (empty for an unknown or final one).
    def __getitem__(self, status: str) -> frozenset:
        return self._table.get(status, frozenset())

    def __iter__(self):
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def allowed(self, current: str, to: str) -> bool:
        return to in self[current]

    def sources(self, to: str) -> frozenset:
        """The statuses from which `to` may be reached: the WHERE of a conditional UPDATE."""
        return frozenset(s for s, targets in self._table.items() if to in targets)

    def label(self, status: str) -> str:
        try:
            return str(self.statuses(status).label)
        except ValueError:
            return str(status)

    def check(self, current: str, to: str, *, message=None, code: StrEnum | None = None) -> None:
        """Raise `Conflict` unless the table allows current → to."""
        if not self.allowed(current, to):
            text = message if message is not None else self.message
            raise Conflict(
                str(text) % {"from": self.label(current), "to": self.label(to)},
                code=code or self.code,
            )

    def move(self, obj, to: str, *, message=None, code: StrEnum | None = None) -> str:
        """Set `obj`'s status to `to` if the table allows it (the caller saves); returns the status it had."""
        before = getattr(obj, self.field)
        self.check(before, to, message=message, code=code)
        setattr(obj, self.field, to)
        return before

"""Audit trail (Zulip's audited actions): every service that changes data calls `record`."""

from enum import StrEnum
from typing import Any

from django.db import models

from leifeng.core.errors import require_enum
from leifeng.core.models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def snapshot(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """Values of `fields` before a change, to diff against afterwards."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


def diff(before: dict[str, Any], obj: models.Model) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed."""
    out = {}
    for f, old in before.items():
        new = _jsonable(getattr(obj, f))
        if new != old:
            out[f] = [old, new]
    return out


def record(
    *,
    actor,
    action: StrEnum,
    obj: models.Model | None = None,
    org=None,
    changes: dict | None = None,
    note: str = "",
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
) -> AuditEvent:
    """Write one audit row. `org` defaults to `obj.org` so the event is scoped with its object. `action` is a
    member of an app's `AuditAction` enum (`<app>/codes.py`)."""
    require_enum(action, "audit action")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)[:200]
        if org is None:
            org = getattr(obj, "org", None)
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        org=org,
        changes=_jsonable(changes or {}),
        note=note[:500],
    )


def record_many(events: list[AuditEvent]) -> None:
    """Bulk form for imports: one row per object, one INSERT per batch."""
    for event in events:
        require_enum(event.action, "audit action")
    AuditEvent.objects.bulk_create(events, batch_size=2000)

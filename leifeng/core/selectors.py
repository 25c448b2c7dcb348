"""Reads of core data: the audit trail, scoped to the actor."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.apps import apps
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from leifeng.core import scope
from leifeng.core.models import AuditEvent
from leifeng.core.scope import Perm

# ---- audit trail ---------------------------------------------------------------------------


def audited_types() -> list[tuple[str, str]]:
    """(object_type, readable name) for every model of our apps: the audit page's type filter."""
    out = []
    for model in apps.get_models():
        if model.__module__.startswith("leifeng."):
            out.append((model._meta.label_lower, str(model._meta.verbose_name)))
    return sorted(out, key=lambda t: t[1])


@dataclass
class AuditFilters:
    action: str = ""  # prefix: "user." matches user.create, user.update …
    object_type: str = ""
    actor: str = ""  # part of the actor's user name or name
    date_from: date | None = None
    date_to: date | None = None
    object_id: str = ""


def _day_start(d: date) -> datetime:
    return timezone.make_aware(datetime.combine(d, time.min))


def audit_event_list(*, actor, filters: AuditFilters | None = None) -> QuerySet[AuditEvent]:
    """Audit events of objects in the actor's AUDIT subtree (org admins); everyone else gets 404.

    Events without a node (operator actions) are seen by platform administrators only.
    """
    if not scope.has_any(actor, Perm.AUDIT):
        raise Http404
    f = filters or AuditFilters()
    qs = scope.scoped(AuditEvent.objects.select_related("actor", "org"), actor, Perm.AUDIT)
    if f.action:
        qs = qs.filter(action__startswith=f.action.strip())
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.actor:
        term = f.actor.strip()
        qs = qs.filter(Q(actor__username__icontains=term) | Q(actor__display_name__icontains=term))
    if f.date_from:
        qs = qs.filter(created_at__gte=_day_start(f.date_from))
    if f.date_to:
        qs = qs.filter(created_at__lt=_day_start(f.date_to + timedelta(days=1)))
    return qs.order_by("-created_at", "-id")


def audit_event_page(*, actor, params, per_page: int = 50):
    """Kept for callers that pass raw GET parameters (action, object_type, page)."""
    filters = AuditFilters(action=params.get("action") or "", object_type=params.get("object_type") or "")
    return Paginator(audit_event_list(actor=actor, filters=filters), per_page).get_page(params.get("page"))

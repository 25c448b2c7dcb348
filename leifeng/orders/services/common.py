"""What every stage of an order shares: `_move` (THE one place an order's status changes, through
ORDER_TRANSITIONS), events, locks, returning an order to dispatch, the adapters to other apps (notifications,
the hours ledger), photos. Who may do what (and which team may serve which order) is `orders.policy`."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, rules
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.images import clean_picture
from leifeng.orders.codes import AuditAction, EventAction
from leifeng.orders.models import (
    ASSIGNMENT_TRANSITIONS,
    ORDER_TRANSITIONS,
    AssignmentStatus,
    Order,
    OrderEvent,
    OrderStatus,
)
from leifeng.orders.policy import order_policy, staff_of
from leifeng.people.models import Volunteer
from leifeng.teams.models import Team

S = OrderStatus
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDE = 1600
MAX_COMPLETION_PHOTOS = 6
DEFAULT_PROMISE_HOURS = 72  # promised time when the dispatcher sets none
MENU_FIELDS = [
    "title",
    "category",
    "description",
    "service_area",
    "time_windows",
    "expected_minutes",
    "points",
    "active",
]
RESIDENT = "resident"
SYSTEM = "system"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# ---------------------------------------------------------------- adapters to other apps


def _notify(recipients, *, kind: str, title: str, body: str, link: str = "", dedupe_key: str | None = None) -> None:
    """Notifications through leifeng.notifications, after the transaction commits (never blocks a write)."""
    users = [u for u in recipients if u is not None]
    if not users:
        return
    try:
        from leifeng.notifications.services import notify
    except ImportError:  # pragma: no cover - the notifications app is optional for orders
        return

    def send():
        notify(recipients=users, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key)

    transaction.on_commit(send)


def _record_hours(*, actor, order: Order, volunteer: Volunteer, minutes: int, day) -> None:
    """Completed orders write verified hours to the ledger (谁组织谁记录: the order's node owns them)."""
    content = _("Order %(number)s: %(title)s") % {"number": order.number, "title": order.title}
    try:
        from leifeng.hours.services import service_record_add
    except ImportError:
        service_record_add = None
    if service_record_add is not None:
        service_record_add(
            actor=actor,
            volunteer=volunteer,
            org=order.org,
            kind="verified",
            source="order",
            source_id=str(order.pk),
            minutes=minutes,
            service_date=day,
            content=content[:200],
            category=order.category,
        )
        return
    from leifeng.hours.models import RecordKind, RecordSource, ServiceRecord

    ServiceRecord.objects.create(
        volunteer=volunteer,
        org=order.org,
        kind=RecordKind.VERIFIED,
        source=RecordSource.ORDER,
        source_id=str(order.pk),
        team=order.team,
        category=order.category,
        content=content[:200],
        service_date=day,
        minutes=minutes,
        recorded_by=actor,
    )


def _leader_users(team: Team | None) -> list:
    if team is None:
        return []
    ids = [v for v in (team.leader_id, team.deputy_id) if v]
    return [v.user for v in Volunteer.objects.filter(pk__in=ids, user__isnull=False).select_related("user")]


def _order_link(order: Order) -> str:
    return reverse("orders:order_detail", args=[order.pk])


# ---------------------------------------------------------------- shared helpers


def _event(
    order: Order,
    *,
    actor,
    action: EventAction,
    from_status: str,
    now: datetime,
    note: str = "",
    actor_kind: str | None = None,
    public: bool = True,
) -> OrderEvent:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return OrderEvent.objects.create(
        order=order,
        at=now,
        actor=actor if is_user else None,
        actor_kind=actor_kind or ("user" if is_user else SYSTEM),
        action=action,
        from_status=from_status,
        to_status=order.status,
        org=order.org,
        note=(note or "")[:500],
        public=public,
    )


def _move(
    order: Order,
    to: str,
    *,
    actor,
    action: EventAction,
    now: datetime,
    note: str = "",
    actor_kind: str | None = None,
    public: bool = True,
    fields: tuple[str, ...] = (),
) -> OrderEvent:
    """The one place an order's status changes: ORDER_TRANSITIONS refuses a move it does not list (Conflict,
    nothing changed); otherwise the order is saved, and an OrderEvent and an audit row are written."""
    before = ORDER_TRANSITIONS.move(order, to)
    order.save(update_fields=["status", "updated_at", *fields])
    event = _event(
        order, actor=actor, action=action, from_status=before, now=now, note=note, actor_kind=actor_kind, public=public
    )
    audit.record(
        actor=actor,
        action=AuditAction.of_event(action),
        obj=order,
        changes={"status": [before, to]} if before != to else {},
        note=note,
    )
    return event


def _lock(order_id) -> Order:
    try:
        return Order.objects.select_for_update(of=("self",)).select_related("org", "team", "menu_item").get(pk=order_id)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def _locked_for_change(actor, order_id) -> Order:
    """The order, locked, if the actor may run it (Perm.CHANGE at its node); 404 if not visible, 403 if only seen."""
    order = _lock(order_id)
    if not order_policy.may_run(actor, order):
        if order_policy.may_see(actor, order):
            raise PermissionDenied(_("Only the staff of %(org)s may do this.") % {"org": order.org.name})
        raise NotFound()
    return order


def _withdraw_assignments(order: Order, *, actor, now: datetime, reason: str = "") -> None:
    live = order.assignments.filter(status__in=ASSIGNMENT_TRANSITIONS.sources(AssignmentStatus.WITHDRAWN))
    live.update(
        status=AssignmentStatus.WITHDRAWN,
        decided_at=now,
        decided_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        reason=reason[:300],
    )


def _back_to_dispatch(order: Order, *, actor, action: EventAction, now: datetime, note: str) -> None:
    order.team = None
    order.taken_at = None
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    _move(order, S.ACCEPTED, actor=actor, action=action, now=now, note=note, fields=("team", "taken_at", "accept_by"))
    _notify(
        staff_of(order.org),
        kind=f"order.{action}",
        title=_("Order %(number)s needs dispatching again") % {"number": order.number},
        body=note,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-{action}-{now.timestamp()}",
    )


def _required_reason(reason: str, field_name: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field_name: [_("Give a reason.")]})
    if len(reason) > 300:
        raise ValidationError({field_name: [_("The reason is longer than 300 characters.")]})
    return reason


# ---------------------------------------------------------------- photos


def clean_photo(upload, *, field_name: str = "photo") -> ContentFile:
    """Accept a picture only if Pillow can read it, ≤ 10 MB and ≤ 50 megapixels (checked from the header before
    decoding); shrink it to 1600 px and strip metadata (JPEG). The one way: `core.images.clean_picture`."""
    return clean_picture(upload, field=field_name, max_bytes=MAX_PHOTO_BYTES, max_side=PHOTO_MAX_SIDE).file

"""Deadlines: reminders at half time, escalation one level up per missed deadline, auto-close of unrated
orders (run by `manage.py escalate_orders` and the periodic task)."""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from leifeng.core import audit, rules
from leifeng.orders.codes import AuditAction, EventAction
from leifeng.orders.models import (
    AssignmentStatus,
    Order,
)
from leifeng.orders.policy import staff_of
from leifeng.orders.services.common import (
    S,
    _event,
    _leader_users,
    _lock,
    _move,
    _notify,
    _now,
    _order_link,
)
from leifeng.orgs.models import Org
from leifeng.teams.selectors import ancestor_paths

# ---------------------------------------------------------------- deadlines: reminders, escalation, auto-close


def _escalation_target(order: Order) -> Org:
    """One level further up per missed deadline; the root node gets everything beyond it."""
    paths = ancestor_paths(order.org.path)[:-1]  # ancestors, root first
    if not paths:
        return order.org
    index = max(0, len(paths) - order.escalation_level)
    return Org.objects.get(path=paths[index]) if index < len(paths) else order.org


def _escalate(order: Order, *, now: datetime, reason: str) -> None:
    order.escalation_level += 1
    order.escalated_at = now
    target = _escalation_target(order)
    fields = ["escalation_level", "escalated_at", "updated_at"]
    if order.status == S.TAKEN:
        # a new deadline for the next escalation: the same time again
        order.promised_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
        fields.append("promised_by")
    else:
        order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
        fields.append("accept_by")
    order.save(update_fields=fields)
    note = _("%(reason)s Escalated to %(org)s.") % {"reason": reason, "org": target.name}
    _event(order, actor=None, action=EventAction.ESCALATED, from_status=order.status, now=now, note=note, public=False)
    audit.record(actor=None, action=AuditAction.ORDER_ESCALATED, obj=order, note=note)
    _notify(
        list(staff_of(target)) + list(staff_of(order.org)),
        kind="order.escalated",
        title=_("Overdue order %(number)s: %(title)s") % {"number": order.number, "title": order.title},
        body=note,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-escalated-{order.escalation_level}",
    )


def orders_escalate_overdue(*, now: datetime | None = None) -> dict[str, int]:
    """Run by `manage.py escalate_orders` and the periodic task: reminders at half time, escalation on a
    missed deadline (one level up each time), and closing of completed orders left unrated."""
    now = _now(now)
    counts = {"reminded": 0, "escalated": 0, "closed": 0}
    waiting = [S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED]
    # reminders: offers still unanswered after half of the time to accept
    for order in Order.objects.filter(
        status=S.DISPATCHED, reminded_at__isnull=True, accept_by__gt=now, dispatched_at__isnull=False
    ).select_related("org"):
        if now < order.dispatched_at + (order.accept_by - order.dispatched_at) / 2:
            continue
        with transaction.atomic():
            order = _lock(order.pk)
            if order.status != S.DISPATCHED or order.reminded_at is not None:
                continue
            order.reminded_at = now
            order.save(update_fields=["reminded_at", "updated_at"])
            recipients = []
            for a in order.assignments.filter(status=AssignmentStatus.OFFERED).select_related(
                "team", "volunteer__user"
            ):
                recipients += _leader_users(a.team) if a.team else [a.volunteer.user]
            _event(order, actor=None, action=EventAction.REMINDED, from_status=order.status, now=now, public=False)
            _notify(
                recipients,
                kind="order.reminder",
                title=_("Reminder: order %(number)s waits for your answer") % {"number": order.number},
                body=order.title,
                link=reverse("orders:my_orders"),
                dedupe_key=f"order-{order.pk}-reminder-{order.dispatched_at.timestamp()}",
            )
            counts["reminded"] += 1
    overdue = Order.objects.filter(
        Q(status__in=waiting, accept_by__lt=now) | Q(status=S.TAKEN, promised_by__lt=now)
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        with transaction.atomic():
            order = _lock(pk)
            if order.status in waiting and order.accept_by and order.accept_by < now:
                _escalate(
                    order, now=now, reason=_("No answer in time (%(status)s).") % {"status": order.get_status_display()}
                )
                counts["escalated"] += 1
            elif order.status == S.TAKEN and order.promised_by and order.promised_by < now:
                _escalate(order, now=now, reason=_("Not finished by the promised time."))
                counts["escalated"] += 1
    days_by_org: dict[int, int] = {}
    for order in Order.objects.filter(status=S.COMPLETED, completed_at__lt=now).select_related("org"):
        days = days_by_org.setdefault(order.org_id, int(rules.rule(order.org, "order_autoclose_days")))
        if order.completed_at + timedelta(days=days) > now:
            continue
        with transaction.atomic():
            order = _lock(order.pk)
            if order.status != S.COMPLETED:
                continue
            order.closed_at = now
            _move(
                order,
                S.CLOSED,
                actor=None,
                action=EventAction.AUTO_CLOSED,
                now=now,
                note=_("Not rated within %(days)d days.") % {"days": days},
                fields=("closed_at",),
            )
            counts["closed"] += 1
    return counts

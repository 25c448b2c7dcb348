"""审单: the node owning an order accepts, rejects, merges, passes it up, or cancels it."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leifeng.core import rules
from leifeng.core.errors import Conflict, ErrorCode, NotFound, ServiceError
from leifeng.core.roles import Perm
from leifeng.orders.codes import ErrorCode as OrderError
from leifeng.orders.codes import EventAction
from leifeng.orders.models import (
    OPEN_STATUSES,
    Order,
)
from leifeng.orders.policy import order_policy, staff_of
from leifeng.orders.services.common import (
    RESIDENT,
    S,
    _event,
    _locked_for_change,
    _move,
    _notify,
    _now,
    _order_link,
    _required_reason,
    _withdraw_assignments,
)
from leifeng.orgs.models import Org

# ---------------------------------------------------------------- 审单: review


@transaction.atomic
def order_accept(*, actor, order_id: int, note: str = "", now: datetime | None = None) -> Order:
    """The station takes the order on: it now awaits dispatch, within the acceptance time limit."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    if order.status != S.SUBMITTED:
        raise Conflict(_("Only an order awaiting review can be accepted."), code=ErrorCode.INVALID_TRANSITION)
    order.reviewed_at = now
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    _move(
        order,
        S.ACCEPTED,
        actor=actor,
        action=EventAction.ACCEPTED,
        now=now,
        note=note,
        fields=("reviewed_at", "accept_by"),
    )
    return order


@transaction.atomic
def order_reject(*, actor, order_id: int, reason: str, now: datetime | None = None) -> Order:
    """Refuse the order; the resident sees the reason on the tracking page."""
    now = _now(now)
    reason = _required_reason(reason)
    order = _locked_for_change(actor, order_id)
    order.reason = reason
    order.reviewed_at = now
    order.closed_at = now
    order.accept_by = None
    _move(
        order,
        S.REJECTED,
        actor=actor,
        action=EventAction.REJECTED,
        now=now,
        note=reason,
        fields=("reason", "reviewed_at", "closed_at", "accept_by"),
    )
    return order


@transaction.atomic
def order_merge(*, actor, order_id: int, into_id: int, now: datetime | None = None) -> Order:
    """Merge a duplicate into another open order; both keep an event pointing at each other."""
    now = _now(now)
    if str(order_id) == str(into_id):
        raise ValidationError({"into": [_("An order cannot be merged into itself.")]})
    order = _locked_for_change(actor, order_id)
    target = Order.objects.select_for_update().select_related("org").filter(pk=into_id).first()
    if target is None or not order_policy.allows(actor, Perm.VIEW, target):
        raise ValidationError({"into": [_("No such order.")]})
    if target.status not in OPEN_STATUSES:
        raise ValidationError({"into": [_("Merge only into an order that is still open.")]})
    order.merged_into = target
    order.closed_at = now
    order.accept_by = None
    note = _("Merged into %(number)s.") % {"number": target.number}
    _move(
        order,
        S.MERGED,
        actor=actor,
        action=EventAction.MERGED,
        now=now,
        note=note,
        fields=("merged_into", "closed_at", "accept_by"),
    )
    _event(
        target,
        actor=actor,
        action=EventAction.MERGED_IN,
        from_status=target.status,
        now=now,
        note=_("%(number)s was merged into this order.") % {"number": order.number},
        public=False,
    )
    return order


@transaction.atomic
def order_pass_up(*, actor, order_id: int, note: str = "", now: datetime | None = None) -> Order:
    """Beyond this node's means: the order goes to the parent node, still awaiting review there."""
    now = _now(now)
    note = _required_reason(note, "note")
    order = _locked_for_change(actor, order_id)
    parent = Org.objects.get_parent(order.org)
    if parent is None:
        raise ServiceError(_("This node has no node above it."), code=OrderError.NO_PARENT)
    order.org = parent
    order.accept_by = now + timedelta(hours=int(rules.rule(parent, "order_accept_hours")))
    _move(
        order, S.SUBMITTED, actor=actor, action=EventAction.PASSED_UP, now=now, note=note, fields=("org", "accept_by")
    )
    _notify(
        staff_of(parent),
        kind="order.passed_up",
        title=_("Order %(number)s passed up to you") % {"number": order.number},
        body=note,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-up-{parent.pk}",
    )
    return order


@transaction.atomic
def order_cancel(
    *, actor=None, order_id: int | None = None, token: str = "", reason: str = "", now: datetime | None = None
) -> Order:
    """Withdraw an order: the resident through their link (`token`), or the staff of its node."""
    now = _now(now)
    if token:
        order = Order.objects.select_for_update().select_related("org").filter(token=token).first()
        if order is None:
            raise NotFound()
        kind = RESIDENT
        actor = None
    else:
        order = _locked_for_change(actor, order_id)
        reason = _required_reason(reason)
        kind = None
    if order.status not in (S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED, S.TAKEN):
        raise Conflict(_("This order can no longer be cancelled."), code=ErrorCode.INVALID_TRANSITION)
    if kind == RESIDENT and order.status == S.TAKEN:
        raise Conflict(
            _("A volunteer is already on the way; call the station to cancel."), code=ErrorCode.INVALID_TRANSITION
        )
    _withdraw_assignments(order, actor=actor, now=now, reason=reason)
    order.closed_at = now
    order.accept_by = None
    _move(
        order,
        S.CANCELLED,
        actor=actor,
        action=EventAction.CANCELLED,
        now=now,
        note=reason,
        actor_kind=kind,
        fields=("closed_at", "accept_by"),
    )
    return order

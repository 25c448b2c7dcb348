"""评单: the resident rates through their link; a low rating opens a follow-up for the station."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leifeng.core import rules
from leifeng.core.errors import Conflict, ErrorCode, NotFound
from leifeng.orders.codes import EventAction
from leifeng.orders.models import (
    Order,
)
from leifeng.orders.policy import staff_of
from leifeng.orders.services.common import (
    RESIDENT,
    S,
    _locked_for_change,
    _move,
    _notify,
    _now,
    _order_link,
    _required_reason,
)

# ---------------------------------------------------------------- 评单: rating and follow-up


@transaction.atomic
def order_rate(*, token: str, rating: int, comment: str = "", now: datetime | None = None) -> Order:
    """The resident rates through their link; 1–2 stars open a follow-up for the station."""
    now = _now(now)
    order = Order.objects.select_for_update().select_related("org").filter(token=token).first() if token else None
    if order is None:
        raise NotFound()
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise ValidationError({"rating": [_("Give 1 to 5 stars.")]})
    comment = (comment or "").strip()
    if len(comment) > 500:
        raise ValidationError({"comment": [_("The comment is longer than 500 characters.")]})
    if order.status != S.COMPLETED:
        raise Conflict(_("Only a completed order can be rated, once."), code=ErrorCode.INVALID_TRANSITION)
    order.rating = rating
    order.rating_comment = comment
    order.rated_at = now
    note = f"{'★' * rating}{'☆' * (5 - rating)} {comment}".strip()
    if rating <= 2:
        _move(
            order,
            S.FOLLOW_UP,
            actor=None,
            action=EventAction.RATED,
            now=now,
            note=note,
            actor_kind=RESIDENT,
            fields=("rating", "rating_comment", "rated_at"),
        )
        _notify(
            staff_of(order.org),
            kind="order.follow_up",
            title=_("Low rating on order %(number)s: please follow up") % {"number": order.number},
            body=note,
            link=_order_link(order),
            dedupe_key=f"order-{order.pk}-follow-up",
        )
    else:
        order.closed_at = now
        _move(
            order,
            S.CLOSED,
            actor=None,
            action=EventAction.RATED,
            now=now,
            note=note,
            actor_kind=RESIDENT,
            fields=("rating", "rating_comment", "rated_at", "closed_at"),
        )
    return order


@transaction.atomic
def order_follow_up(*, actor, order_id: int, note: str, redo: bool = False, now: datetime | None = None) -> Order:
    """After a low rating the station calls the resident back: close with what was found, or serve again."""
    now = _now(now)
    note = _required_reason(note, "note")
    order = _locked_for_change(actor, order_id)
    if order.status != S.FOLLOW_UP:
        raise Conflict(_("This order has no open follow-up."), code=ErrorCode.INVALID_TRANSITION)
    if redo:
        order.team = None
        order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
        _move(order, S.ACCEPTED, actor=actor, action=EventAction.REDO, now=now, note=note, fields=("team", "accept_by"))
    else:
        order.closed_at = now
        _move(order, S.CLOSED, actor=actor, action=EventAction.FOLLOWED_UP, now=now, note=note, fields=("closed_at",))
    return order

"""派单: direct dispatch to a team or volunteers, level by level (层层派单), grabbing (抢单), recall."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import rules
from leifeng.core.errors import Conflict, ErrorCode, NotFound
from leifeng.orders.codes import ErrorCode as OrderError
from leifeng.orders.codes import EventAction
from leifeng.orders.models import (
    Assignment,
    AssignmentStatus,
    DispatchMode,
    Order,
)
from leifeng.orders.policy import in_line, led_teams, staff_of, team_may_grab, team_may_serve
from leifeng.orders.services.common import (
    DEFAULT_PROMISE_HOURS,
    S,
    _back_to_dispatch,
    _leader_users,
    _lock,
    _locked_for_change,
    _move,
    _notify,
    _now,
    _order_link,
    _required_reason,
    _withdraw_assignments,
)
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import Team

# ---------------------------------------------------------------- 派单: dispatch


def _promise(order: Order, promised_by: datetime | None, now: datetime) -> datetime:
    if promised_by is None:
        return now + timedelta(hours=DEFAULT_PROMISE_HOURS)
    if promised_by <= now:
        raise ValidationError({"promised_by": [_("The promised time must be in the future.")]})
    return promised_by


@transaction.atomic
def order_dispatch(
    *,
    actor,
    order_id: int,
    team_id: int | None = None,
    volunteer_ids: list[int] | None = None,
    promised_by: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Order:
    """Offer the order to one team (its leader answers) or to named volunteers (each answers for themselves)."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    volunteer_ids = [int(v) for v in (volunteer_ids or [])]
    if bool(team_id) == bool(volunteer_ids):
        raise ValidationError({"team": [_("Choose either one team or some volunteers.")]})
    if order.status != S.ACCEPTED:
        raise Conflict(_("Only an order awaiting dispatch can be dispatched."), code=ErrorCode.INVALID_TRANSITION)
    order.promised_by = _promise(order, promised_by, now)
    offers: list[Assignment] = []
    names: list[str] = []
    recipients: list = []
    if team_id:
        team = Team.objects.select_related("org").filter(pk=team_id).first()
        if team is None or not team_may_serve(team, order):
            raise ValidationError({"team": [_("Choose an active team of this node, above it or below it.")]})
        offers.append(Assignment(order=order, team=team, mode=DispatchMode.DIRECT, assigned_by=actor))
        names.append(team.name)
        recipients += _leader_users(team)
        order.team = team
    else:
        vols = list(
            Volunteer.objects.filter(pk__in=volunteer_ids, status=VolunteerStatus.APPROVED)
            .select_related("org", "user")
            .order_by("pk")
        )
        if len(vols) != len(set(volunteer_ids)) or any(not in_line(v.org.path, order.org.path) for v in vols):
            raise ValidationError(
                {"volunteers": [_("Choose registered volunteers of this node, above it or below it.")]}
            )
        for v in vols:
            offers.append(Assignment(order=order, volunteer=v, mode=DispatchMode.DIRECT, assigned_by=actor))
            names.append(v.name)
            recipients.append(v.user)
        order.team = None
    Assignment.objects.bulk_create(offers)
    order.dispatch_mode = order.dispatch_mode or DispatchMode.DIRECT
    if order.dispatch_mode == DispatchMode.GRAB:
        order.dispatch_mode = DispatchMode.DIRECT
    order.dispatched_at = now
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    order.reminded_at = None
    text = _("Dispatched to %(names)s.") % {"names": "、".join(names)}
    _move(
        order,
        S.DISPATCHED,
        actor=actor,
        action=EventAction.DISPATCHED,
        now=now,
        note=f"{text} {note}".strip(),
        fields=("team", "promised_by", "dispatch_mode", "dispatched_at", "accept_by", "reminded_at"),
    )
    _notify(
        recipients,
        kind="order.dispatched",
        title=_("New order for you: %(title)s") % {"title": order.title},
        body=_("Please accept or decline by %(time)s.")
        % {"time": f"{timezone.localtime(order.accept_by):%Y-%m-%d %H:%M}"},
        link=reverse("orders:my_orders"),
        dedupe_key=f"order-{order.pk}-dispatch-{now.timestamp()}",
    )
    return order


@transaction.atomic
def order_push_down(*, actor, order_id: int, org_id: int, note: str = "", now: datetime | None = None) -> Order:
    """层层派单: an upper node hands the order to a node below it, which then dispatches it."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    if order.status != S.ACCEPTED:
        raise Conflict(_("Only an order awaiting dispatch can be handed down."), code=ErrorCode.INVALID_TRANSITION)
    target = Org.objects.filter(pk=org_id).first()
    if target is None or target.pk == order.org_id or not target.path.startswith(order.org.path):
        raise ValidationError({"org": [_("Choose a node below this one.")]})
    order.org = target
    order.dispatch_mode = DispatchMode.LEVEL_BY_LEVEL
    order.accept_by = now + timedelta(hours=int(rules.rule(target, "order_accept_hours")))
    _move(
        order,
        S.ACCEPTED,
        actor=actor,
        action=EventAction.PUSHED_DOWN,
        now=now,
        note=(_("Handed down to %(org)s.") % {"org": target.name} + " " + (note or "")).strip(),
        fields=("org", "dispatch_mode", "accept_by"),
    )
    _notify(
        staff_of(target),
        kind="order.pushed_down",
        title=_("Order %(number)s handed down to you") % {"number": order.number},
        body=order.title,
        link=_order_link(order),
        dedupe_key=f"order-{order.pk}-down-{target.pk}",
    )
    return order


@transaction.atomic
def order_open_grab(
    *, actor, order_id: int, promised_by: datetime | None = None, note: str = "", now: datetime | None = None
) -> Order:
    """抢单: open the order to every eligible team; the first leader to grab it gets it."""
    now = _now(now)
    order = _locked_for_change(actor, order_id)
    if order.status != S.ACCEPTED:
        raise Conflict(
            _("Only an order awaiting dispatch can be opened for grabbing."), code=ErrorCode.INVALID_TRANSITION
        )
    order.promised_by = _promise(order, promised_by, now)
    order.dispatch_mode = DispatchMode.GRAB
    order.dispatched_at = now
    order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
    order.reminded_at = None
    order.team = None
    _move(
        order,
        S.OPEN,
        actor=actor,
        action=EventAction.OPENED,
        now=now,
        note=note,
        fields=("promised_by", "dispatch_mode", "dispatched_at", "accept_by", "reminded_at", "team"),
    )
    return order


def order_grab(*, actor, order_id: int, team_id: int, now: datetime | None = None) -> Order:
    """A team leader grabs an open order for their team. Race-safe: the order row is locked, first one wins."""
    now = _now(now)
    with transaction.atomic():
        order = _lock(order_id)
        team = next((t for t in led_teams(actor) if str(t.pk) == str(team_id)), None)
        if team is None:
            if order.status == S.OPEN and any(team_may_grab(t, order) for t in led_teams(actor)):
                raise ValidationError({"team": [_("Choose a team you lead.")]})
            raise NotFound()
        if not team_may_grab(team, order):
            raise NotFound()
        if order.status != S.OPEN:
            raise Conflict(_("Somebody else was quicker: this order is taken."), code=OrderError.ALREADY_TAKEN)
        Assignment.objects.create(
            order=order,
            team=team,
            mode=DispatchMode.GRAB,
            status=AssignmentStatus.ACCEPTED,
            decided_at=now,
            decided_by=actor,
        )
        order.team = team
        order.taken_at = now
        order.accept_by = None
        _move(
            order,
            S.TAKEN,
            actor=actor,
            action=EventAction.GRABBED,
            now=now,
            note=_("Grabbed by %(team)s.") % {"team": team.name},
            fields=("team", "taken_at", "accept_by"),
        )
    return order


@transaction.atomic
def order_recall(*, actor, order_id: int, reason: str, now: datetime | None = None) -> Order:
    """The station takes an order back from its assignees (or from grabbing) to dispatch it again."""
    now = _now(now)
    reason = _required_reason(reason)
    order = _locked_for_change(actor, order_id)
    if order.status not in (S.OPEN, S.DISPATCHED, S.TAKEN):
        raise Conflict(_("Only a dispatched order can be recalled."), code=ErrorCode.INVALID_TRANSITION)
    _withdraw_assignments(order, actor=actor, now=now, reason=reason)
    _back_to_dispatch(order, actor=actor, action=EventAction.RECALLED, now=now, note=reason)
    return order

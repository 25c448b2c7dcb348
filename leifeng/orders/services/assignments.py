"""接单: the assignees answer: accept, decline (nobody is forced to serve), complete."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.core import audit, rules
from leifeng.core.errors import Conflict, ErrorCode, NotFound
from leifeng.orders.codes import AuditAction, EventAction
from leifeng.orders.models import (
    ASSIGNMENT_TRANSITIONS,
    Assignment,
    AssignmentStatus,
    Order,
    OrderPhoto,
    OrderServer,
)
from leifeng.orders.policy import led_teams, order_policy
from leifeng.orders.services.common import (
    MAX_COMPLETION_PHOTOS,
    S,
    _back_to_dispatch,
    _event,
    _lock,
    _move,
    _now,
    _record_hours,
    _required_reason,
    clean_photo,
)
from leifeng.people.models import Volunteer
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.teams.selectors import volunteer_of

# ---------------------------------------------------------------- 接单: accept, decline, complete


def _answerable(order: Order, actor) -> list[Assignment]:
    """The actor's live assignments on the order: their teams' (as leader or deputy) and their own."""
    if volunteer_of(actor) is None and not led_teams(actor):
        return []
    return list(
        order.assignments.filter(
            order_policy.own_assignments_q(actor),
            status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED],
        ).select_related("team", "volunteer")
    )


def _set_assignment(a: Assignment, to: str, *, actor, now: datetime, reason: str = "") -> None:
    ASSIGNMENT_TRANSITIONS.move(a, to)  # "This answer was already given." unless the table allows it
    a.decided_at = now
    a.decided_by = actor
    a.reason = reason[:300]
    a.save(update_fields=["status", "decided_at", "decided_by", "reason", "updated_at"])


@transaction.atomic
def order_take(*, actor, order_id: int, now: datetime | None = None) -> Order:
    """接单: the team's leader, or a named volunteer, accepts the offer."""
    now = _now(now)
    order = _lock(order_id)
    offers = [a for a in _answerable(order, actor) if a.status == AssignmentStatus.OFFERED]
    if not offers:
        raise NotFound()
    if order.status not in (S.DISPATCHED, S.TAKEN):
        raise Conflict(_("This order is no longer waiting for you."), code=ErrorCode.INVALID_TRANSITION)
    for a in offers:
        _set_assignment(a, AssignmentStatus.ACCEPTED, actor=actor, now=now)
    who = "、".join(str(a.team or a.volunteer.name) for a in offers)
    if order.status == S.DISPATCHED:
        order.taken_at = now
        order.accept_by = None
        _move(
            order,
            S.TAKEN,
            actor=actor,
            action=EventAction.TAKEN,
            now=now,
            note=_("Accepted by %(who)s.") % {"who": who},
            fields=("taken_at", "accept_by"),
        )
    else:
        _event(
            order,
            actor=actor,
            action=EventAction.JOINED,
            from_status=order.status,
            now=now,
            note=_("Accepted by %(who)s.") % {"who": who},
        )
    return order


@transaction.atomic
def order_decline(*, actor, order_id: int, reason: str, now: datetime | None = None) -> Order:
    """Nobody is forced to serve: an offer may be declined and an accepted one given up, with a reason.
    When no assignee is left, the order returns to the station for dispatch."""
    now = _now(now)
    reason = _required_reason(reason)
    order = _lock(order_id)
    mine = _answerable(order, actor)
    if not mine:
        raise NotFound()
    if order.status not in (S.DISPATCHED, S.TAKEN):
        raise Conflict(_("This order is no longer waiting for you."), code=ErrorCode.INVALID_TRANSITION)
    for a in mine:
        to = AssignmentStatus.DECLINED if a.status == AssignmentStatus.OFFERED else AssignmentStatus.WITHDRAWN
        _set_assignment(a, to, actor=actor, now=now, reason=reason)
    who = "、".join(str(a.team or a.volunteer.name) for a in mine)
    note = _("%(who)s declined: %(reason)s") % {"who": who, "reason": reason}
    left = order.assignments.filter(status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED])
    if not left.exists():
        _back_to_dispatch(order, actor=actor, action=EventAction.DECLINED, now=now, note=note)
    else:
        if order.status == S.TAKEN and not left.filter(status=AssignmentStatus.ACCEPTED).exists():
            # the ones who accepted all gave up, others still hold an offer: wait for them again
            order.taken_at = None
            order.accept_by = now + timedelta(hours=int(rules.rule(order.org, "order_accept_hours")))
            _move(
                order,
                S.DISPATCHED,
                actor=actor,
                action=EventAction.DECLINED,
                now=now,
                note=note,
                fields=("taken_at", "accept_by"),
            )
        else:
            _event(order, actor=actor, action=EventAction.DECLINED, from_status=order.status, now=now, note=note)
            audit.record(actor=actor, action=AuditAction.ORDER_DECLINED, obj=order, note=note)
    return order


@dataclass
class CompletionInput:
    notes: str
    minutes: int  # minutes each serving volunteer served
    volunteer_ids: list[int] = field(default_factory=list)  # who served; default: the actor themself
    photos: list = field(default_factory=list)


@transaction.atomic
def order_complete(*, actor, order_id: int, data: CompletionInput, now: datetime | None = None) -> Order:
    """The service is done: notes, photos, minutes per serving volunteer, written to the hours ledger."""
    now = _now(now)
    order = _lock(order_id)
    mine = [a for a in _answerable(order, actor) if a.status == AssignmentStatus.ACCEPTED]
    if not mine:
        raise NotFound()
    if order.status != S.TAKEN:
        raise Conflict(_("Only an order in service can be completed."), code=ErrorCode.INVALID_TRANSITION)
    errors: dict[str, list[str]] = {}
    notes = (data.notes or "").strip()
    if not notes:
        errors["notes"] = [_("Say what was done.")]
    try:
        minutes = int(data.minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not (1 <= minutes <= int(rules.rule(order.org, "daily_hours_cap")) * 60):
        errors["minutes"] = [
            _("Minutes served must be between 1 and %(max)d.")
            % {"max": int(rules.rule(order.org, "daily_hours_cap")) * 60}
        ]
    if len(data.photos) > MAX_COMPLETION_PHOTOS:
        errors["photos"] = [_("At most %(n)d photos.") % {"n": MAX_COMPLETION_PHOTOS}]
    # who may be named as serving: members of the teams the actor answers for, the named volunteers who accepted
    team_ids = [a.team_id for a in mine if a.team_id]
    allowed = set(
        TeamMembership.objects.filter(team_id__in=team_ids, status=MembershipStatus.ACTIVE).values_list(
            "volunteer_id", flat=True
        )
    )
    allowed |= {t.leader_id for t in led_teams(actor) if t.pk in team_ids and t.leader_id}
    allowed |= set(
        order.assignments.filter(status=AssignmentStatus.ACCEPTED, volunteer__isnull=False).values_list(
            "volunteer_id", flat=True
        )
    )
    own = volunteer_of(actor)
    ids = [int(v) for v in data.volunteer_ids] or ([own.pk] if own else [])
    if not ids:
        errors["volunteers"] = [_("Name the volunteers who served.")]
    elif any(v not in allowed and not (own and v == own.pk) for v in ids):
        errors["volunteers"] = [_("Name only members of the team or the volunteers on this order.")]
    photos = []
    for upload in data.photos:
        try:
            photos.append(clean_photo(upload, field_name="photos"))
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    servers = list(Volunteer.objects.filter(pk__in=ids))
    for v in servers:
        OrderServer.objects.create(order=order, volunteer=v, minutes=minutes)
        _record_hours(actor=actor, order=order, volunteer=v, minutes=minutes, day=timezone.localdate(now))
    for p in photos:
        photo = OrderPhoto(order=order, uploaded_by=actor)
        photo.image.save(p.name, p, save=True)
    done_from = ASSIGNMENT_TRANSITIONS.sources(AssignmentStatus.DONE)  # the accepted ones
    order.assignments.filter(status__in=done_from).update(status=AssignmentStatus.DONE)
    order.completion_notes = notes
    order.minutes_served = minutes * len(servers)
    order.completed_at = now
    _move(
        order,
        S.COMPLETED,
        actor=actor,
        action=EventAction.COMPLETED,
        now=now,
        note=notes,
        fields=("completion_notes", "minutes_served", "completed_at"),
    )
    return order

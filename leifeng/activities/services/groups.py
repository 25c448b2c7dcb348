"""Groups of a post's confirmed people: build, move a person, set the leader."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from leifeng.activities.codes import AuditAction, ErrorCode
from leifeng.activities.models import (
    Post,
    Signup,
    SignupGroup,
    SignupStatus,
)
from leifeng.activities.services.base import _for_change
from leifeng.core import audit
from leifeng.core.errors import Conflict, NotFound
from leifeng.people.models import PARTY_STATUSES


def _leader_key(s: Signup) -> tuple:
    """Group leader: the first party member by sign-up order, else whoever signed up first."""
    return (0 if s.volunteer.political_status in PARTY_STATUSES else 1, s.created_at, s.pk)


@transaction.atomic
def groups_build(*, actor, post_id: int) -> list[SignupGroup]:
    """Put every confirmed, ungrouped person of a post into a group of at most `group_size`.

    Re-run safe: existing groups and moves made by hand stay; people no longer confirmed leave their
    group; newcomers fill groups with room first, then new groups; a group without a leader gets one.
    """
    p = _for_change(actor, Post, post_id)
    size = p.activity.group_size or 8
    Signup.objects.filter(post=p, group__isnull=False).exclude(status=SignupStatus.CONFIRMED).update(group=None)
    groups = list(SignupGroup.objects.select_for_update().filter(post=p).order_by("number"))
    members = list(
        Signup.objects.filter(post=p, status=SignupStatus.CONFIRMED)
        .select_related("volunteer")
        .order_by("created_at", "pk")
    )
    by_group: dict[int, list[Signup]] = {g.pk: [] for g in groups}
    loose = []
    for s in members:
        by_group.get(s.group_id, loose).append(s)
    for g in groups:
        room = size - len(by_group[g.pk])
        take, loose = loose[: max(room, 0)], loose[max(room, 0) :]
        by_group[g.pk].extend(take)
    number = max((g.number for g in groups), default=0)
    while loose:
        number += 1
        g = SignupGroup.objects.create(post=p, number=number)
        groups.append(g)
        by_group[g.pk], loose = loose[:size], loose[size:]
    for g in groups:
        ids = [s.pk for s in by_group[g.pk]]
        Signup.objects.filter(pk__in=ids).exclude(group=g).update(group=g)
        member_vols = {s.volunteer_id for s in by_group[g.pk]}
        if g.leader_id not in member_vols:
            g.leader = min(by_group[g.pk], key=_leader_key).volunteer if by_group[g.pk] else None
            g.save(update_fields=["leader"])
    empty = [g.pk for g in groups if not by_group[g.pk]]
    SignupGroup.objects.filter(pk__in=empty).delete()
    groups = [g for g in groups if g.pk not in empty]
    audit.record(
        actor=actor,
        action=AuditAction.GROUPS_BUILD,
        obj=p,
        org=p.activity.org,
        note=f"{len(groups)} groups, {len(members)} people",
    )
    return groups


def _group_for_change(actor, group_id) -> SignupGroup:
    row = SignupGroup.objects.filter(pk=group_id).values_list("post_id", flat=True).first() if group_id else None
    if row is None:
        raise NotFound()
    p = _for_change(actor, Post, row)
    g = SignupGroup.objects.select_for_update().get(pk=group_id)
    g.post = p
    return g


@transaction.atomic
def group_move(*, actor, signup_id: int, group_id: int) -> Signup:
    """Move a confirmed person to another group of the same post (with room)."""
    g = _group_for_change(actor, group_id)
    s = Signup.objects.select_related("volunteer", "group").filter(pk=signup_id, post=g.post).first()
    if s is None:
        raise NotFound()
    if s.status != SignupStatus.CONFIRMED:
        raise Conflict(_("Only confirmed people are in groups."), code=ErrorCode.NOT_CONFIRMED)
    if s.group_id == g.pk:
        return s
    if g.members.count() >= g.post.activity.group_size:
        raise Conflict(
            _("Group %(n)s is full (%(size)d people).") % {"n": g, "size": g.post.activity.group_size},
            code=ErrorCode.GROUP_FULL,
        )
    old = s.group
    s.group = g
    s.save(update_fields=["group", "updated_at"])
    if old is not None and old.leader_id == s.volunteer_id:
        old.leader = None
        rest = list(old.members.select_related("volunteer").exclude(pk=s.pk))
        old.leader = min(rest, key=_leader_key).volunteer if rest else None
        old.save(update_fields=["leader"])
    audit.record(
        actor=actor,
        action=AuditAction.GROUP_MOVE,
        obj=s,
        org=g.post.activity.org,
        object_repr=f"{s.volunteer.name} @ {g.post.title}",
        changes={"group": [old.number if old else None, g.number]},
    )
    return s


@transaction.atomic
def group_set_leader(*, actor, group_id: int, volunteer_id: int) -> SignupGroup:
    """Make a member of the group its leader."""
    g = _group_for_change(actor, group_id)
    if not g.members.filter(volunteer_id=volunteer_id, status=SignupStatus.CONFIRMED).exists():
        raise ValidationError({"leader": [_("The group leader must be a member of the group.")]})
    before = audit.snapshot(g, ["leader"])
    g.leader_id = volunteer_id
    g.save(update_fields=["leader"])
    audit.record(
        actor=actor, action=AuditAction.GROUP_SET_LEADER, obj=g, org=g.post.activity.org, changes=audit.diff(before, g)
    )
    return g

"""Writes about teams and memberships (HackSoft services): keyword-only, atomic, validated, audited.

Rules:
  * teams are created and edited by staff with Perm.CHANGE at the team's org;
  * a parent team has a higher level and sits at the same org or an ancestor;
  * groups (小组) hold at most settings.TEAM_GROUP_SIZE_LIMIT members (8 by default, as the seeds ask);
  * a volunteer may join the teams of their station and its ancestors; the leader or deputy
    (or staff with Perm.CHANGE) decides on requests and may add members directly;
  * every status move goes through MEMBERSHIP_TRANSITIONS; members may always leave (DESIGN §4 rule 5);
  * the member limit is checked after SELECT … FOR UPDATE on the team row, so it holds under concurrency.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.accounts.codes import AuditAction as AccountAction
from leifeng.accounts.models import Role, RoleAssignment
from leifeng.core import audit, scope
from leifeng.core.errors import Conflict, NotFound, PermissionDenied, ServiceError
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.codes import AuditAction, ErrorCode
from leifeng.teams.models import (
    MEMBERSHIP_TRANSITIONS,
    TEAM_LEVEL_RANK,
    MembershipStatus,
    Team,
    TeamCategory,
    TeamKind,
    TeamLevel,
    TeamMembership,
)
from leifeng.teams.policy import ancestor_paths, team_policy, volunteer_of

TEAM_FIELDS = ["org", "parent", "name", "level", "category", "kind", "description", "max_members", "is_active"]
MEMBERSHIP_FIELDS = ["status", "decided_by", "reason"]
UNSET = object()


@dataclass
class TeamInput:
    """What creating a team takes; every entry path (form, API) builds one of these."""

    org_id: int
    name: str
    level: str = TeamLevel.SQUADRON
    category: str = TeamCategory.OTHER
    kind: str = TeamKind.OPTIONAL
    parent_id: int | None = None
    description: str = ""
    max_members: int | None = None


def group_limit() -> int:
    return int(settings.TEAM_GROUP_SIZE_LIMIT)


# ---------------------------------------------------------------- teams


def _org_for_change(actor, org_id) -> Org:
    org = Org.objects.filter(pk=org_id).first() if org_id is not None else None
    if org is None or not team_policy.may_place_at(actor, org):
        raise ValidationError({"org": [_("Choose an organization you manage.")]})
    return org


def _validate_team(team: Team, *, active_count: int = 0) -> None:
    """Field rules shared by create and update; raises ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    team.name = (team.name or "").strip()
    if not team.name:
        errors.setdefault("name", []).append(_("Give the team a name."))
    elif len(team.name) > 100:
        errors.setdefault("name", []).append(_("Name is longer than 100 characters."))
    if team.level not in TeamLevel.values:
        errors.setdefault("level", []).append(_("Unknown team level."))
    if team.category not in TeamCategory.values:
        errors.setdefault("category", []).append(_("Unknown category."))
    if team.kind not in TeamKind.values:
        errors.setdefault("kind", []).append(_("Unknown kind of team."))
    if team.level == TeamLevel.GROUP and team.max_members is None:
        team.max_members = group_limit()
    if team.max_members is not None:
        if team.max_members < 1:
            errors.setdefault("max_members", []).append(_("The member limit must be at least 1."))
        elif team.level == TeamLevel.GROUP and team.max_members > group_limit():
            errors.setdefault("max_members", []).append(
                _("A group has at most %(limit)d members.") % {"limit": group_limit()}
            )
        elif team.max_members < active_count:
            errors.setdefault("max_members", []).append(
                _("The team already has %(count)d members; the limit cannot be lower.") % {"count": active_count}
            )
    if team.parent_id is not None:
        parent = Team.objects.select_related("org").filter(pk=team.parent_id).first()
        if parent is None or parent.org.path not in ancestor_paths(team.org.path):
            errors.setdefault("parent", []).append(
                _("The parent team must belong to the same organization or one above it.")
            )
        elif team.level in TeamLevel.values and TEAM_LEVEL_RANK[parent.level] >= TEAM_LEVEL_RANK[team.level]:
            errors.setdefault("parent", []).append(
                _("The parent team must be of a higher level than %(level)s.") % {"level": TeamLevel(team.level).label}
            )
    if team.pk is not None and team.level in TeamLevel.values:
        children = list(Team.objects.filter(parent=team).select_related("org"))
        if any(TEAM_LEVEL_RANK[c.level] <= TEAM_LEVEL_RANK[team.level] for c in children):
            errors.setdefault("level", []).append(_("A sub-team has this level or a higher one."))
        if any(not c.org.path.startswith(team.org.path) for c in children):
            errors.setdefault("org", []).append(_("A sub-team belongs to an organization outside the new one."))
    if team.name and Team.objects.filter(org=team.org, name=team.name).exclude(pk=team.pk).exists():
        errors.setdefault("name", []).append(_("This organization already has a team with this name."))
    if errors:
        raise ValidationError(errors)


def _save(team: Team) -> None:
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ValidationError({"name": [_("This organization already has a team with this name.")]}) from None


@transaction.atomic
def team_create(*, actor, data: TeamInput) -> Team:
    """A new team under an org node the actor manages; groups get the group size limit."""
    org = _org_for_change(actor, data.org_id)
    team = Team(
        org=org,
        parent_id=data.parent_id,
        name=data.name,
        level=data.level,
        category=data.category,
        kind=data.kind,
        description=(data.description or "").strip(),
        max_members=data.max_members,
    )
    _validate_team(team)
    _save(team)
    audit.record(actor=actor, action=AuditAction.TEAM_CREATE, obj=team, changes=audit.snapshot(team, TEAM_FIELDS))
    return team


def _team_for_update(actor, team_id, *, perm_change: bool = False) -> Team:
    """The team row locked for this transaction; 404 when the actor may not see it."""
    visible = team_policy.visible(actor).filter(pk=team_id)
    try:
        team = (
            Team.objects.select_for_update(of=("self",))
            .select_related("org", "leader", "deputy")
            .get(pk__in=visible.values("pk"))
        )
    except (Team.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    if perm_change and not team_policy.may_change(actor, team):
        raise PermissionDenied(_("Only staff of this organization may change the team."))
    return team


def _active_count(team: Team) -> int:
    return TeamMembership.objects.filter(team=team, status=MembershipStatus.ACTIVE).count()


@transaction.atomic
def team_update(*, actor, team_id: int, **changes) -> Team:
    """Change some fields of a team: org, parent, name, level, category, kind, description, max_members, is_active."""
    team = _team_for_update(actor, team_id, perm_change=True)
    before = audit.snapshot(team, TEAM_FIELDS)
    unknown = set(changes) - {f if f not in ("org", "parent") else f + "_id" for f in TEAM_FIELDS}
    if unknown:
        raise ServiceError(_("Unknown fields: %s") % ", ".join(sorted(unknown)), code=ErrorCode.UNKNOWN_FIELD)
    empty = sorted(
        k for k in ("org_id", "name", "level", "category", "kind", "is_active") if k in changes and changes[k] is None
    )
    if empty:
        raise ValidationError({k: [_("This field cannot be empty.")] for k in empty})
    if "org_id" in changes and changes["org_id"] != team.org_id:
        team.org = _org_for_change(actor, changes.pop("org_id"))
    changes.pop("org_id", None)
    if "description" in changes:
        changes["description"] = (changes["description"] or "").strip()
    for name, value in changes.items():
        setattr(team, name, value)
    _validate_team(team, active_count=_active_count(team))
    _save(team)
    audit.record(actor=actor, action=AuditAction.TEAM_UPDATE, obj=team, changes=audit.diff(before, team))
    return team


def _eligible_volunteer(team: Team, volunteer: Volunteer, field: str) -> None:
    """A member must be approved and registered at the team's org or below it."""
    if volunteer.status != VolunteerStatus.APPROVED:
        raise ServiceError(
            _("%(name)s is not an approved volunteer.") % {"name": volunteer.name},
            code=ErrorCode.NOT_APPROVED,
            field=field,
        )
    if not team_policy.takes(team, volunteer):
        raise ServiceError(
            _("%(name)s is registered outside %(org)s.") % {"name": volunteer.name, "org": team.org.name},
            code=ErrorCode.OUTSIDE_TEAM_ORG,
            field=field,
        )


def _check_room(team: Team, adding: int) -> None:
    """Call with the team row locked: the count happens after the lock, so concurrent joins queue."""
    if team.max_members is None or adding <= 0:
        return
    active = _active_count(team)
    if active + adding > team.max_members:
        raise Conflict(
            _("The team is full: %(limit)d members at most, %(active)d already.")
            % {"limit": team.max_members, "active": active},
            code=ErrorCode.TEAM_FULL,
        )


def _move(membership: TeamMembership, to: str) -> None:
    """The one place a membership changes status: through MEMBERSHIP_TRANSITIONS, which refuses other moves."""
    MEMBERSHIP_TRANSITIONS.move(membership, to)


def _make_active(*, actor, team: Team, volunteer: Volunteer, action: AuditAction, note: str = "") -> TeamMembership:
    """Make one volunteer an active member (room already checked); returns the row."""
    m = TeamMembership.objects.select_for_update().filter(team=team, volunteer=volunteer).first()
    now = timezone.now()
    if m is None:
        m = TeamMembership.objects.create(
            team=team, volunteer=volunteer, status=MembershipStatus.ACTIVE, decided_at=now, decided_by=actor
        )
        audit.record(actor=actor, action=action, obj=m, org=team.org, changes={"status": [None, m.status]}, note=note)
        return m
    if m.status == MembershipStatus.ACTIVE:
        return m
    before = audit.snapshot(m, MEMBERSHIP_FIELDS)
    _move(m, MembershipStatus.ACTIVE)
    m.decided_at, m.decided_by, m.reason = now, actor, ""
    m.save(update_fields=["status", "decided_at", "decided_by", "reason", "updated_at"])
    audit.record(actor=actor, action=action, obj=m, org=team.org, changes=audit.diff(before, m), note=note)
    return m


def _grant_team_leader(actor, team: Team, volunteer: Volunteer) -> None:
    if volunteer.user_id is None:
        return
    _, created = RoleAssignment.objects.get_or_create(user_id=volunteer.user_id, role=Role.TEAM_LEADER, org=team.org)
    if created:
        audit.record(
            actor=actor,
            action=AccountAction.ROLE_GRANT,
            object_type="accounts.roleassignment",
            object_id=str(volunteer.user_id),
            object_repr=f"{volunteer.name} · {Role.TEAM_LEADER.label} @ {team.org.name}",
            org=team.org,
            note=f"team {team.pk}",
        )


def _findable_volunteers(actor, team: Team):
    """Volunteers the actor may name for this team (team_policy.findable_volunteers), with their stations."""
    return team_policy.findable_volunteers(actor, team, Volunteer.objects.select_related("org"))


def _volunteer_by_number(actor, team: Team, number, field: str) -> Volunteer | None:
    if number in (None, ""):
        return None
    v = _findable_volunteers(actor, team).filter(number=str(number).strip().upper()).first()
    if v is None:
        raise ValidationError({field: [_("No volunteer with number %(number)s.") % {"number": number}]})
    return v


@transaction.atomic
def team_set_leaders(*, actor, team_id: int, leader=UNSET, deputy=UNSET) -> Team:
    """Appoint the leader and deputy (volunteer numbers, None to clear). They become active members;
    the leader's account gets the team_leader role at the team's org."""
    team = _team_for_update(actor, team_id, perm_change=True)
    before = audit.snapshot(team, ["leader", "deputy"])
    new_leader = team.leader if leader is UNSET else _volunteer_by_number(actor, team, leader, "leader")
    new_deputy = team.deputy if deputy is UNSET else _volunteer_by_number(actor, team, deputy, "deputy")
    if new_leader is not None and new_deputy is not None and new_leader.pk == new_deputy.pk:
        raise ValidationError({"deputy": [_("The deputy must be someone other than the leader.")]})
    newcomers = []
    for field, v in (("leader", new_leader), ("deputy", new_deputy)):
        if v is None:
            continue
        if v.pk != before[field]:
            _eligible_volunteer(team, v, field)
        is_member = TeamMembership.objects.filter(team=team, volunteer=v, status=MembershipStatus.ACTIVE).exists()
        if not is_member:
            newcomers.append(v)
    _check_room(team, len(newcomers))
    for v in newcomers:
        _make_active(actor=actor, team=team, volunteer=v, action=AuditAction.MEMBERSHIP_ADD, note="appointed")
    team.leader, team.deputy = new_leader, new_deputy
    team.save(update_fields=["leader", "deputy", "updated_at"])
    if new_leader is not None:
        _grant_team_leader(actor, team, new_leader)
        if new_leader.user_id == getattr(actor, "pk", None):
            scope.forget(actor)
    audit.record(actor=actor, action=AuditAction.TEAM_SET_LEADERS, obj=team, changes=audit.diff(before, team))
    return team


# ---------------------------------------------------------------- memberships


def _decider_team(actor, team_id) -> Team:
    team = _team_for_update(actor, team_id)
    if not team_policy.may_decide(actor, team):
        raise PermissionDenied(_("Only the team's leader, deputy or staff may do this."))
    return team


def _membership_of(team: Team, membership_id) -> TeamMembership:
    try:
        return TeamMembership.objects.select_for_update().select_related("volunteer").get(pk=membership_id, team=team)
    except (TeamMembership.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None


@transaction.atomic
def membership_request(*, actor, team_id: int, message: str = "") -> TeamMembership:
    """The acting volunteer asks to join a team of their station or one above it."""
    volunteer = volunteer_of(actor)
    team = _team_for_update(actor, team_id)
    if volunteer is None:
        raise ServiceError(_("Only registered volunteers can ask to join a team."), code=ErrorCode.NOT_A_VOLUNTEER)
    if volunteer.status != VolunteerStatus.APPROVED:
        raise ServiceError(
            _("Your registration has not been approved yet, so you cannot join a team."), code=ErrorCode.NOT_APPROVED
        )
    if not team.is_active:
        raise ServiceError(_("This team no longer takes members."), code=ErrorCode.TEAM_INACTIVE)
    if not team_policy.at_or_above(team, volunteer):
        raise ServiceError(
            _("This team takes volunteers registered at %(org)s or below it.") % {"org": team.org.name},
            code=ErrorCode.OUTSIDE_TEAM_ORG,
        )
    message = (message or "").strip()[:300]
    m = TeamMembership.objects.select_for_update().filter(team=team, volunteer=volunteer).first()
    if m is not None and m.status == MembershipStatus.PENDING:
        raise Conflict(
            _("You have already asked to join this team; the leader has not answered yet."),
            code=ErrorCode.ALREADY_REQUESTED,
        )
    if m is not None and m.status == MembershipStatus.ACTIVE:
        raise Conflict(_("You are already a member of this team."), code=ErrorCode.ALREADY_MEMBER)
    if team.max_members is not None and _active_count(team) >= team.max_members:
        raise Conflict(
            _("The team is full (%(limit)d members); ask again when someone leaves.") % {"limit": team.max_members},
            code=ErrorCode.TEAM_FULL,
        )
    if m is None:
        m = TeamMembership.objects.create(team=team, volunteer=volunteer, message=message)
        audit.record(
            actor=actor,
            action=AuditAction.MEMBERSHIP_REQUEST,
            obj=m,
            org=team.org,
            changes={"status": [None, m.status]},
        )
        return m
    before = audit.snapshot(m, MEMBERSHIP_FIELDS)
    _move(m, MembershipStatus.PENDING)
    m.message, m.reason, m.decided_at, m.decided_by = message, "", None, None
    m.save(update_fields=["status", "message", "reason", "decided_at", "decided_by", "updated_at"])
    audit.record(actor=actor, action=AuditAction.MEMBERSHIP_REQUEST, obj=m, org=team.org, changes=audit.diff(before, m))
    return m


@transaction.atomic
def membership_approve(*, actor, team_id: int, membership_id: int) -> TeamMembership:
    """The leader, deputy or staff accepts a request; refused when the team is full."""
    team = _decider_team(actor, team_id)
    m = _membership_of(team, membership_id)
    if m.status != MembershipStatus.PENDING:
        raise Conflict(_("There is no open request to approve."), code=ErrorCode.NOT_PENDING)
    _check_room(team, 1)
    return _make_active(actor=actor, team=team, volunteer=m.volunteer, action=AuditAction.MEMBERSHIP_APPROVE)


@transaction.atomic
def membership_reject(*, actor, team_id: int, membership_id: int, reason: str) -> TeamMembership:
    """The leader, deputy or staff declines a request, saying why (the volunteer sees the reason)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the request is declined.")]})
    team = _decider_team(actor, team_id)
    m = _membership_of(team, membership_id)
    before = audit.snapshot(m, MEMBERSHIP_FIELDS)
    if m.status != MembershipStatus.PENDING:
        raise Conflict(_("There is no open request to decline."), code=ErrorCode.NOT_PENDING)
    _move(m, MembershipStatus.REJECTED)
    m.reason, m.decided_at, m.decided_by = reason[:300], timezone.now(), actor
    m.save(update_fields=["status", "reason", "decided_at", "decided_by", "updated_at"])
    audit.record(actor=actor, action=AuditAction.MEMBERSHIP_REJECT, obj=m, org=team.org, changes=audit.diff(before, m))
    return m


@transaction.atomic
def membership_add(*, actor, team_id: int, numbers: list[str]) -> list[TeamMembership]:
    """The leader, deputy or staff adds approved volunteers (by number) directly: all or nothing.

    Those already members are left as they are; open requests become memberships.
    """
    team = _decider_team(actor, team_id)
    if not team.is_active:
        raise ServiceError(_("This team no longer takes members."), code=ErrorCode.TEAM_INACTIVE)
    wanted = list(dict.fromkeys(str(n).strip().upper() for n in numbers if n and str(n).strip()))
    if not wanted:
        raise ValidationError({"numbers": [_("Give at least one volunteer number.")]})
    found = {v.number: v for v in _findable_volunteers(actor, team).filter(number__in=wanted)}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise ValidationError({"numbers": [_("No volunteer with number %(number)s.") % {"number": ", ".join(missing)}]})
    for v in found.values():
        _eligible_volunteer(team, v, "numbers")
    active = set(
        TeamMembership.objects.filter(
            team=team, volunteer__in=found.values(), status=MembershipStatus.ACTIVE
        ).values_list("volunteer_id", flat=True)
    )
    _check_room(team, sum(1 for v in found.values() if v.pk not in active))
    return [_make_active(actor=actor, team=team, volunteer=found[n], action=AuditAction.MEMBERSHIP_ADD) for n in wanted]


def _step_down(actor, team: Team, volunteer: Volunteer) -> None:
    """Someone who leaves a team also stops leading it."""
    before = audit.snapshot(team, ["leader", "deputy"])
    if team.leader_id == volunteer.pk:
        team.leader = None
    if team.deputy_id == volunteer.pk:
        team.deputy = None
    changes = audit.diff(before, team)
    if changes:
        team.save(update_fields=["leader", "deputy", "updated_at"])
        audit.record(actor=actor, action=AuditAction.TEAM_SET_LEADERS, obj=team, changes=changes, note="left the team")


@transaction.atomic
def membership_remove(*, actor, team_id: int, membership_id: int, reason: str = "") -> TeamMembership:
    """The leader, deputy or staff takes a member off the roster."""
    team = _decider_team(actor, team_id)
    m = _membership_of(team, membership_id)
    before = audit.snapshot(m, MEMBERSHIP_FIELDS)
    if m.status != MembershipStatus.ACTIVE:
        raise Conflict(_("This volunteer is not a member of the team."), code=ErrorCode.NOT_MEMBER)
    _move(m, MembershipStatus.LEFT)
    m.reason, m.decided_at, m.decided_by = (reason or "").strip()[:300], timezone.now(), actor
    m.save(update_fields=["status", "reason", "decided_at", "decided_by", "updated_at"])
    audit.record(actor=actor, action=AuditAction.MEMBERSHIP_REMOVE, obj=m, org=team.org, changes=audit.diff(before, m))
    _step_down(actor, team, m.volunteer)
    return m


@transaction.atomic
def membership_leave(*, actor, team_id: int) -> TeamMembership:
    """The acting volunteer leaves a team or withdraws their request: always allowed (条例 Art. 25)."""
    volunteer = volunteer_of(actor)
    team = _team_for_update(actor, team_id)
    m = None
    if volunteer is not None:
        m = TeamMembership.objects.select_for_update().filter(team=team, volunteer=volunteer).first()
    if m is None or m.status not in (MembershipStatus.ACTIVE, MembershipStatus.PENDING):
        raise Conflict(_("You are not a member of this team."), code=ErrorCode.NOT_MEMBER)
    before = audit.snapshot(m, MEMBERSHIP_FIELDS)
    action = AuditAction.MEMBERSHIP_LEAVE if m.status == MembershipStatus.ACTIVE else AuditAction.MEMBERSHIP_WITHDRAW
    _move(m, MembershipStatus.LEFT)
    m.decided_at, m.decided_by = timezone.now(), actor
    m.save(update_fields=["status", "decided_at", "decided_by", "updated_at"])
    audit.record(actor=actor, action=action, obj=m, org=team.org, changes=audit.diff(before, m))
    _step_down(actor, team, volunteer)
    return m

"""Reads about teams, always scoped to the actor (leifeng.core.scope).

Who sees a team:
  * staff with Perm.VIEW at the team's org (or above it);
  * its leader and deputy, and anyone with a membership row in it (requested, member, left …);
  * a volunteer whose station lies in the team's subtree, while the team is active: the teams of
    their station and its ancestors are the ones they may join.
Anything else answers 404, exactly like a team that does not exist.
"""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from leifeng.core import scope
from leifeng.core.scope import Perm
from leifeng.orgs import policy as org_policy
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.people.selectors import search_q
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamKind, TeamLevel, TeamMembership

ORG_STEPLEN = 4  # leifeng.orgs.models.Org.steplen: every path prefix of this length is an ancestor


@dataclass
class TeamFilters:
    """What the list page and the list API filter by (same meaning in both)."""

    q: str = ""  # part of the team's name
    org_id: int | None = None  # this node and its subtree
    level: str = ""
    category: str = ""
    kind: str = ""

    @classmethod
    def from_params(cls, params) -> "TeamFilters":
        """From a GET QueryDict or dict; unknown values are ignored, never an error page."""
        org_raw = str(params.get("org") or "").strip()
        level = str(params.get("level") or "").strip()
        category = str(params.get("category") or "").strip()
        kind = str(params.get("kind") or "").strip()
        return cls(
            q=str(params.get("q") or "").strip(),
            org_id=int(org_raw) if org_raw.isdigit() else None,
            level=level if level in TeamLevel.values else "",
            category=category if category in TeamCategory.values else "",
            kind=kind if kind in TeamKind.values else "",
        )


def volunteer_of(actor) -> Volunteer | None:
    """The actor's own volunteer profile (with its station), loaded once per actor object."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if not hasattr(actor, "_leifeng_volunteer"):
        volunteer = Volunteer.objects.select_related("org").filter(user=actor).first()
        actor._leifeng_volunteer = volunteer
        # prime Django's reverse one-to-one cache, so `user.volunteer` (the menu asks) costs no query
        Volunteer.user.field.remote_field.set_cached_value(actor, volunteer)
    return actor._leifeng_volunteer


def ancestor_paths(path: str) -> list[str]:
    """The paths of a node and all its ancestors (materialized path prefixes)."""
    return [path[:i] for i in range(ORG_STEPLEN, len(path) + 1, ORG_STEPLEN)]


def _count(status: str):
    """Members of one status per team, as a correlated subquery (no GROUP BY over the joined row)."""
    rows = (
        TeamMembership.objects.filter(team=OuterRef("pk"), status=status)
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_counts(qs: QuerySet[Team]) -> QuerySet[Team]:
    return qs.annotate(active_count=_count(MembershipStatus.ACTIVE), pending_count=_count(MembershipStatus.PENDING))


def leads_q(actor, prefix: str = "") -> Q:
    """Teams the actor leads or deputizes, through their volunteer account."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    return Q(**{f"{prefix}leader__user_id": actor.pk}) | Q(**{f"{prefix}deputy__user_id": actor.pk})


def joinable_q(volunteer: Volunteer | None) -> Q:
    """Active teams at the volunteer's station or one of its ancestors."""
    if volunteer is None or volunteer.status != VolunteerStatus.APPROVED:
        return Q(pk__in=[])
    return Q(is_active=True, org__path__in=ancestor_paths(volunteer.org.path))


def visible_q(actor) -> Q:
    """Every team the actor may open (see the module docstring)."""
    volunteer = volunteer_of(actor)
    cond = scope.q(actor, Perm.VIEW) | leads_q(actor) | joinable_q(volunteer)
    if volunteer is not None:
        cond |= Q(Exists(TeamMembership.objects.filter(team=OuterRef("pk"), volunteer=volunteer)))
    return cond


def _base() -> QuerySet[Team]:
    return Team.objects.select_related("org", "parent", "leader", "deputy")


def team_list(*, actor, filters: TeamFilters | None = None) -> QuerySet[Team]:
    """Teams in the actor's subtree plus the teams they lead, with member and request counts."""
    f = filters or TeamFilters()
    qs = with_counts(_base().filter(scope.q(actor, Perm.VIEW) | leads_q(actor)))
    if f.q:
        qs = qs.filter(name__contains=f.q)
    if f.org_id is not None:
        node = org_policy.orgs(actor).filter(pk=f.org_id).values_list("path", flat=True).first()
        qs = qs.filter(org__path__startswith=node) if node else qs.none()
    if f.level:
        qs = qs.filter(level=f.level)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    return qs.order_by("org__path", "name", "pk")


def team_get(*, actor, team_id) -> Team:
    """One team the actor may see, with its counts; 404 when missing or out of sight."""
    try:
        return with_counts(_base()).filter(visible_q(actor)).get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass(frozen=True)
class TeamAccess:
    """What the actor may do with one team; computed once per request from loaded rows."""

    view_roster: bool  # names of the members
    view_contacts: bool  # phone numbers and pending requests
    decide: bool  # approve, reject, add, remove
    change: bool  # edit the team, set leader and deputy
    membership: TeamMembership | None  # the actor's own row, if any
    may_request: bool  # a "request to join" button makes sense


def is_leader(actor, team: Team) -> bool:
    uid = getattr(actor, "pk", None)
    return uid is not None and uid in {
        team.leader.user_id if team.leader else None,
        team.deputy.user_id if team.deputy else None,
    }


def team_access(*, actor, team: Team) -> TeamAccess:
    change = scope.allows(actor, Perm.CHANGE, team.org)
    view = scope.allows(actor, Perm.VIEW, team.org)
    leads = is_leader(actor, team)
    volunteer = volunteer_of(actor)
    membership = None
    if volunteer is not None:
        membership = TeamMembership.objects.filter(team=team, volunteer=volunteer).first()
    active = membership is not None and membership.status == MembershipStatus.ACTIVE
    pending = membership is not None and membership.status == MembershipStatus.PENDING
    may_request = (
        volunteer is not None
        and not active
        and not pending
        and team.is_active
        and volunteer.status == VolunteerStatus.APPROVED
        and team.org.path in ancestor_paths(volunteer.org.path)
    )
    return TeamAccess(
        view_roster=view or leads or active or change,
        view_contacts=view or leads or change,
        decide=change or leads,
        change=change,
        membership=membership,
        may_request=may_request,
    )


def team_roster(*, actor, team: Team) -> QuerySet[TeamMembership]:
    """Active members with their volunteer rows: leader, deputy, then by joining order."""
    access = team_access(actor=actor, team=team)
    if not access.view_roster:
        return TeamMembership.objects.none()
    return (
        TeamMembership.objects.filter(team=team, status=MembershipStatus.ACTIVE)
        .select_related("volunteer")
        .order_by("decided_at", "pk")
    )


def team_memberships(*, actor, team: Team, status: str = MembershipStatus.ACTIVE) -> QuerySet[TeamMembership]:
    """Memberships of one status for the API; other than the roster only for those who see contacts."""
    access = team_access(actor=actor, team=team)
    allowed = access.view_contacts if status != MembershipStatus.ACTIVE else access.view_roster
    if not allowed:
        return TeamMembership.objects.none()
    return TeamMembership.objects.filter(team=team, status=status).select_related("volunteer").order_by("pk")


def _decidable_teams_q(actor) -> Q:
    return scope.q(actor, Perm.CHANGE, field="team__org") | leads_q(actor, prefix="team__")


def pending_requests(*, actor, team: Team | None = None) -> QuerySet[TeamMembership]:
    """Join requests waiting for this actor: of teams they lead, or of teams they may change."""
    qs = TeamMembership.objects.filter(_decidable_teams_q(actor), status=MembershipStatus.PENDING)
    if team is not None:
        qs = qs.filter(team=team)
    return qs.select_related("volunteer", "team", "team__org").order_by("pk")


def my_teams(*, actor) -> QuerySet[TeamMembership]:
    """The actor's own memberships and open requests, newest first."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return TeamMembership.objects.none()
    return (
        TeamMembership.objects.filter(
            volunteer=volunteer, status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING]
        )
        .select_related("team", "team__org", "team__leader")
        .order_by("-pk")
    )


def joinable_teams(*, actor) -> QuerySet[Team]:
    """Teams of the volunteer's station and its ancestors they are not in and have not asked to join."""
    volunteer = volunteer_of(actor)
    if volunteer is None:
        return Team.objects.none()
    taken = TeamMembership.objects.filter(
        team=OuterRef("pk"), volunteer=volunteer, status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING]
    )
    return (
        with_counts(_base().filter(joinable_q(volunteer)))
        .exclude(Exists(taken))
        .order_by("-org__depth", "org__path", "name", "pk")
    )


def team_candidates(*, actor, team: Team, term: str, limit: int = 20) -> list[Volunteer]:
    """Approved volunteers the actor could add to this team, found by name, pinyin initials or number.

    Candidates live in the team's subtree (the same rule as joining). Staff search within their own
    scope as well; a leader without a staff role searches the team's subtree.
    """
    term = (term or "").strip()
    if not term:
        return []
    qs = Volunteer.objects.filter(status=VolunteerStatus.APPROVED, org__path__startswith=team.org.path)
    if not is_leader(actor, team):
        qs = scope.scoped(qs, actor, Perm.VIEW)
    taken = TeamMembership.objects.filter(
        team=team, volunteer=OuterRef("pk"), status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING]
    )
    return list(qs.filter(search_q(term)).exclude(Exists(taken)).select_related("org").order_by("name", "pk")[:limit])


def parent_choices(*, actor) -> QuerySet[Team]:
    """Teams that could be a parent for a team the actor creates: in their CHANGE subtree or above it."""
    roots = scope.paths(actor, Perm.CHANGE)
    qs = Team.objects.exclude(level=TeamLevel.GROUP).select_related("org")
    if roots is not None:
        above = sorted({p for root in roots for p in ancestor_paths(root)})
        qs = qs.filter(scope.q(actor, Perm.CHANGE) | Q(org__path__in=above))
    return qs.order_by("org__path", "name")

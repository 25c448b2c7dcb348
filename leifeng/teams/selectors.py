"""Reads about teams, always asking `teams.policy.team_policy` who may see what (the rules are written there)."""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from leifeng.orgs import policy as org_policy
from leifeng.people.models import Volunteer
from leifeng.people.selectors import search_q
from leifeng.teams import policy
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamKind, TeamLevel, TeamMembership
from leifeng.teams.policy import TeamAccess, team_policy, volunteer_of


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


# The policy's rules under the names other apps import (activities, orders, hours): one copy, in policy.py.
ancestor_paths = policy.ancestor_paths
leads_q = team_policy.leads_q
joinable_q = team_policy.joinable_q
visible_q = team_policy.visible_q
is_leader = team_policy.is_leader


def _base() -> QuerySet[Team]:
    return Team.objects.select_related("org", "parent", "leader", "deputy")


def team_list(*, actor, filters: TeamFilters | None = None) -> QuerySet[Team]:
    """Teams in the actor's subtree plus the teams they lead, with member and request counts."""
    f = filters or TeamFilters()
    qs = with_counts(_base().filter(team_policy.listed_q(actor)))
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
        return team_policy.visible(actor, qs=with_counts(_base())).get(pk=team_id)
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def team_access(*, actor, team: Team) -> TeamAccess:
    return team_policy.access(actor, team)


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


def pending_requests(*, actor, team: Team | None = None) -> QuerySet[TeamMembership]:
    """Join requests waiting for this actor: of teams they lead, or of teams they may change."""
    qs = TeamMembership.objects.filter(team_policy.decidable_q(actor), status=MembershipStatus.PENDING)
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
        with_counts(_base().filter(team_policy.joinable_q(volunteer)))
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
    qs = team_policy.candidates(actor, team)
    taken = TeamMembership.objects.filter(
        team=team, volunteer=OuterRef("pk"), status__in=[MembershipStatus.ACTIVE, MembershipStatus.PENDING]
    )
    return list(qs.filter(search_q(term)).exclude(Exists(taken)).select_related("org").order_by("name", "pk")[:limit])


def parent_choices(*, actor) -> QuerySet[Team]:
    """Teams that could be a parent for a team the actor creates: in their CHANGE subtree or above it."""
    return team_policy.parent_choices(actor).select_related("org").order_by("org__path", "name")

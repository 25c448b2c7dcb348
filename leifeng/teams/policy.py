"""Who may see, join and run which teams (Wagtail's permission policies, built on `core.scope`).

Each rule is written once, here; selectors, services, views and the API ask `team_policy`:

Who sees a team (`visible_q`):
  * staff with Perm.VIEW at the team's org (or above it);
  * its leader and deputy, and anyone with a membership row in it (requested, member, left …);
  * a volunteer whose station lies in the team's subtree, while the team is active: the teams of
    their station and its ancestors are the ones they may join (`joinable_q`, `may_join`).
Anything else answers 404, exactly like a team that does not exist.

Who runs it: staff with Perm.CHANGE at its org change it; they and its leader and deputy decide on requests
(`may_decide`), and find volunteers to add among those the team may take (`findable_volunteers`).
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from leifeng.core import scope
from leifeng.core.policy import ModelPolicy
from leifeng.core.scope import Perm
from leifeng.orgs.policy import orgs
from leifeng.people.models import Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamLevel, TeamMembership

ORG_STEPLEN = 4  # leifeng.orgs.models.Org.steplen: every path prefix of this length is an ancestor


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


@dataclass(frozen=True)
class TeamAccess:
    """What the actor may do with one team; computed once per request from loaded rows."""

    view_roster: bool  # names of the members
    view_contacts: bool  # phone numbers and pending requests
    decide: bool  # approve, reject, add, remove
    change: bool  # edit the team, set leader and deputy
    membership: TeamMembership | None  # the actor's own row, if any
    may_request: bool  # a "request to join" button makes sense


class TeamPolicy(ModelPolicy):
    model = Team
    org_field = "org"

    # --- leading --------------------------------------------------------------------------------

    def leads_q(self, actor, prefix: str = "") -> Q:
        """Teams the actor leads or deputizes, through their volunteer account."""
        if actor is None or not getattr(actor, "is_authenticated", False):
            return Q(pk__in=[])
        return Q(**{f"{prefix}leader__user_id": actor.pk}) | Q(**{f"{prefix}deputy__user_id": actor.pk})

    def is_leader(self, actor, team: Team) -> bool:
        uid = getattr(actor, "pk", None)
        return uid is not None and uid in {
            team.leader.user_id if team.leader else None,
            team.deputy.user_id if team.deputy else None,
        }

    # --- joining --------------------------------------------------------------------------------

    def joinable_q(self, volunteer: Volunteer | None) -> Q:
        """Active teams at the volunteer's station or one of its ancestors."""
        if volunteer is None or volunteer.status != VolunteerStatus.APPROVED:
            return Q(pk__in=[])
        return Q(is_active=True, org__path__in=ancestor_paths(volunteer.org.path))

    def at_or_above(self, team: Team, volunteer: Volunteer) -> bool:
        """Does the team sit at the volunteer's station or above it (the teams a volunteer may join)?"""
        return team.org.path in ancestor_paths(volunteer.org.path)

    def takes(self, team: Team, volunteer: Volunteer) -> bool:
        """Is the volunteer registered at the team's org or below it (whom a leader or staff may add)?"""
        return volunteer.org.path.startswith(team.org.path)

    def may_join(self, volunteer: Volunteer | None, team: Team) -> bool:
        """`joinable_q` for one loaded team (the membership itself is checked by the caller)."""
        return (
            volunteer is not None
            and team.is_active
            and volunteer.status == VolunteerStatus.APPROVED
            and self.at_or_above(team, volunteer)
        )

    # --- seeing ---------------------------------------------------------------------------------

    def visible_q(self, actor) -> Q:
        """Every team the actor may open (see the module docstring)."""
        volunteer = volunteer_of(actor)
        cond = scope.q(actor, Perm.VIEW) | self.leads_q(actor) | self.joinable_q(volunteer)
        if volunteer is not None:
            cond |= Q(Exists(TeamMembership.objects.filter(team=OuterRef("pk"), volunteer=volunteer)))
        return cond

    def listed_q(self, actor) -> Q:
        """What the team list shows: the actor's subtree plus the teams they lead."""
        return scope.q(actor, Perm.VIEW) | self.leads_q(actor)

    def visible(self, actor, perm: Perm = Perm.VIEW, qs: QuerySet | None = None) -> QuerySet:
        """Perm.VIEW: every team the actor may open; another `perm`: the org scope of that permission."""
        if perm != Perm.VIEW:
            return super().visible(actor, perm, qs)
        return (self.queryset() if qs is None else qs).filter(self.visible_q(actor))

    def filter_orgs(self, actor):
        """The org nodes the team list may be narrowed to: the actor's VIEW scope (none for a volunteer)."""
        return orgs(actor).order_by("path") if scope.has_any(actor, Perm.VIEW) else []

    # --- running --------------------------------------------------------------------------------

    def may_create(self, actor) -> bool:
        """Staff with Perm.CHANGE somewhere create teams (at nodes of that scope)."""
        return scope.has_any(actor, Perm.CHANGE)

    def homes(self, actor) -> QuerySet:
        """The org nodes where the actor may create a team or move one to: their Perm.CHANGE scope."""
        return orgs(actor, Perm.CHANGE)

    def may_place_at(self, actor, org) -> bool:
        """`homes` for one node."""
        return scope.allows(actor, Perm.CHANGE, org)

    def may_change(self, actor, team: Team) -> bool:
        return self.allows(actor, Perm.CHANGE, team)

    def may_decide(self, actor, team: Team) -> bool:
        """Approve, reject, add and remove members: the team's staff, leader or deputy."""
        return self.may_change(actor, team) or self.is_leader(actor, team)

    def decidable_q(self, actor, prefix: str = "team__") -> Q:
        """`may_decide` as a filter (over memberships by default: the requests waiting for this actor)."""
        return scope.q(actor, Perm.CHANGE, field=f"{prefix}org") | self.leads_q(actor, prefix=prefix)

    def access(self, actor, team: Team) -> TeamAccess:
        change = self.may_change(actor, team)
        view = self.allows(actor, Perm.VIEW, team)
        leads = self.is_leader(actor, team)
        volunteer = volunteer_of(actor)
        membership = None
        if volunteer is not None:
            membership = TeamMembership.objects.filter(team=team, volunteer=volunteer).first()
        active = membership is not None and membership.status == MembershipStatus.ACTIVE
        pending = membership is not None and membership.status == MembershipStatus.PENDING
        return TeamAccess(
            view_roster=view or leads or active or change,
            view_contacts=view or leads or change,
            decide=change or leads,
            change=change,
            membership=membership,
            may_request=not active and not pending and self.may_join(volunteer, team),
        )

    def findable_volunteers(self, actor, team: Team, qs: QuerySet[Volunteer] | None = None) -> QuerySet[Volunteer]:
        """Volunteers the actor may name for this team: for its leader and deputy, those of the team's subtree;
        for staff, those of their own scope. Anyone else looks like a wrong number."""
        qs = Volunteer.objects.all() if qs is None else qs
        if self.is_leader(actor, team):
            return qs.filter(org__path__startswith=team.org.path)
        return scope.scoped(qs, actor, Perm.VIEW)

    def candidates(self, actor, team: Team) -> QuerySet[Volunteer]:
        """Who could be added: approved, in the team's subtree (the rule of joining) and findable by the actor."""
        qs = Volunteer.objects.filter(status=VolunteerStatus.APPROVED, org__path__startswith=team.org.path)
        return self.findable_volunteers(actor, team, qs)  # the query form of `takes`

    def parent_choices(self, actor) -> QuerySet[Team]:
        """Teams that could be a parent for a team the actor creates: in their CHANGE subtree or above it."""
        roots = scope.paths(actor, Perm.CHANGE)
        qs = Team.objects.exclude(level=TeamLevel.GROUP)
        if roots is not None:
            above = sorted({p for root in roots for p in ancestor_paths(root)})
            qs = qs.filter(scope.q(actor, Perm.CHANGE) | Q(org__path__in=above))
        return qs


team_policy = TeamPolicy()

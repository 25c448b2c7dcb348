"""Who may see and change campaigns, activities, posts, sign-ups and groups (built on `core.policy`).

Staff: Perm.VIEW / Perm.CHANGE at the node an object hangs on (or above it): `activity_policy.allows(actor,
Perm.CHANGE, activity)`, `post_policy.get_or_404(actor, pk=...)`, `activity_policy.visible(actor)`.

Volunteers — the rule written once, here:
  * an activity's *place* reaches a volunteer when its visibility is "subtree" and its node is their station
    or a node above it (`reaches`); a "teams" activity reaches the active members of the teams it lists;
  * they see it once it is published (or running, or finished): `SEEN_BY_VOLUNTEERS`; they may sign up
    while it is published or running: `OPEN_FOR_SIGNUP`;
  * anyone who holds or held a sign-up for an activity sees it.
`visible_q(actor)` is the whole rule as a filter. The hot paths (the activity page, the sign-up and its burst
path in fast.py) decide on values they already fetched with `reaches` / `volunteer_may_see` / `may_open`, which
evaluate the same rule in Python: tests/test_policy.py checks every evaluation against the filter.

Campaigns are seen by staff of their subtree and of the nodes below them (the county's plan reaches every
station that carries it out) and by volunteers of a station below them.
"""

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leifeng.activities.models import (
    Activity,
    ActivityStatus,
    Campaign,
    Post,
    Signup,
    SignupGroup,
    Visibility,
)
from leifeng.core import scope
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.policy import ModelPolicy
from leifeng.core.roles import Perm
from leifeng.teams.models import MembershipStatus, Team, TeamMembership
from leifeng.teams.selectors import ancestor_paths, is_leader, volunteer_of

SEEN_BY_VOLUNTEERS = (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED)
OPEN_FOR_SIGNUP = (ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS)


def in_or_above_q(actor, perm: Perm = Perm.VIEW, field: str = "org") -> Q:
    """Rows whose node is in the actor's subtrees or above one of them (a county's plan, a leading group)."""
    cond = scope.q(actor, perm, field)
    roots = scope.paths(actor, perm)
    if roots:
        prefix = f"{field}__path" if field else "path"
        cond |= Q(**{f"{prefix}__in": sorted({p for root in roots for p in ancestor_paths(root)})})
    return cond


class StaffPolicy(ModelPolicy):
    """Campaigns, posts, sign-ups and groups: changed by staff with Perm.CHANGE at the node they hang on."""

    def __init__(self, model=None, *, org_field: str | None = None, refusal=None):
        super().__init__(model, org_field=org_field)
        self.refusal = refusal

    def check_change(self, actor, obj) -> None:
        """NotFound when `obj` is out of the actor's sight (never a different answer), PermissionDenied when it is
        seen but not changeable."""
        if not self.allows(actor, Perm.VIEW, obj):
            raise NotFound()
        if not self.allows(actor, Perm.CHANGE, obj):
            raise PermissionDenied(str(self.refusal)) if self.refusal is not None else PermissionDenied()


class ActivityPolicy(StaffPolicy):
    model = Activity
    org_field = "org"

    # ------------------------------------------------------------ the volunteer's rule (the one definition)

    @staticmethod
    def reaches(volunteer_path: str, org_path: str, visibility: str) -> bool:
        """By place: a "subtree" activity at the volunteer's station or at a node above it. Values, not rows:
        the burst path (fast.py) and the activity page decide on what their one statement fetched."""
        return visibility == Visibility.SUBTREE and volunteer_path.startswith(org_path)

    def for_volunteer_q(self, volunteer, prefix: str = "") -> Q:
        """Activities (any status) whose place or teams reach `volunteer`: the filter form of `reaches` plus the
        team rule. `prefix` reaches an activity through a relation (e.g. "activity__")."""
        if volunteer is None:
            return Q(pk__in=[])
        my_teams = TeamMembership.objects.filter(volunteer=volunteer, status=MembershipStatus.ACTIVE).values("team_id")
        return Q(
            **{f"{prefix}visibility": Visibility.SUBTREE, f"{prefix}org__path__in": ancestor_paths(volunteer.org.path)}
        ) | Q(**{f"{prefix}visibility": Visibility.TEAMS, f"{prefix}teams__in": my_teams})

    def volunteer_may_see(self, volunteer, activity: Activity, team_ids: set[int] | None = None) -> bool:
        """`for_volunteer_q` for one activity (any status): by place in Python, by team with one query (or from
        `team_ids`, the ids of the listed teams the volunteer is an active member of, when the caller has them)."""
        if activity.visibility == Visibility.TEAMS:
            if team_ids is None:
                return TeamMembership.objects.filter(
                    team__in=activity.teams.all(), volunteer=volunteer, status=MembershipStatus.ACTIVE
                ).exists()
            return bool(team_ids)
        return self.reaches(volunteer.org.path, activity.org.path, activity.visibility)

    def seen_by_volunteer_q(self, volunteer) -> Q:
        """What a volunteer sees without having signed up: reached, and published or later."""
        return self.for_volunteer_q(volunteer) & Q(status__in=SEEN_BY_VOLUNTEERS)

    def open_to_volunteer_q(self, volunteer) -> Q:
        """Activities the volunteer may sign up for by status and place (the sign-up window is not looked at)."""
        reached = Activity.objects.filter(self.for_volunteer_q(volunteer)).values("pk")
        return Q(pk__in=reached, status__in=OPEN_FOR_SIGNUP)

    # ------------------------------------------------------------ anyone: staff, volunteers, people signed up

    def visible_q(self, actor) -> Q:
        """Every activity the actor may open: staff of its subtree (any status), a volunteer it reaches (published
        or later), anyone who holds or held a sign-up for it."""
        cond = scope.q(actor, Perm.VIEW)
        volunteer = volunteer_of(actor)
        if volunteer is not None:
            seen = Activity.objects.filter(self.seen_by_volunteer_q(volunteer)).values("pk")
            mine = Signup.objects.filter(volunteer=volunteer).values("post__activity_id")
            cond |= Q(pk__in=seen) | Q(pk__in=mine)
        return cond

    def may_open(self, actor, activity: Activity, volunteer) -> bool:
        """`visible_q` for one fetched activity (with its org's path): staff and a volunteer of a station below
        a "subtree" activity are decided in Python; a team's activity or one the volunteer signed up for asks
        the database, with `visible_q` itself."""
        if self.allows(actor, Perm.VIEW, activity):
            return True
        if volunteer is None:
            return False
        if activity.status in SEEN_BY_VOLUNTEERS and self.reaches(
            volunteer.org.path, activity.org.path, activity.visibility
        ):
            return True
        return Activity.objects.filter(self.visible_q(actor), pk=activity.pk).exists()

    # ------------------------------------------------------------ teams assigned by their leaders

    def team_reaches(self, team: Team, activity: Activity) -> bool:
        """A team may be assigned to an activity at its node or above (the team's members serve there)."""
        return activity.org.path in ancestor_paths(team.org.path)

    def may_assign_for(self, actor, team: Team, activity: Activity) -> bool:
        """The team's leader or deputy, whoever leads teams at its node, or staff who change the activity."""
        return (
            is_leader(actor, team)
            or scope.allows(actor, Perm.LEAD_TEAM, team.org)
            or self.allows(actor, Perm.CHANGE, activity)
        )

    # ------------------------------------------------------------ public calendars

    def public_under_q(self, org, prefix: str = "") -> Q:
        """What a node's public calendar lists: published activities of its subtree open to everyone there."""
        return Q(
            **{
                f"{prefix}org__path__startswith": org.path,
                f"{prefix}published_at__isnull": False,
                f"{prefix}visibility": Visibility.SUBTREE,
            }
        )


class CampaignPolicy(StaffPolicy):
    model = Campaign
    org_field = "org"

    def visible_q(self, actor) -> Q:
        """Staff: campaigns of their subtree and of the nodes above it; volunteers: of their station and above."""
        cond = in_or_above_q(actor, Perm.VIEW)
        volunteer = volunteer_of(actor)
        if volunteer is not None:
            cond |= Q(org__path__in=ancestor_paths(volunteer.org.path))
        return cond


activity_policy = ActivityPolicy(refusal=_("Only staff of the organizing node may change this activity."))
campaign_policy = CampaignPolicy(refusal=_("Only staff of the organizing node may change this campaign."))
post_policy = StaffPolicy(Post, org_field="activity.org")
signup_policy = StaffPolicy(
    Signup, org_field="post.activity.org", refusal=_("Only staff of the organizing node may remove sign-ups.")
)
group_policy = StaffPolicy(SignupGroup, org_field="post.activity.org")

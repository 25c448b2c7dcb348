"""The activities policy: one definition of who sees what, and every evaluation of it agreeing with the filter.

The volunteer's rule is written once (`activity_policy.for_volunteer_q` / `reaches`); the activity page, the
sign-up and its burst path evaluate it on values they already fetched. These tests walk a matrix of places,
visibilities and statuses and check each evaluation against the filter, refusals included.
"""

import itertools

import pytest
from django.core.exceptions import ValidationError

from leifeng.activities import selectors, services
from leifeng.activities.models import Activity, ActivityStatus, Campaign, Signup, SignupStatus, Visibility
from leifeng.activities.policy import (
    OPEN_FOR_SIGNUP,
    SEEN_BY_VOLUNTEERS,
    activity_policy,
    campaign_policy,
    post_policy,
    signup_policy,
)
from leifeng.activities.tests.conftest import make_activity
from leifeng.core.errors import NotFound, PermissionDenied
from leifeng.core.roles import Perm
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.testing import TeamFactory

pytestmark = pytest.mark.django_db

PLACES = ("center", "sub_a", "st_a1", "st_a2", "sub_b", "st_b1")
ABOVE_OR_AT_ST_A1 = {"center", "sub_a", "st_a1"}
TEAMS = ("none", "mine", "left", "other")  # which team a "teams" activity lists, seen from the volunteer


@pytest.fixture
def me(make_volunteer):
    return make_volunteer()  # at 东关社区站 (st_a1)


@pytest.fixture
def teams(tree, me):
    """mine: I am an active member; left: I left it; other: I never joined."""
    out = {name: TeamFactory(org=tree.st_a1) for name in ("mine", "left", "other")}
    TeamMembership.objects.create(team=out["mine"], volunteer=me, status=MembershipStatus.ACTIVE)
    TeamMembership.objects.create(team=out["left"], volunteer=me, status=MembershipStatus.LEFT)
    return out


def _activity(tree, teams, place: str, visibility: str, team: str, status: str) -> Activity:
    a = make_activity(getattr(tree, place), status=status, visibility=visibility)
    if visibility == Visibility.TEAMS and team != "none":
        a.teams.add(teams[team])
    return Activity.objects.select_related("org").get(pk=a.pk)


def _cases():
    for place, status in itertools.product(PLACES, ActivityStatus.values):
        yield place, Visibility.SUBTREE, "none", status
        for team in TEAMS:
            yield place, Visibility.TEAMS, team, status


def _expected_reach(place: str, visibility: str, team: str) -> bool:
    return place in ABOVE_OR_AT_ST_A1 if visibility == Visibility.SUBTREE else team == "mine"


def test_every_evaluation_of_the_volunteers_rule_agrees_with_the_filter(tree, me, teams):
    """for_volunteer_q (the definition) == volunteer_may_see (one object) == reaches (the burst path's values),
    and visible_q == may_open for the volunteer as actor, on every place × visibility × team × status."""
    seen = 0
    for place, visibility, team, status in _cases():
        a = _activity(tree, teams, place, visibility, team, status)
        case = (place, visibility, team, status)
        reach = _expected_reach(place, visibility, team)
        by_filter = Activity.objects.filter(activity_policy.for_volunteer_q(me), pk=a.pk).exists()
        assert by_filter == reach, case
        assert activity_policy.volunteer_may_see(me, a) == reach, case
        if visibility == Visibility.SUBTREE:
            assert activity_policy.reaches(me.org.path, a.org.path, a.visibility) == reach, case
        else:
            assert activity_policy.reaches(me.org.path, a.org.path, a.visibility) is False, case  # never by place
        opens = reach and status in SEEN_BY_VOLUNTEERS
        assert Activity.objects.filter(activity_policy.visible_q(me.user), pk=a.pk).exists() == opens, case
        assert activity_policy.may_open(me.user, a, me) == opens, case
        may_sign = Activity.objects.filter(activity_policy.open_to_volunteer_q(me), pk=a.pk).exists()
        assert may_sign == (reach and status in OPEN_FOR_SIGNUP), case
        seen += opens
    assert seen == 3 * 3 + 6 * 3  # by place: 3 nodes × 3 seen statuses; my team's: 6 nodes × 3


def test_a_signup_keeps_an_activity_visible_outside_the_rule(tree, me):
    """Anyone who holds or held a sign-up sees the activity, even where the rule would not show it."""
    a = make_activity(tree.st_b1)  # another subtree
    post = a.posts.get()
    Signup.objects.create(
        post=post, volunteer=me, status=SignupStatus.WITHDRAWN, starts_at=post.starts_at, ends_at=post.ends_at
    )
    a = Activity.objects.select_related("org").get(pk=a.pk)
    assert not activity_policy.volunteer_may_see(me, a)
    assert Activity.objects.filter(activity_policy.visible_q(me.user), pk=a.pk).exists()
    assert activity_policy.may_open(me.user, a, me)
    assert selectors.activity_get(actor=me.user, activity_id=a.pk) == a


def test_staff_see_every_status_of_their_subtree_and_nothing_else(tree, owner, outsider, assessor, center_admin):
    draft = make_activity(tree.st_a1, status=ActivityStatus.DRAFT)
    for actor, sees in ((owner, True), (assessor, True), (center_admin, True), (outsider, False)):
        assert activity_policy.visible(actor).filter(pk=draft.pk).exists() == sees
        assert Activity.objects.filter(activity_policy.visible_q(actor), pk=draft.pk).exists() == sees
        assert activity_policy.may_open(actor, draft, None) == sees
    assert activity_policy.allows(owner, Perm.CHANGE, draft)
    assert not activity_policy.allows(assessor, Perm.CHANGE, draft)  # sees, may not change


def test_a_change_out_of_sight_is_not_found_and_in_sight_but_not_allowed_is_refused(tree, owner, outsider, assessor):
    a = make_activity(tree.st_a1)
    activity_policy.check_change(owner, a)
    with pytest.raises(NotFound):
        activity_policy.check_change(outsider, a)
    with pytest.raises(PermissionDenied) as exc:
        activity_policy.check_change(assessor, a)
    assert exc.value.message == "只有组织单位的工作人员可以修改此活动。"  # the message services always gave
    # through the service: the same answers
    with pytest.raises(NotFound):
        services.activity_unpublish(actor=outsider, activity_id=a.pk)
    with pytest.raises(PermissionDenied):
        services.activity_unpublish(actor=assessor, activity_id=a.pk)


def test_posts_and_signups_hang_on_their_activitys_node(tree, owner, outsider, me):
    a = make_activity(tree.st_a1)
    post = a.posts.get()
    s = services.signup_create(actor=me.user, post=post)
    assert post_policy.visible(owner).filter(pk=post.pk).exists()
    assert not post_policy.visible(outsider).filter(pk=post.pk).exists()
    assert signup_policy.allows(owner, Perm.CHANGE, s)
    with pytest.raises(NotFound):
        signup_policy.check_change(outsider, s)
    with pytest.raises(NotFound):
        services.signup_remove(actor=outsider, signup_id=s.pk, reason="不认识")


def test_campaigns_reach_down_to_the_stations_that_carry_them_out(tree, owner, outsider, me):
    def campaign(org):
        return Campaign.objects.create(org=org, title=f"方案 {org.name}", starts_on="2026-03-01", ends_on="2026-03-31")

    at = {name: campaign(getattr(tree, name)) for name in PLACES}
    for actor, wanted in (
        (owner, {"center", "sub_a", "st_a1"}),  # own subtree and the nodes above it
        (me.user, {"center", "sub_a", "st_a1"}),  # their station and above
        (outsider, {"center", "sub_b", "st_b1"}),
    ):
        got = {name for name, c in at.items() if Campaign.objects.filter(campaign_policy.visible_q(actor), pk=c.pk)}
        assert got == wanted, actor
    assert campaign_policy.allows(owner, Perm.CHANGE, at["st_a1"])
    assert not campaign_policy.allows(owner, Perm.CHANGE, at["sub_a"])  # sees the county's plan, does not change it
    with pytest.raises(NotFound):  # as before the policy: a change is looked up in the scope at the node itself
        campaign_policy.check_change(owner, at["sub_a"])


def test_a_team_is_assigned_only_to_activities_at_or_above_its_node(tree, owner, outsider):
    team = TeamFactory(org=tree.st_a1)
    for place, reaches in (("center", True), ("sub_a", True), ("st_a1", True), ("st_a2", False), ("st_b1", False)):
        a = make_activity(getattr(tree, place))
        assert activity_policy.team_reaches(team, a) == reaches, place
    assert activity_policy.may_assign_for(owner, team, make_activity(tree.st_a1))
    assert not activity_policy.may_assign_for(outsider, team, make_activity(tree.st_a1))


def test_the_node_calendar_lists_what_the_policy_calls_public(tree):
    public = make_activity(tree.st_a1)
    Activity.objects.filter(pk=public.pk).update(published_at=public.created_at)
    teams_only = make_activity(tree.st_a1, visibility=Visibility.TEAMS)
    Activity.objects.filter(pk=teams_only.pk).update(published_at=public.created_at)
    never_published = make_activity(tree.st_a1)
    elsewhere = make_activity(tree.st_b1)
    Activity.objects.filter(pk=elsewhere.pk).update(published_at=public.created_at)
    listed = set(Activity.objects.filter(activity_policy.public_under_q(tree.sub_a)).values_list("pk", flat=True))
    assert listed == {public.pk}
    assert never_published.pk not in listed and teams_only.pk not in listed


def test_an_organization_outside_the_actors_reach_is_refused_for_a_new_activity(tree, owner):
    with pytest.raises(ValidationError):
        services.activity_create(actor=owner, org_id=tree.st_b1.pk, title="越界", category="other", address="北村")


def test_the_ledgers_verified_kind_is_the_hours_apps():
    from leifeng.activities.selectors.figures import VERIFIED_KIND, _ledger
    from leifeng.hours.models import RecordKind, ServiceRecord

    assert VERIFIED_KIND == RecordKind.VERIFIED
    assert _ledger() is ServiceRecord

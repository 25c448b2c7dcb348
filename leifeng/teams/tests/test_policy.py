"""teams.policy: each rule once — which teams a volunteer may see and join, which volunteers a leader may name."""

import pytest

from leifeng.core.errors import NotFound
from leifeng.people.models import VolunteerStatus
from leifeng.teams import services
from leifeng.teams.models import Team
from leifeng.teams.policy import team_policy
from leifeng.testing import TeamFactory


@pytest.fixture
def led_team(tree, center_admin, make_volunteer):
    """A team at sub-center A (above both its stations) led by a volunteer of 东关社区站."""
    team = TeamFactory(org=tree.sub_a, name="A片区应急分队")
    leader = make_volunteer(tree.st_a1)
    services.team_set_leaders(actor=center_admin, team_id=team.pk, leader=leader.number)
    return Team.objects.select_related("org", "leader", "deputy").get(pk=team.pk)


def test_a_leader_names_volunteers_of_the_teams_subtree_only(tree, led_team, make_volunteer):
    near, sibling, far = make_volunteer(tree.st_a1), make_volunteer(tree.st_a2), make_volunteer(tree.st_b1)
    leader = led_team.leader.user
    found = set(team_policy.findable_volunteers(leader, led_team).values_list("pk", flat=True))
    assert {near.pk, sibling.pk} <= found and far.pk not in found
    assert team_policy.is_leader(leader, led_team) and team_policy.may_decide(leader, led_team)
    assert not team_policy.may_change(leader, led_team)  # leading is not running the org's teams


def test_staff_name_volunteers_of_their_own_scope(tree, owner, outsider, led_team, make_volunteer):
    mine, other = make_volunteer(tree.st_a1), make_volunteer(tree.st_a2)
    found = set(team_policy.findable_volunteers(owner, led_team).values_list("pk", flat=True))
    assert mine.pk in found and other.pk not in found  # the owner's scope is 东关社区站 only
    assert not team_policy.findable_volunteers(outsider, led_team).filter(pk=mine.pk).exists()


def test_a_volunteer_may_join_the_active_teams_at_or_above_their_station(tree, team, led_team, make_volunteer):
    volunteer = make_volunteer(tree.st_a1)
    assert team_policy.may_join(volunteer, team) and team_policy.may_join(volunteer, led_team)
    elsewhere = TeamFactory(org=tree.st_a2, name="西街中队")
    assert not team_policy.may_join(volunteer, elsewhere)
    assert set(team_policy.visible(volunteer.user).values_list("pk", flat=True)) == {team.pk, led_team.pk}
    team.is_active = False
    assert not team_policy.may_join(volunteer, team)
    pending = make_volunteer(tree.st_a1, status=VolunteerStatus.PENDING)
    assert not team_policy.may_join(pending, led_team)


def test_services_refuse_a_team_the_policy_hides(tree, outsider, team):
    with pytest.raises(NotFound):
        services.team_update(actor=outsider, team_id=team.pk, name="改名")

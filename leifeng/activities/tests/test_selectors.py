"""Reads: who sees which activity and campaign, the volunteer's finder, my shifts, the roster."""

from datetime import date, timedelta

import pytest
from django.http import Http404

from leifeng.activities import selectors, services
from leifeng.activities.models import ActivityStatus, Campaign, Visibility
from leifeng.activities.selectors import ActivityFilters
from leifeng.activities.tests.conftest import NOW, START, make_activity, sign
from leifeng.teams.models import MembershipStatus, TeamMembership
from leifeng.testing import TeamFactory


def titles(qs) -> list[str]:
    return sorted(a.title for a in qs)


def test_finder_shows_station_and_ancestors_published_with_posts_to_come(tree, make_volunteer):
    v = make_volunteer(org=tree.st_a1)
    make_activity(tree.st_a1, title="本站")
    make_activity(tree.sub_a, title="上级所")
    make_activity(tree.center, title="中心")
    make_activity(tree.st_a2, title="邻站")
    make_activity(tree.st_a1, title="草稿", status=ActivityStatus.DRAFT)
    make_activity(tree.st_a1, title="已过", start=NOW - timedelta(days=1))
    assert titles(selectors.activity_find(actor=v.user)) == ["上级所", "中心", "本站"]
    near = selectors.activity_find(actor=v.user, filters=ActivityFilters(near=True))
    assert titles(near) == ["上级所", "本站"]


def test_team_only_activity_is_found_by_members_only(tree, make_volunteer):
    team = TeamFactory(org=tree.st_a1)
    member, other = make_volunteer(), make_volunteer()
    TeamMembership.objects.create(team=team, volunteer=member, status=MembershipStatus.ACTIVE)
    a = make_activity(tree.st_a1, title="队内活动", visibility=Visibility.TEAMS)
    a.teams.add(team)
    assert titles(selectors.activity_find(actor=member.user)) == ["队内活动"]
    assert titles(selectors.activity_find(actor=other.user)) == []
    with pytest.raises(Http404):
        selectors.activity_get(actor=other.user, activity_id=a.pk)


def test_staff_list_is_scoped(owner, center_admin, outsider, tree):
    make_activity(tree.st_a1, title="东关")
    make_activity(tree.st_b1, title="北村")
    assert titles(selectors.activity_list(actor=owner)) == ["东关"]
    assert set(titles(selectors.activity_list(actor=center_admin))) == {"东关", "北村"}
    assert titles(selectors.activity_list(actor=outsider)) == ["北村"]


def test_a_former_signup_keeps_the_activity_visible(tree, make_volunteer, post):
    v = make_volunteer()
    s = sign(v, post)
    services.signup_withdraw(actor=v.user, signup_id=s.pk, now=NOW)
    assert selectors.activity_get(actor=v.user, activity_id=post.activity_id).pk == post.activity_id
    assert list(selectors.my_shifts(actor=v.user)) == []
    assert [x.pk for x in selectors.my_shifts(actor=v.user, past=True)] == [s.pk]


def test_roster_sorts_people_by_status(owner, outsider, tree, make_volunteer):
    a = make_activity(tree.st_a1, quota=2)
    p = a.posts.get()
    people = [make_volunteer() for _ in range(4)]
    signups = [sign(v, p) for v in people]
    services.signup_withdraw(actor=people[0].user, signup_id=signups[0].pk, now=NOW)
    services.groups_build(actor=owner, post_id=p.pk)
    [entry] = selectors.activity_roster(actor=owner, activity=a)
    assert [s.volunteer_id for s in entry.confirmed] == [people[1].pk, people[2].pk]
    assert [s.volunteer_id for s in entry.waitlisted] == [people[3].pk]
    assert [s.volunteer_id for s in entry.ended] == [people[0].pk]
    assert [len(g.member_list) for g in entry.groups] == [2]
    with pytest.raises(Http404):
        selectors.activity_roster(actor=outsider, activity=a)


def test_campaigns_seen_by_staff_and_volunteers_below(owner, outsider, tree, make_volunteer):
    c = Campaign.objects.create(
        org=tree.sub_a, title="长安街道学雷锋月", starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 31)
    )
    make_activity(tree.st_a1, campaign=c)
    make_activity(tree.st_a1, campaign=c, status=ActivityStatus.DRAFT, start=START + timedelta(days=1))
    assert [x.activity_count for x in selectors.campaign_list(actor=make_volunteer().user)] == [1]
    assert list(selectors.campaign_list(actor=outsider)) == []
    # station staff see the plan of the sub-center above them, which their activities carry out
    assert [x.title for x in selectors.campaign_list(actor=owner)] == ["长安街道学雷锋月"]

"""The matching engine: eligibility, ranking and the reasons people read."""

from datetime import datetime, timedelta

import numpy as np
import pytest
from django.utils import timezone, translation

from leifeng import testing
from leifeng.orders import services
from leifeng.orders.dispatch import matching as M
from leifeng.orders.models import Assignment, AssignmentStatus, Order
from leifeng.orders.tests.factories import T0, menu_item, submit
from leifeng.people.models import AvailableTime, Skill
from leifeng.teams.models import MembershipStatus, TeamCategory, TeamMembership

E = TeamCategory.ELDERLY


def accepted(tree, owner, **kw) -> Order:
    order = submit(tree.st_a1, **kw)
    return services.order_accept(actor=owner, order_id=order.pk, now=T0 + timedelta(hours=1))


def names(suggestions) -> list[str]:
    return [s.assignee.name for s in suggestions]


# ------------------------------------------------------------------ arrays


def test_tree_distance_and_eligibility_from_paths():
    # center ─ sub_a ─ (st_a1, st_a2); center ─ sub_b ─ st_b1
    paths = ["0001", "00010001", "000100010001", "000100010002", "00010002", "000100020001"]
    geo = M.OrgGeometry.from_paths(range(6), paths)
    st_a1 = 2
    assert geo.hops[st_a1].tolist() == [2, 1, 0, 2, 3, 4]
    # the order's node, its ancestors and its subtree; never a sibling or a cousin
    assert geo.related[st_a1].tolist() == [True, True, True, False, False, False]
    assert geo.related[1].tolist() == [True, True, True, True, False, False]


def _arrays(lat_order=np.nan, slot=0, available=(0,), skills_order=0, skills_cand=(0,), load=(0,), rating=(np.nan,)):
    geo = M.OrgGeometry.from_paths([1, 2], ["0001", "00010001"], lat=[np.nan, 34.0], lng=[np.nan, 108.0])
    m = len(available)
    of = M.OrderFeatures(
        category=np.array([M.CATEGORY_BIT[E]], dtype=np.int16),
        lat=np.array([lat_order]),
        lng=np.array([108.0 if not np.isnan(lat_order) else np.nan]),
        org=np.array([1], dtype=np.int32),
        slot=np.array([slot], dtype=np.uint8),
        skills=np.array([skills_order], dtype=np.uint64),
        providers=[set()],
    )
    cf = M.CandidateFeatures(
        kind=np.full(m, M.VOLUNTEER, dtype=np.int8),
        pk=np.arange(m),
        categories=np.full(m, 1 << M.CATEGORY_BIT[E], dtype=np.uint32),
        org=np.ones(m, dtype=np.int32),
        load=np.array(load * m if len(load) == 1 else load, dtype=np.int32),
        rating=np.array(rating * m if len(rating) == 1 else rating, dtype=np.float32),
        rated=np.ones(m, dtype=np.int32),
        available=np.array(available, dtype=np.uint8),
        skills=np.array(skills_cand * m if len(skills_cand) == 1 else skills_cand, dtype=np.uint64),
    )
    return of, cf, geo


def test_haversine_distance_when_both_sides_have_coordinates():
    # 0.09° of latitude north of the station ≈ 10 km
    of, cf, geo = _arrays(lat_order=34.09)
    comp = M.components(of, cf, geo, np.array([0]), np.array([0]))
    assert comp["km"][0] == pytest.approx(10.0, abs=0.1)
    assert comp["distance"][0] == pytest.approx(1.0, abs=0.01)
    # without a point on the order, the tree distance is used: same node → 0
    of, cf, geo = _arrays()
    comp = M.components(of, cf, geo, np.array([0]), np.array([0]))
    assert np.isnan(comp["km"][0]) and comp["distance"][0] == 0


def test_availability_load_rating_and_skill_order_the_candidates():
    weekend = M.SLOT_BITS[AvailableTime.WEEKEND]
    of, cf, geo = _arrays(slot=weekend, available=(weekend, M.SLOT_BITS[AvailableTime.WEEKDAY_DAYTIME], 0))
    cost, forbidden = M.cost_matrix(of, cf, geo)
    assert not forbidden.any()
    assert cost[0, 0] < cost[0, 2] < cost[0, 1]  # fits < unknown < does not fit
    of, cf, geo = _arrays(available=(0, 0), load=(0, 4))
    cost, _ = M.cost_matrix(of, cf, geo)
    assert cost[0, 0] < cost[0, 1]
    of, cf, geo = _arrays(available=(0, 0), rating=(4.9, 2.0))
    cost, _ = M.cost_matrix(of, cf, geo)
    assert cost[0, 0] < cost[0, 1]
    of, cf, geo = _arrays(available=(0, 0), skills_order=0b10, skills_cand=(0b01, 0b10))
    cost, _ = M.cost_matrix(of, cf, geo)
    assert cost[0, 1] < cost[0, 0]


def test_wanted_time_slots():
    tz = timezone.get_current_timezone()
    assert M.slot_of(datetime(2026, 11, 23, 10, tzinfo=tz)) == M.SLOT_BITS[AvailableTime.WEEKDAY_DAYTIME]
    assert M.slot_of(datetime(2026, 11, 23, 19, tzinfo=tz)) == M.SLOT_BITS[AvailableTime.WEEKDAY_EVENING]
    assert M.slot_of(datetime(2026, 11, 22, 10, tzinfo=tz)) == M.SLOT_BITS[AvailableTime.WEEKEND]
    assert M.slot_mask([AvailableTime.ANYTIME]) == 15


# ------------------------------------------------------------------ from the database


@pytest.fixture
def teams(tree):
    """Elderly-care teams along the line of st_a1, and teams that must never be suggested for it."""
    make = testing.TeamFactory
    return {
        "here": make(org=tree.st_a1, name="东关助老队", category=E),
        "above": make(org=tree.sub_a, name="长安助老大队", category=E),
        "center": make(org=tree.center, name="县助老总队", category=E),
        "legal": make(org=tree.st_a1, name="东关法律队", category=TeamCategory.LEGAL),
        "sibling": make(org=tree.st_a2, name="西街助老队", category=E),
        "other_line": make(org=tree.st_b1, name="北村助老队", category=E),
        "inactive": make(org=tree.st_a1, name="停用助老队", category=E, is_active=False),
    }


def test_suggest_ranks_by_distance_and_shows_why(tree, owner, teams):
    item = menu_item(tree.st_a1)
    order = accepted(tree, owner, menu_item_id=item.pk, description="")
    with translation.override("en"):
        got = M.suggest(order, volunteers=False)
    assert names(got) == ["东关助老队", "长安助老大队", "县助老总队"]
    assert got[0].score > got[1].score > got[2].score
    assert "Category match: Respecting and caring for the elderly" in got[0].reasons
    assert "Same node: 东关社区站" in got[0].reasons
    assert "Tree distance 1: 长安街道分中心 (no coordinates)" in got[1].reasons
    assert "Currently handling 0 orders" in got[0].reasons and "No ratings yet" in got[0].reasons


def test_suggest_weighs_load_and_past_ratings(tree, owner, teams):
    twin = testing.TeamFactory(org=tree.st_a1, name="东关助老二队", category=E)
    item = menu_item(tree.st_a1)
    # the first team already holds two open orders
    for phone in ("13900000001", "13900000002"):
        busy = accepted(tree, owner, menu_item_id=item.pk, resident_phone=phone)
        services.order_dispatch(actor=owner, order_id=busy.pk, team_id=teams["here"].pk, now=T0 + timedelta(hours=2))
    order = accepted(tree, owner, menu_item_id=item.pk)
    with translation.override("en"):
        got = M.suggest(order, volunteers=False)
    # the idle twin comes first; the busy team drops behind even the sub-center's team one step away
    assert names(got) == ["东关助老二队", "长安助老大队", "东关助老队", "县助老总队"]
    assert "Currently handling 2 orders" in got[2].reasons
    # a well-rated team overtakes an unrated one at the same node
    Assignment.objects.filter(team=teams["here"]).update(status=AssignmentStatus.WITHDRAWN)
    Order.objects.filter(team=twin).update(team=None)
    rated = accepted(tree, owner, menu_item_id=item.pk, resident_phone="13900000003")
    Order.objects.filter(pk=rated.pk).update(team=teams["here"], rating=5)
    with translation.override("en"):
        got = M.suggest(order, volunteers=False, limit=2)
    assert names(got) == ["东关助老队", "东关助老二队"]
    assert "Past rating 5.0 (1 rated)" in got[0].reasons


def test_menu_item_providers_come_first(tree, owner, teams):
    item = menu_item(tree.st_a1, teams=[teams["above"]])
    order = accepted(tree, owner, menu_item_id=item.pk)
    with translation.override("en"):
        got = M.suggest(order, volunteers=False, limit=2)
    # the sub-center's team is one step away, but the menu names it as the provider
    assert names(got) == ["长安助老大队", "东关助老队"]
    assert "Listed provider of “助老陪护”" in got[0].reasons


def test_volunteers_by_team_category_or_named_skill(tree, owner, teams):
    electrician = testing.VolunteerFactory(org=tree.st_a1, name="电工老李", available_times=[AvailableTime.WEEKEND])
    electrician.skills.add(Skill.objects.create(name="电工"))
    member = testing.VolunteerFactory(org=tree.st_a1, name="助老队员")
    TeamMembership.objects.create(team=teams["here"], volunteer=member, status=MembershipStatus.ACTIVE)
    stranger = testing.VolunteerFactory(org=tree.st_a1, name="无关志愿者")
    far = testing.VolunteerFactory(org=tree.st_b1, name="北村电工")
    far.skills.add(Skill.objects.get(name="电工"))
    pending = testing.VolunteerFactory(org=tree.st_a1, name="待审电工", status="pending")
    pending.skills.add(Skill.objects.get(name="电工"))

    item = menu_item(tree.st_a1)
    order = accepted(tree, owner, menu_item_id=item.pk, description="楼道灯坏了，需要电工")
    with translation.override("en"):
        got = M.suggest(order, teams=False, limit=10)
    assert set(names(got)) == {"电工老李", "助老队员"}
    lee = next(s for s in got if s.volunteer == electrician)
    assert "Skill: 电工" in lee.reasons
    assert stranger.name not in names(got)


def test_no_candidates_no_suggestions(tree, owner):
    order = accepted(tree, owner)
    assert M.suggest(order) == []


def test_km_when_both_sides_have_coordinates_tree_distance_otherwise(tree, owner, teams):
    from leifeng.orgs.models import Org

    # the station sits 5.6 km north of the order's point, the sub-center 1.1 km; the center has no coordinates
    Org.objects.filter(pk=tree.st_a1.pk).update(latitude="34.300000", longitude="108.900000")
    Org.objects.filter(pk=tree.sub_a.pk).update(latitude="34.260000", longitude="108.900000")
    item = menu_item(tree.st_a1)
    order = accepted(tree, owner, menu_item_id=item.pk, latitude="34.250000", longitude="108.900000")
    with translation.override("en"):
        got = {s.assignee.name: s for s in M.suggest(order, volunteers=False)}
    assert "Distance 5.6 km" in got["东关助老队"].reasons
    assert "Distance 1.1 km" in got["长安助老大队"].reasons
    assert "Tree distance 2: 县新时代文明实践中心 (no coordinates)" in got["县助老总队"].reasons
    # nearer in km beats the same node: the sub-center's team now comes first
    assert got["长安助老大队"].score > got["东关助老队"].score
    # an order without a point falls back to the tree distance for everyone
    plain = accepted(tree, owner, menu_item_id=item.pk, resident_phone="13900000009")
    with translation.override("en"):
        first = M.suggest(plain, volunteers=False, limit=1)[0]
    assert first.assignee.name == "东关助老队" and "Same node: 东关社区站" in first.reasons

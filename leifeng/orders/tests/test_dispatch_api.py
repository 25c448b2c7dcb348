"""/api/v1/orders/dispatch/: suggestions, batch plan and apply — personas, 404 out of scope, query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leifeng import testing
from leifeng.orders import services
from leifeng.orders.models import Order, OrderStatus
from leifeng.orders.tests.factories import T0, menu_item, submit
from leifeng.teams.models import TeamCategory

API = "/api/v1/orders/dispatch/"
E = TeamCategory.ELDERLY


def post(client, url, data):
    return client.post(url, data, content_type="application/json")


@pytest.fixture
def board(tree, owner):
    """Three orders awaiting dispatch at st_a1; two elderly-care teams there and one at the sub-center."""
    teams = [
        testing.TeamFactory(org=tree.st_a1, name="东关助老一队", category=E),
        testing.TeamFactory(org=tree.st_a1, name="东关助老二队", category=E),
        testing.TeamFactory(org=tree.sub_a, name="长安助老大队", category=E),
    ]
    item = menu_item(tree.st_a1)
    orders = [
        services.order_accept(
            actor=owner,
            order_id=submit(tree.st_a1, menu_item_id=item.pk, resident_phone=f"1390000000{k}").pk,
            now=T0 + timedelta(hours=1),
        )
        for k in range(3)
    ]
    return teams, orders


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_suggestions_with_reasons_for_staff(persona, request, client_for, board):
    _teams, orders = board
    r = client_for(request.getfixturevalue(persona)).get(f"{API}suggestions/{orders[0].pk}", {"limit": 2})
    assert r.status_code == 200
    got = r.json()["items"]
    assert r.json()["count"] == 2
    assert [s["name"] for s in got] == ["东关助老一队", "东关助老二队"]
    assert all(s["kind"] == "team" and 0 < s["score"] <= 100 and s["reasons"] for s in got)


def test_outsider_gets_404_everywhere(client_for, outsider, board):
    teams, orders = board
    c = client_for(outsider)
    assert c.get(f"{API}suggestions/{orders[0].pk}").status_code == 404
    assert c.get(f"{API}suggestions/999999").status_code == 404
    r = post(c, f"{API}batch/plan", {"order_ids": [orders[0].pk], "candidates": "teams"})
    assert r.status_code == 404
    # without a list the plan covers the outsider's own area: nothing of st_a1 in it
    assert post(c, f"{API}batch/plan", {"candidates": "teams"}).json()["rows"] == []
    r = post(c, f"{API}batch/apply", {"assignments": [f"{orders[0].pk}:team:{teams[0].pk}"]})
    assert r.status_code == 404
    assert Order.objects.get(pk=orders[0].pk).status == OrderStatus.ACCEPTED


def test_a_volunteer_without_staff_rights_gets_404(tree, client_for, board):
    user = testing.make_volunteer_user("vol", org=tree.st_a1)
    assert client_for(user).get(f"{API}suggestions/{board[1][0].pk}").status_code == 404
    assert post(client_for(user), f"{API}batch/plan", {}).status_code == 404


def test_anonymous_gets_401(client, board):
    assert client.get(f"{API}suggestions/{board[1][0].pk}").status_code == 401


@pytest.mark.parametrize("persona", ["owner", "colleague"])
def test_plan_then_apply(persona, request, client_for, board):
    teams, orders = board
    c = client_for(request.getfixturevalue(persona))
    r = post(c, f"{API}batch/plan", {"candidates": "teams", "team_capacity": 1})
    assert r.status_code == 200
    plan = r.json()
    assert plan["assigned"] == 3 and plan["total_cost"] <= plan["greedy_total_cost"] + 1e-6
    assert [row["order_id"] for row in plan["rows"]] == [o.pk for o in orders]
    assert {row["assignee"] for row in plan["rows"]} == {t.name for t in teams}
    assert set(plan["timings_ms"]) >= {"load_ms", "price_ms", "solve_ms", "greedy_ms"}
    r = post(c, f"{API}batch/apply", {"assignments": [row["assignment"] for row in plan["rows"]]})
    assert r.status_code == 200
    assert sorted(r.json()["dispatched"]) == sorted(o.pk for o in orders) and r.json()["skipped"] == []
    assert Order.objects.filter(status=OrderStatus.DISPATCHED).count() == 3
    # applying the same plan again: each order has moved on, so each is skipped with a reason
    r = post(c, f"{API}batch/apply", {"assignments": [row["assignment"] for row in plan["rows"]]})
    assert r.json()["dispatched"] == [] and len(r.json()["skipped"]) == 3


def test_bad_input_is_a_400_in_the_one_error_format(client_for, owner, board):
    c = client_for(owner)
    r = post(c, f"{API}batch/apply", {"assignments": ["1:robot:2"]})
    assert r.status_code == 400 and "assignments" in r.content.decode()
    r = post(c, f"{API}batch/plan", {"candidates": "robots"})
    assert r.status_code == 400 and "candidates" in r.content.decode()


def test_plan_query_count_does_not_grow_with_the_orders(tree, owner, client_for, board):
    c = client_for(owner)
    item = menu_item(tree.st_a1, title="助老陪护二")
    testing.VolunteerFactory(org=tree.st_a1, name="志愿者")  # candidates of both kinds from the start

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert post(c, f"{API}batch/plan", {"candidates": "both"}).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for k in range(5):
        o = submit(tree.st_a1, menu_item_id=item.pk, resident_phone=f"1391111111{k}")
        services.order_accept(actor=owner, order_id=o.pk, now=T0 + timedelta(hours=1))
    for k in range(4):
        testing.VolunteerFactory(org=tree.st_a1, name=f"志愿者{k}")
    assert count() == before

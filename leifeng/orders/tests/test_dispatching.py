"""Batch dispatch: optimal against greedy, capacities, eligibility, applying a plan, scope."""

from datetime import timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from leifeng import testing
from leifeng.core.models import AuditEvent
from leifeng.orders import services
from leifeng.orders.dispatch import matching as M
from leifeng.orders.dispatch import services as D
from leifeng.orders.models import Order, OrderStatus
from leifeng.orders.tests.factories import T0, menu_item, submit
from leifeng.teams.models import TeamCategory

E = TeamCategory.ELDERLY


def pairs(table: dict[tuple[int, int], float]) -> D.Pairs:
    items = sorted(table.items(), key=lambda kv: (kv[0][0], kv[1]))
    return D.Pairs(
        rows=np.array([k[0] for k, _ in items], dtype=np.int64),
        cols=np.array([k[1] for k, _ in items], dtype=np.int64),
        cost=np.array([v for _, v in items], dtype=np.float32),
    )


def test_optimum_beats_greedy_on_the_classic_trap():
    # order 0 grabs volunteer 0 greedily and leaves order 1 with a bad match
    p = pairs({(0, 0): 0.1, (0, 1): 0.2, (1, 0): 0.15, (1, 1): 0.9})
    cap = np.array([1, 1])
    best, base = D.solve_sparse(p, 2, cap), D.greedy(p, 2, cap)
    assert best.col.tolist() == [1, 0] and best.total == pytest.approx(0.35)
    assert base.col.tolist() == [0, 1] and base.total == pytest.approx(1.0)


def test_capacity_copies_and_unassigned_orders():
    # one team with two places, three orders that only it may serve
    p = pairs({(0, 0): 0.1, (1, 0): 0.1, (2, 0): 0.1})
    res = D.solve_sparse(p, 3, np.array([2]))
    assert res.assigned == 2 and sorted(res.col.tolist()) == [-1, 0, 0]
    # the second copy costs its extra load; the order left over counts UNASSIGNED
    extra = M.WEIGHTS["load"] / M.LOAD_CAP
    assert res.total == pytest.approx(0.1 + 0.1 + extra + D.UNASSIGNED)
    assert D.solve_sparse(pairs({}), 2, np.array([1])).col.tolist() == [-1, -1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_and_dense_agree_and_never_cross_forbidden_pairs(seed):
    rng = np.random.default_rng(seed)
    n, m = 30, 40
    cost = rng.uniform(0, 1, (n, m)).astype(np.float32)
    forbidden = rng.random((n, m)) < 0.8
    cap = rng.integers(0, 3, m)
    r, c = np.nonzero(~forbidden)
    table = {(int(i), int(j)): float(cost[i, j]) for i, j in zip(r, c, strict=True)}
    sparse = D.solve_sparse(pairs(table), n, cap)
    dense = D.solve_dense(cost, forbidden, cap)
    assert sparse.total == pytest.approx(dense.total, abs=1e-4)
    assert sparse.total <= D.greedy(pairs(table), n, cap).total + 1e-6
    for res in (sparse, dense):
        got = res.col >= 0
        assert not forbidden[np.nonzero(got)[0], res.col[got]].any()
        assert (np.bincount(res.col[got], minlength=m) <= cap).all()


# ------------------------------------------------------------------ through the database


@pytest.fixture
def board(tree, owner):
    """Three orders awaiting dispatch at st_a1, two elderly-care teams at st_a1 and one at the sub-center."""
    teams = [
        testing.TeamFactory(org=tree.st_a1, name="东关助老一队", category=E),
        testing.TeamFactory(org=tree.st_a1, name="东关助老二队", category=E),
        testing.TeamFactory(org=tree.sub_a, name="长安助老大队", category=E),
    ]
    item = menu_item(tree.st_a1)
    orders = []
    for k in range(3):
        o = submit(tree.st_a1, menu_item_id=item.pk, resident_phone=f"1390000000{k}")
        orders.append(services.order_accept(actor=owner, order_id=o.pk, now=T0 + timedelta(hours=1)))
    return teams, orders


def test_plan_then_apply(tree, owner, board):
    teams, orders = board
    plan = D.batch_assign(actor=owner, candidates="teams", capacity={"team": 1})
    assert plan.assigned == 3 and plan.total <= plan.greedy_total + 1e-6
    assert [r.order for r in plan.rows] == orders  # oldest first
    assert {r.team.name for r in plan.rows} == {t.name for t in teams}
    assert all(r.reasons and 0 < r.score <= 100 for r in plan.rows)
    # meanwhile somebody else dispatches the last order by hand
    services.order_dispatch(actor=owner, order_id=orders[2].pk, team_id=teams[0].pk, now=T0 + timedelta(hours=2))
    report = D.batch_apply(
        actor=owner, assignments=D.parse_keys([r.key for r in plan.rows]), now=T0 + timedelta(hours=3)
    )
    assert [o.pk for o in report.dispatched] == [orders[0].pk, orders[1].pk]
    assert [oid for oid, _why in report.skipped] == [orders[2].pk]
    assert Order.objects.filter(status=OrderStatus.DISPATCHED).count() == 3
    event = AuditEvent.objects.get(action="order.batch_dispatch")
    assert event.org == tree.st_a1 and event.changes["skipped"] == [orders[2].pk]


def test_scope_and_bad_keys(tree, owner, outsider, colleague, board):
    assert D.batch_assign(actor=outsider).rows == []
    assert len(D.batch_assign(actor=colleague).rows) == 3
    report = D.batch_apply(actor=outsider, assignments=[(board[1][0].pk, "team", board[0][0].pk)])
    assert report.dispatched == [] and report.skipped[0][0] == board[1][0].pk
    assert Order.objects.get(pk=board[1][0].pk).status == OrderStatus.ACCEPTED
    with pytest.raises(ValidationError):
        D.parse_keys(["1:robot:2"])


# ------------------------------------------------------------------ pages


def test_batch_board_plan_and_confirm(client_for, owner, board):
    teams, orders = board
    c = client_for(owner)
    r = c.get("/orders/dispatch/batch/")
    assert r.status_code == 200 and orders[0].number in r.content.decode()
    r = c.post("/orders/dispatch/batch/", {"action": "plan", "candidates": "teams", "team_capacity": "1"})
    page = r.content.decode()
    assert r.status_code == 200 and page.count('name="assign"') == 3
    keys = [f"{orders[0].pk}:team:{teams[0].pk}"]
    r = c.post("/orders/dispatch/batch/", {"action": "apply", "assign": keys})
    assert r.status_code == 200
    assert Order.objects.get(pk=orders[0].pk).team == teams[0]
    assert Order.objects.filter(status=OrderStatus.ACCEPTED).count() == 2


def test_batch_board_personas(client_for, colleague, outsider, board):
    assert client_for(colleague).get("/orders/dispatch/batch/").status_code == 200
    page = client_for(outsider).get("/orders/dispatch/batch/").content.decode()
    assert board[1][0].number not in page
    r = client_for(outsider).post(
        "/orders/dispatch/batch/", {"action": "apply", "assign": [f"{board[1][0].pk}:team:{board[0][0].pk}"]}
    )
    assert Order.objects.get(pk=board[1][0].pk).status == OrderStatus.ACCEPTED and r.status_code == 200


def test_suggestions_on_the_dispatch_page_dispatch_in_one_click(client_for, owner, board):
    teams, orders = board
    c = client_for(owner)
    page = c.get(f"/orders/{orders[0].pk}/dispatch/").content.decode()
    assert "东关助老一队" in page and 'name="team"' in page
    r = c.post(f"/orders/{orders[0].pk}/dispatch/", {"mode": "direct", "team": teams[1].pk})
    assert r.status_code == 302
    assert Order.objects.get(pk=orders[0].pk).team == teams[1]

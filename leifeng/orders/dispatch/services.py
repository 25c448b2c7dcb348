"""Batch dispatch (批量派单): many open orders at once as one optimal assignment.

The engine (matching.py, on the cost model of costs.py) prices every eligible (order, candidate) pair.
A candidate with capacity k (a team may take several orders, a volunteer one) becomes k columns; copy t
costs `WEIGHTS["load"] × t / LOAD_CAP` more than copy 0, so a second order to the same team counts its
growing load. Each order also has its own "leave it for now" column at cost `UNASSIGNED`: larger than
any real cost, so the optimum assigns as many orders as possible, and among those assignments the
cheapest in total.

Two solvers on the same prices, both exact for the problem they are given:

* ``dense``: the full (orders × columns) matrix, forbidden pairs at a huge cost, solved with
  `scipy.optimize.linear_sum_assignment` (rectangular allowed);
* ``sparse`` (default): only eligible pairs (the tree and the category prune most), then the best
  `top_k` columns per order, solved with `scipy.sparse.csgraph.min_weight_full_bipartite_matching`.
  Top-k pruning may in principle miss the optimum of the dense problem; bench/bench_dispatch.py
  measures the gap (none seen at k = 32).

`greedy` — each order in turn (oldest first) takes its cheapest free column — is the baseline the
plan reports its total cost against.

`batch_apply` writes a plan through the orders app's dispatch service in one transaction, skipping
(and reporting) orders whose state changed since the plan was made.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from leifeng.core import audit
from leifeng.core.errors import NotFound, ServiceError, field_errors
from leifeng.orders.codes import AuditAction
from leifeng.orders.dispatch import matching as M
from leifeng.orders.dispatch.selectors import dispatchable
from leifeng.orders.models import MenuItem, Order
from leifeng.orgs.models import Org
from leifeng.people.models import Volunteer
from leifeng.teams.models import Team

UNASSIGNED = 2.0  # cost of leaving an order unassigned: more than any real pair (costs lie in [0, 1.2])
FORBIDDEN = 1e6
TEAM_CAPACITY = 3  # open orders a team may hold, unless the caller says otherwise
VOLUNTEER_CAPACITY = 1  # open orders a volunteer may hold
MAX_BATCH = 5000  # orders planned at once
# what a plan reads of each order (the engine's features, and the preview's number, title and node)
PLAN_ORDER_FIELDS = (
    "id",
    "org_id",
    "category",
    "latitude",
    "longitude",
    "promised_by",
    "wanted_from",
    "wanted_until",
    "submitted_at",
    "menu_item_id",
    "description",
    "created_at",
    "status",
)


@dataclass
class Pairs:
    """Eligible (order row, candidate column) pairs with their cost; sorted by row, then cost."""

    rows: np.ndarray
    cols: np.ndarray
    cost: np.ndarray


@dataclass
class Result:
    """An assignment: column per order row (-1 = left unassigned), its cost, and timings in ms."""

    col: np.ndarray  # int64 (n,): candidate column, -1 when unassigned
    cost: np.ndarray  # float32 (n,): cost of the pair, UNASSIGNED when unassigned
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def assigned(self) -> int:
        return int((self.col >= 0).sum())

    @property
    def total(self) -> float:
        """Total cost, unassigned orders counted at UNASSIGNED each."""
        return float(self.cost.sum())

    @property
    def assigned_cost(self) -> float:
        return float(self.cost[self.col >= 0].sum())


def capacities(cf: M.CandidateFeatures, team_capacity: int = TEAM_CAPACITY, volunteer_capacity=VOLUNTEER_CAPACITY):
    """Free places per candidate: its capacity minus the open orders it already holds."""
    cap = np.where(cf.kind == M.TEAM, team_capacity, volunteer_capacity).astype(np.int32)
    return np.maximum(cap - cf.load, 0)


# ------------------------------------------------------------------ building the prices


def eligible_pairs(of: M.OrderFeatures, cf: M.CandidateFeatures, geo: M.OrgGeometry) -> tuple[np.ndarray, np.ndarray]:
    """All (row, col) pairs on related nodes, without pricing the full matrix.

    Candidates are grouped by node; for each node that holds orders we take the candidates of every
    related node (the node, its subtree, its ancestors): a few hundred node pairs, each a slice.
    """
    by_org = np.argsort(cf.org, kind="stable")
    sorted_org = cf.org[by_org]
    k = len(geo.ids)
    starts = np.searchsorted(sorted_org, np.arange(k), side="left")
    ends = np.searchsorted(sorted_org, np.arange(k), side="right")
    rows_out, cols_out = [], []
    order_by_org = np.argsort(of.org, kind="stable")
    o_sorted = of.org[order_by_org]
    for a in np.unique(of.org):
        o_rows = order_by_org[np.searchsorted(o_sorted, a, "left") : np.searchsorted(o_sorted, a, "right")]
        related = np.nonzero(geo.related[a])[0]
        cand = np.concatenate([by_org[starts[b] : ends[b]] for b in related]) if len(related) else np.zeros(0, int)
        if not len(cand) or not len(o_rows):
            continue
        rows_out.append(np.repeat(o_rows, len(cand)))
        cols_out.append(np.tile(cand, len(o_rows)))
    if not rows_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows_out).astype(np.int64), np.concatenate(cols_out).astype(np.int64)


def price_pairs(of: M.OrderFeatures, cf: M.CandidateFeatures, geo: M.OrgGeometry) -> Pairs:
    """Every eligible pair priced (forbidden ones dropped), sorted by order row and then cost."""
    rows, cols = eligible_pairs(of, cf, geo)
    comp = M.components(of, cf, geo, rows, cols)
    cost = M.total_cost(comp)
    ok = np.nonzero(~comp["forbidden"])[0]
    order = ok[np.lexsort((cost[ok], rows[ok]))]
    return Pairs(rows[order], cols[order], cost[order])


def top_k(pairs: Pairs, k: int) -> Pairs:
    """The best `k` pairs of each order (pairs sorted by row, then cost)."""
    if not len(pairs.rows):
        return pairs
    first = np.searchsorted(pairs.rows, pairs.rows, side="left")  # each row's first pair
    keep = (np.arange(len(pairs.rows)) - first) < k
    return Pairs(pairs.rows[keep], pairs.cols[keep], pairs.cost[keep])


# ------------------------------------------------------------------ solvers


def _expand(cap: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Columns after capacity expansion: owner candidate, copy number, and each candidate's first column."""
    offset = np.concatenate([[0], np.cumsum(cap)]).astype(np.int64)
    owner = np.repeat(np.arange(len(cap)), cap)
    copy = np.arange(offset[-1]) - offset[owner]
    return owner, copy, offset


def copy_cost(copy: np.ndarray) -> np.ndarray:
    return (M.WEIGHTS["load"] * copy / M.LOAD_CAP).astype(np.float32)


def solve_sparse(pairs: Pairs, n: int, cap: np.ndarray) -> Result:
    """Min-cost assignment on the pruned pairs (capacity copies + one dummy column per order)."""
    t0 = time.perf_counter()
    cap = cap.astype(np.int64)
    keep = cap[pairs.cols] > 0
    r, c, w = pairs.rows[keep], pairs.cols[keep], pairs.cost[keep]
    _, _, offset = _expand(cap)
    reps = cap[c]
    rr = np.repeat(r, reps)
    cc0 = np.repeat(c, reps)
    copy = np.arange(len(rr)) - np.repeat(np.cumsum(reps) - reps, reps)
    cols = offset[cc0] + copy
    ww = np.repeat(w, reps) + copy_cost(copy)
    n_cols = int(offset[-1])
    # dummy column n_cols + i for order i; +1 on every weight keeps them non-zero (csr drops zeros)
    rr = np.concatenate([rr, np.arange(n)])
    cols = np.concatenate([cols, n_cols + np.arange(n)])
    ww = np.concatenate([ww, np.full(n, UNASSIGNED, dtype=np.float32)]).astype(np.float64) + 1.0
    graph = csr_matrix((ww, (rr, cols)), shape=(n, n_cols + n))
    t1 = time.perf_counter()
    _, match = min_weight_full_bipartite_matching(graph)
    t2 = time.perf_counter()
    owner, _, _ = _expand(cap)
    col = np.full(n, -1, dtype=np.int64)
    real = match < n_cols
    col[real] = owner[match[real]]
    cost = np.asarray(graph[np.arange(n), match]).ravel() - 1.0
    return Result(
        col=col.astype(np.int64),
        cost=cost.astype(np.float32),
        timings={"graph_ms": (t1 - t0) * 1e3, "solve_ms": (t2 - t1) * 1e3},
    )


def solve_dense(cost: np.ndarray, forbidden: np.ndarray, cap: np.ndarray) -> Result:
    """linear_sum_assignment on the full matrix with capacity copies and one dummy column per order."""
    t0 = time.perf_counter()
    n = cost.shape[0]
    owner, copy, _ = _expand(cap.astype(np.int64))
    big = np.where(forbidden, np.float32(FORBIDDEN), cost)
    full = np.empty((n, len(owner) + n), dtype=np.float64)
    full[:, : len(owner)] = big[:, owner] + copy_cost(copy)[None, :]
    full[:, len(owner) :] = FORBIDDEN
    full[np.arange(n), len(owner) + np.arange(n)] = UNASSIGNED
    t1 = time.perf_counter()
    rows, cols = linear_sum_assignment(full)
    t2 = time.perf_counter()
    col = np.full(n, -1, dtype=np.int64)
    pair_cost = np.full(n, UNASSIGNED, dtype=np.float32)
    real = cols < len(owner)
    real &= full[rows, cols] < FORBIDDEN / 2
    col[rows[real]] = owner[cols[real]]
    pair_cost[rows[real]] = full[rows[real], cols[real]]
    return Result(col=col, cost=pair_cost, timings={"matrix_ms": (t1 - t0) * 1e3, "solve_ms": (t2 - t1) * 1e3})


def greedy(pairs: Pairs, n: int, cap: np.ndarray, order: np.ndarray | None = None) -> Result:
    """Baseline: each order in turn (row order, or `order`) takes its cheapest free candidate.

    `pairs` must be sorted by row and then cost and hold every eligible pair (not pruned), so the
    baseline sees exactly the data the optimum sees.
    """
    t0 = time.perf_counter()
    left = cap.astype(np.int64).copy()
    used = np.zeros(len(cap), dtype=np.int64)  # copies taken so far: the next one costs more
    starts = np.searchsorted(pairs.rows, np.arange(n), side="left")
    ends = np.searchsorted(pairs.rows, np.arange(n), side="right")
    col = np.full(n, -1, dtype=np.int64)
    cost = np.full(n, UNASSIGNED, dtype=np.float32)
    extra = M.WEIGHTS["load"] / M.LOAD_CAP
    for i in order if order is not None else range(n):
        cs = pairs.cols[starts[i] : ends[i]]
        if not len(cs):
            continue
        free = left[cs] > 0
        if not free.any():
            continue
        w = pairs.cost[starts[i] : ends[i]] + extra * used[cs]
        w = np.where(free, w, np.inf)
        k = int(np.argmin(w))
        j = int(cs[k])
        col[i], cost[i] = j, w[k]
        left[j] -= 1
        used[j] += 1
    return Result(col=col, cost=cost, timings={"solve_ms": (time.perf_counter() - t0) * 1e3})


# ------------------------------------------------------------------ the service


@dataclass
class PlanRow:
    """One order of a plan and who should serve it (nobody: no eligible candidate left)."""

    order: Order
    team: Team | None = None
    volunteer: Volunteer | None = None
    cost: float = UNASSIGNED
    score: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def assignee(self):
        return self.team or self.volunteer

    @property
    def key(self) -> str:
        """`order:team:pk` / `order:volunteer:pk`: what the confirm form and the API send back."""
        if self.team is not None:
            return f"{self.order.pk}:team:{self.team.pk}"
        if self.volunteer is not None:
            return f"{self.order.pk}:volunteer:{self.volunteer.pk}"
        return ""


@dataclass
class Plan:
    rows: list[PlanRow]
    solver: str
    total: float  # unassigned orders count UNASSIGNED each
    assigned: int
    greedy_total: float
    greedy_assigned: int
    assigned_cost: float  # the cost of the assigned pairs only
    greedy_assigned_cost: float
    candidates: int
    pairs: int
    timings: dict[str, float]

    @property
    def saving(self) -> float:
        """How much cheaper than greedy, in per cent of greedy's total."""
        return 100.0 * (self.greedy_total - self.total) / self.greedy_total if self.greedy_total else 0.0


def batch_assign(
    *,
    actor,
    orders=None,
    candidates: str = "both",
    capacity: dict[str, int] | None = None,
    solver: str = "sparse",
    k: int = 32,
) -> Plan:
    """Plan the dispatch of many orders at once (nothing is written: `batch_apply` does that).

    `orders`: ids or Order rows; only those awaiting dispatch that the actor may dispatch are planned
    (None: all of them). `candidates`: "teams", "volunteers" or "both". `capacity`: open orders a team /
    a volunteer may hold ({"team": 3, "volunteer": 1} by default). `solver`: "sparse" or "dense".
    """
    if candidates not in ("both", "teams", "volunteers"):
        raise ValidationError({"candidates": [_("Choose teams, volunteers or both.")]})
    if solver not in ("sparse", "dense"):
        raise ValidationError({"solver": [_("Unknown solver.")]})
    qs = dispatchable(actor)
    if orders is not None:
        ids = [o.pk if isinstance(o, Order) else int(o) for o in orders]
        qs = qs.filter(pk__in=ids)
    t_start = time.perf_counter()
    order_rows = _plan_orders(qs)
    cap_of = {"team": TEAM_CAPACITY, "volunteer": VOLUNTEER_CAPACITY, **(capacity or {})}
    t0 = time.perf_counter()
    if not order_rows:
        return Plan([], solver, 0.0, 0, 0.0, 0, 0.0, 0.0, 0, 0, {})
    p = M.build_problem(order_rows, teams=candidates != "volunteers", volunteers=candidates != "teams")
    t1 = time.perf_counter()
    n = len(order_rows)
    cap = capacities(p.cf, cap_of["team"], cap_of["volunteer"])
    pairs = price_pairs(p.of, p.cf, p.geo)
    t2 = time.perf_counter()
    if solver == "dense":
        cost, forbidden = M.cost_matrix(p.of, p.cf, p.geo)
        result = solve_dense(cost, forbidden, cap)
    else:
        result = solve_sparse(top_k(pairs, k), n, cap)
    t3 = time.perf_counter()
    base = greedy(pairs, n, cap)
    t4 = time.perf_counter()
    rows = [PlanRow(order=o) for o in order_rows]
    chosen = np.nonzero(result.col >= 0)[0]
    if len(chosen):
        cols = result.col[chosen]
        comp = M.components(p.of, p.cf, p.geo, chosen, cols)
        objs = p.assignees(np.unique(cols))
        for x, (i, j) in enumerate(zip(chosen.tolist(), cols.tolist(), strict=True)):
            obj = objs.get(j)
            if obj is None:  # deleted since the candidates were read
                continue
            row = rows[i]
            if p.cf.kind[j] == M.TEAM:
                row.team = obj
            else:
                row.volunteer = obj
            row.cost = float(result.cost[i])
            row.score = M.score(result.cost[i])
            row.reasons = M.reasons_for(p, comp, i, j, at=(x,))
    return Plan(
        rows=rows,
        solver=solver,
        total=result.total,
        assigned=result.assigned,
        greedy_total=base.total,
        greedy_assigned=base.assigned,
        assigned_cost=result.assigned_cost,
        greedy_assigned_cost=base.assigned_cost,
        candidates=len(p.cf),
        pairs=len(pairs.rows),
        timings={
            "orders_ms": (t0 - t_start) * 1e3,
            "load_ms": (t1 - t0) * 1e3,
            "price_ms": (t2 - t1) * 1e3,
            "solve_ms": (t3 - t2) * 1e3,
            "greedy_ms": (t4 - t3) * 1e3,
            "reasons_ms": (time.perf_counter() - t4) * 1e3,
        },
    )


def _plan_orders(qs) -> list[Order]:
    """The orders to plan with their nodes and menu items, each of those read once and shared (a batch of
    2,000 orders sits on a few hundred nodes and a few dozen menu items)."""
    rows = list(qs.select_related(None).only(*PLAN_ORDER_FIELDS)[:MAX_BATCH])
    orgs = Org.objects.only("id", "path", "name", "depth").in_bulk({o.org_id for o in rows})
    item_ids = {o.menu_item_id for o in rows if o.menu_item_id}
    items = MenuItem.objects.only("id", "title", "expected_minutes").in_bulk(item_ids)
    org_field, item_field = Order.org.field, Order.menu_item.field
    for o in rows:
        org_field.set_cached_value(o, orgs[o.org_id])
        if o.menu_item_id:
            item_field.set_cached_value(o, items[o.menu_item_id])
    return rows


@dataclass
class ApplyReport:
    dispatched: list[Order]
    skipped: list[tuple[int, str]]  # (order id, why)


def parse_keys(keys: list[str]) -> list[tuple[int, str, int]]:
    """["12:team:3", "13:volunteer:9"] → [(12, "team", 3), (13, "volunteer", 9)]; a bad key is a 400."""
    out = []
    for raw in keys:
        parts = str(raw).split(":")
        if len(parts) != 3 or parts[1] not in ("team", "volunteer") or not (parts[0].isdigit() and parts[2].isdigit()):
            raise ValidationError({"assignments": [_("Unreadable assignment: %(key)s") % {"key": str(raw)[:40]}]})
        out.append((int(parts[0]), parts[1], int(parts[2])))
    return out


def batch_apply(
    *,
    actor,
    assignments: list[tuple[int, str, int]],
    promised_by: datetime | None = None,
    now: datetime | None = None,
) -> ApplyReport:
    """Dispatch a confirmed plan in one transaction through `services.order_dispatch` (audited per order).

    Each order gets its own savepoint: an order whose state changed since the plan (taken by someone
    else, cancelled, out of the actor's hands) is skipped and reported, the rest go through.
    """
    from leifeng.orders import services  # the package imports this one only through callers: no cycle

    now = now or timezone.now()
    report = ApplyReport([], [])
    seen: set[int] = set()
    with transaction.atomic():
        for order_id, kind, pk in assignments:
            if order_id in seen:
                report.skipped.append((order_id, _("Listed twice in the plan.")))
                continue
            seen.add(order_id)
            try:
                with transaction.atomic():
                    order = services.order_dispatch(
                        actor=actor,
                        order_id=order_id,
                        team_id=pk if kind == "team" else None,
                        volunteer_ids=[pk] if kind == "volunteer" else None,
                        promised_by=promised_by,
                        note=_("Batch dispatch."),
                        now=now,
                    )
                report.dispatched.append(order)
            except NotFound:
                report.skipped.append((order_id, _("Not found.")))
            except ServiceError as exc:
                report.skipped.append((order_id, exc.message))
            except ValidationError as exc:
                report.skipped.append((order_id, "; ".join(m for ms in field_errors(exc).values() for m in ms)))
        if report.dispatched:
            audit.record(
                actor=actor,
                action=AuditAction.ORDER_BATCH_DISPATCH,
                org=_common_org([o.org for o in report.dispatched]),
                object_type="orders.order",
                object_repr=_("%(count)d orders") % {"count": len(report.dispatched)},
                changes={
                    "dispatched": [o.pk for o in report.dispatched],
                    "skipped": [oid for oid, _why in report.skipped],
                },
            )
    return report


def _common_org(orgs: list[Org]) -> Org | None:
    """The lowest node above all of `orgs` (so the batch's audit row is seen by whoever sees them all)."""
    paths = [o.path for o in orgs]
    prefix = paths[0]
    for p in paths[1:]:
        while not p.startswith(prefix):
            prefix = prefix[: -Org.steplen]
    return Org.objects.filter(path=prefix).first() if prefix else None

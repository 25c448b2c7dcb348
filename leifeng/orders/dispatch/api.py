"""/api/v1/orders/dispatch/: suggestions for one order, and batch dispatch (plan, then apply).

Mounted in leifeng/config/api.py. Out of scope and nonexistent orders are both 404; writes go through
`services.batch_apply` (the orders app's dispatch service, audited).
"""

from django.http import Http404
from ninja import Router, Schema

from leifeng.core.errors import NotFound
from leifeng.core.roles import Perm
from leifeng.core.schemas import Id
from leifeng.orders.dispatch import matching, selectors
from leifeng.orders.dispatch import services as dispatching
from leifeng.orders.policy import order_policy

router = Router(tags=["orders: dispatch"])

# A database id: above PostgreSQL's bigint (or SQLite's integer) it is no id, refused with a 422 naming the field.


class SuggestionOut(Schema):
    kind: str  # "team" or "volunteer"
    id: int
    name: str
    score: int
    reasons: list[str]


class PlanIn(Schema):
    order_ids: list[Id] | None = None  # None: every order awaiting dispatch in the caller's area
    candidates: str = "teams"  # teams / volunteers / both
    team_capacity: int = dispatching.TEAM_CAPACITY
    solver: str = "sparse"  # sparse / dense


class PlanRowOut(Schema):
    order_id: int
    number: str
    assignment: str  # "order:team:id" / "order:volunteer:id"; "" when nobody is eligible
    assignee: str
    score: int
    reasons: list[str]


class PlanOut(Schema):
    rows: list[PlanRowOut]
    assigned: int
    total_cost: float
    greedy_total_cost: float
    greedy_assigned: int
    saving_percent: float
    timings_ms: dict[str, float]


class ApplyIn(Schema):
    assignments: list[str]  # keys from a plan


class SkippedOut(Schema):
    order_id: int
    reason: str


class ApplyOut(Schema):
    dispatched: list[int]
    skipped: list[SkippedOut]


class SuggestionsOut(Schema):
    """The top `limit` candidates, best first (a ranking, so `count` is the number returned)."""

    items: list[SuggestionOut]
    count: int


@router.get("/suggestions/{order_id}", response=SuggestionsOut)
def suggestions(request, order_id: Id, limit: int = 5):
    """The best candidates for one order awaiting dispatch, with the reasons (needs the right to dispatch it)."""
    order = selectors.order_to_dispatch(actor=request.auth, order_id=order_id)
    items = [
        {"kind": s.kind, "id": s.assignee.pk, "name": s.assignee.name, "score": s.score, "reasons": s.reasons}
        for s in matching.suggest(order, limit=max(1, min(limit, 50)))
    ]
    return {"items": items, "count": len(items)}


def _check_scope(actor, order_ids) -> None:
    """404 unless the actor may dispatch somewhere and every listed order lies where they may (out of scope
    and nonexistent look the same)."""
    if not order_policy.is_staff(actor, Perm.CHANGE):
        raise Http404
    if not selectors.may_dispatch_all(actor, order_ids):
        raise NotFound()


@router.post("/batch/plan", response=PlanOut)
def batch_plan(request, payload: PlanIn):
    """Plan many orders at once (nothing is written); total cost against a greedy assignment of the same data."""
    _check_scope(request.auth, payload.order_ids)
    plan = dispatching.batch_assign(
        actor=request.auth,
        orders=payload.order_ids,
        candidates=payload.candidates,
        capacity={"team": max(1, min(payload.team_capacity, 50))},
        solver=payload.solver,
    )
    return {
        "rows": [
            {
                "order_id": r.order.pk,
                "number": r.order.number,
                "assignment": r.key,
                "assignee": r.assignee.name if r.assignee else "",
                "score": r.score if r.assignee else 0,
                "reasons": r.reasons,
            }
            for r in plan.rows
        ],
        "assigned": plan.assigned,
        "total_cost": plan.total,
        "greedy_total_cost": plan.greedy_total,
        "greedy_assigned": plan.greedy_assigned,
        "saving_percent": plan.saving,
        "timings_ms": plan.timings,
    }


@router.post("/batch/apply", response=ApplyOut)
def batch_apply(request, payload: ApplyIn):
    """Dispatch the confirmed assignments; orders that changed meanwhile are skipped and listed."""
    keys = dispatching.parse_keys(payload.assignments)
    _check_scope(request.auth, [order_id for order_id, _kind, _pk in keys])
    report = dispatching.batch_apply(actor=request.auth, assignments=keys)
    return {
        "dispatched": [o.pk for o in report.dispatched],
        "skipped": [{"order_id": oid, "reason": why} for oid, why in report.skipped],
    }

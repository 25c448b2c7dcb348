"""Pages of the matching engine: the batch dispatch board (the per-order suggestions show on orders:dispatch)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from leifeng.core.roles import Perm
from leifeng.orders.dispatch import selectors
from leifeng.orders.dispatch import services as dispatching
from leifeng.orders.policy import order_policy

SHOWN = 50


@login_required
def batch(request: HttpRequest) -> HttpResponse:
    """GET: the orders awaiting dispatch; POST action=plan: a preview with reasons; action=apply: dispatch."""
    if not order_policy.is_staff(request.user, Perm.CHANGE):
        raise Http404
    data = request.POST if request.method == "POST" else request.GET
    candidates = data.get("candidates") if data.get("candidates") in ("teams", "volunteers", "both") else "teams"
    raw_cap = str(data.get("team_capacity") or "")
    team_capacity = min(max(int(raw_cap), 1), 50) if raw_cap.isdigit() else dispatching.TEAM_CAPACITY
    plan = report = None
    if request.method == "POST" and data.get("action") == "apply":
        try:
            keys = dispatching.parse_keys(request.POST.getlist("assign"))
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            report = dispatching.batch_apply(actor=request.user, assignments=keys)
            messages.success(request, _("%(count)d orders dispatched.") % {"count": len(report.dispatched)})
    elif request.method == "POST" and data.get("action") == "plan":
        plan = dispatching.batch_assign(actor=request.user, candidates=candidates, capacity={"team": team_capacity})
    qs = selectors.dispatchable(request.user)
    return render(
        request,
        "orders/dispatch_batch.html",
        {
            "orders": list(qs[:SHOWN]) if plan is None else [],
            "total": qs.count(),
            "plan": plan,
            "report": report,
            "candidates": candidates,
            "team_capacity": team_capacity,
        },
    )

"""Reads about orders, always scoped to the actor through the orders policy (`leifeng.orders.policy`, which says
who sees an order). Anything else answers 404, exactly like an order that does not exist.
"""

from dataclasses import dataclass
from datetime import timedelta
from statistics import median

from django.db.models import Avg, Count, Q, QuerySet
from django.http import Http404

from leifeng.core.roles import Perm
from leifeng.orders.models import MenuItem, Order, OrderEvent, OrderStatus
from leifeng.orders.policy import led_teams, menu_policy, order_policy
from leifeng.orgs import policy as org_policy
from leifeng.orgs.models import Org
from leifeng.teams.selectors import ancestor_paths

S = OrderStatus


# ---------------------------------------------------------------- menus


def menu_for(org: Org) -> QuerySet:
    """The active menu a resident of `org` sees: the node's own items and those of every node above it."""
    return (
        MenuItem.objects.filter(org__path__in=ancestor_paths(org.path), active=True)
        .select_related("org")
        .order_by("-org__depth", "category", "title")
    )


def menu_list(*, actor, org_id: int | None = None) -> QuerySet:
    """Staff view of menus in scope (active or not)."""
    qs = menu_policy.visible(actor, Perm.VIEW, MenuItem.objects.select_related("org"))
    if org_id:
        org = Org.objects.filter(pk=org_id).first()
        qs = qs.filter(org__path__startswith=org.path) if org else qs.none()
    return qs.order_by("org__path", "category", "title")


def menu_item_get(*, actor, item_id: int) -> MenuItem:
    """A service of a menu the actor may change; anything else is 404."""
    item = MenuItem.objects.select_related("org").filter(pk=item_id).first()
    if item is None or not menu_policy.allows(actor, Perm.CHANGE, item):
        raise Http404
    return item


def menu_team_choices(*, org: Org) -> list:
    """Active teams that may provide a service of `org`'s menu: of that node, above it or below it."""
    from leifeng.teams.models import Team

    line = Q(org__path__in=ancestor_paths(org.path)) | Q(org__path__startswith=org.path)
    return list(Team.objects.filter(line, is_active=True).select_related("org").order_by("org__path", "name")[:200])


def public_station(station_id) -> Org:
    org = Org.objects.filter(pk=station_id).first() if str(station_id).isdigit() else None
    if org is None:
        raise Http404
    return org


# ---------------------------------------------------------------- orders


@dataclass
class OrderFilters:
    status: str = ""
    q: str = ""  # phone, name or part of the description
    org_id: int | None = None
    overdue: bool = False
    duplicates: bool = False

    @classmethod
    def from_params(cls, params) -> "OrderFilters":
        status = str(params.get("status") or "").strip()
        org_raw = str(params.get("org") or "").strip()
        return cls(
            status=status if status in S.values else "",
            q=str(params.get("q") or "").strip()[:50],
            org_id=int(org_raw) if org_raw.isdigit() else None,
            overdue=str(params.get("overdue") or "") in ("1", "true", "on"),
            duplicates=str(params.get("duplicates") or "") in ("1", "true", "on"),
        )


def _staff_q(actor) -> Q:
    return order_policy.staff_q(actor, Perm.VIEW)


def _list_qs() -> QuerySet:
    return Order.objects.select_related("org", "menu_item", "team", "duplicate_of")


def order_list(*, actor, filters: OrderFilters | None = None, now=None) -> QuerySet:
    """The staff inbox: orders of the actor's subtree (owned now or placed there)."""
    filters = filters or OrderFilters()
    qs = _list_qs().filter(_staff_q(actor))
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.org_id:
        org = Org.objects.filter(pk=filters.org_id).first()
        qs = qs.filter(org__path__startswith=org.path) if org else qs.none()
    if filters.q:
        qs = qs.filter(
            Q(resident_phone__contains=filters.q)
            | Q(resident_name__contains=filters.q)
            | Q(description__contains=filters.q)
            | Q(menu_item__title__contains=filters.q)
        )
    if filters.overdue:
        qs = qs.filter(escalation_level__gt=0, status__in=[S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED, S.TAKEN])
    if filters.duplicates:
        qs = qs.filter(duplicate_of__isnull=False, status__in=[S.SUBMITTED, S.ACCEPTED])
    return qs.order_by("-created_at", "-id")


def status_counts(*, actor) -> dict[str, int]:
    """Inbox tabs: how many orders of the subtree are in each status (one GROUP BY query)."""
    rows = Order.objects.filter(_staff_q(actor)).values("status").annotate(n=Count("id")).order_by()
    counts = {s: 0 for s in S.values}
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def _assignee_q(actor) -> Q:
    return order_policy.assignee_q(actor)


def grabbable(*, actor) -> list[Order]:
    """Open orders that a team the actor leads may grab (category and line of the tree match)."""
    teams = led_teams(actor)
    if not teams:
        return []
    paths = {p for t in teams for p in ancestor_paths(t.org.path)}
    q = Q(org__path__in=paths)
    for t in teams:
        q |= Q(org__path__startswith=t.org.path)
    categories = {t.category for t in teams}
    orders = (
        _list_qs()
        .filter(q, status=S.OPEN)
        .filter(Q(category="") | Q(category__in=categories))
        .order_by("accept_by", "id")[:100]
    )
    return [o for o in orders if order_policy.may_grab(actor, o)]


def my_orders(*, actor) -> QuerySet:
    """Orders offered to the actor's teams (as leader or deputy) or to the actor themself."""
    return _list_qs().filter(_assignee_q(actor)).distinct().order_by("-created_at", "-id")


@dataclass
class OrderAccess:
    view: bool = False
    change: bool = False  # review and dispatch (Perm.CHANGE at the owning node)
    answer: bool = False  # the actor holds an offer or an accepted assignment
    grab: bool = False


def order_get(*, actor, order_id) -> Order:
    """The order if the actor may see it; 404 otherwise."""
    try:
        pk = int(order_id)
    except (TypeError, ValueError):
        raise Http404 from None
    order = _list_qs().select_related("origin_org", "merged_into", "entered_by").filter(pk=pk).first()
    if order is None:
        raise Http404
    if order_policy.may_see(actor, order):
        return order
    if Order.objects.filter(_assignee_q(actor), pk=pk).exists():
        return order
    if order_policy.may_grab(actor, order):
        return order
    raise Http404


def order_access(*, actor, order: Order) -> OrderAccess:
    from leifeng.orders.models import AssignmentStatus

    live = order.assignments.filter(status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED])
    mine = live.filter(order_policy.own_assignments_q(actor))
    return OrderAccess(
        view=True,
        change=order_policy.may_run(actor, order),
        answer=mine.exists(),
        grab=order_policy.may_grab(actor, order),
    )


def my_assignment_states(*, actor, order: Order) -> set[str]:
    return set(order.assignments.filter(order_policy.own_assignments_q(actor)).values_list("status", flat=True))


def order_by_token(token: str) -> Order:
    order = (
        Order.objects.select_related("org", "menu_item", "team", "merged_into").filter(token=token).first()
        if token
        else None
    )
    if order is None:
        raise Http404
    return order


def order_events(*, order: Order, public_only: bool = False) -> QuerySet:
    qs = OrderEvent.objects.filter(order=order).select_related("actor", "org")
    if public_only:
        qs = qs.filter(public=True)
    return qs.order_by("at", "id")


def dispatch_candidates(*, order: Order):
    """Teams and volunteers the station may dispatch to: active teams of the order's line of the tree."""
    from leifeng.people.models import Volunteer, VolunteerStatus
    from leifeng.teams.models import Team

    paths = ancestor_paths(order.org.path)
    line = Q(org__path__in=paths) | Q(org__path__startswith=order.org.path)
    teams = Team.objects.filter(line, is_active=True).select_related("org", "leader").order_by("-category", "name")
    if order.category:
        teams = sorted(teams, key=lambda t: (t.category != order.category, t.name))
    volunteers = Volunteer.objects.filter(
        Q(org__path__startswith=order.org.path), status=VolunteerStatus.APPROVED
    ).order_by("name")[:200]
    return list(teams)[:200], list(volunteers)


def push_down_targets(*, order: Order) -> QuerySet:
    return Org.objects.filter(path__startswith=order.org.path, depth=order.org.depth + 1).order_by("path")


def merge_targets(*, actor, order: Order) -> list[Order]:
    """Other open orders of the same resident in scope: what a duplicate can be merged into."""
    return list(
        _list_qs()
        .filter(_staff_q(actor), resident_phone=order.resident_phone)
        .exclude(pk=order.pk)
        .filter(status__in=[S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED, S.TAKEN, S.FOLLOW_UP])[:20]
    )


def escalations(*, actor) -> QuerySet:
    """Overdue orders escalated to or inside the actor's subtree, still open."""
    return (
        order_list(actor=actor)
        .filter(escalation_level__gt=0)
        .filter(status__in=[S.SUBMITTED, S.ACCEPTED, S.OPEN, S.DISPATCHED, S.TAKEN])
        .order_by("-escalated_at")
    )


# ---------------------------------------------------------------- figures


@dataclass
class Figures:
    label: str
    volume: int = 0
    closed: int = 0
    avg_accept_h: float | None = None
    median_accept_h: float | None = None
    avg_complete_h: float | None = None
    median_complete_h: float | None = None
    rated: int = 0
    satisfaction: float | None = None  # average stars
    low_ratings: int = 0


def _hours(td: timedelta | None) -> float | None:
    return round(td.total_seconds() / 3600, 1) if td is not None else None


def _figures(label: str, qs: QuerySet) -> Figures:
    agg = qs.aggregate(
        volume=Count("id"),
        closed=Count("id", filter=Q(status=S.CLOSED)),
        rated=Count("id", filter=Q(rating__isnull=False)),
        satisfaction=Avg("rating"),
        low=Count("id", filter=Q(rating__lte=2)),
    )
    durations = list(qs.filter(taken_at__isnull=False).values_list("submitted_at", "taken_at", "completed_at"))
    accept = [t - c for c, t, _d in durations]
    complete = [d - c for c, _t, d in durations if d is not None]
    return Figures(
        label=label,
        volume=agg["volume"],
        closed=agg["closed"],
        avg_accept_h=_hours(sum(accept, timedelta()) / len(accept)) if accept else None,
        median_accept_h=_hours(median(accept)) if accept else None,
        avg_complete_h=_hours(sum(complete, timedelta()) / len(complete)) if complete else None,
        median_complete_h=_hours(median(complete)) if complete else None,
        rated=agg["rated"],
        satisfaction=round(agg["satisfaction"], 2) if agg["satisfaction"] is not None else None,
        low_ratings=agg["low"],
    )


def figures(*, actor, org_id: int | None = None) -> dict:
    """Volume, time to accept (placed → accepted by the assignee), time to complete (placed → done) and
    satisfaction, for the chosen node's subtree, each node just below it, and each team serving there."""
    roots = org_policy.orgs(actor, Perm.VIEW).order_by("path")
    org = roots.filter(pk=org_id).first() if org_id else roots.first()
    if org is None:
        raise Http404
    base = Order.objects.filter(Q(org__path__startswith=org.path) | Q(origin_org__path__startswith=org.path))
    total = _figures(org.name, base)
    rows = [
        _figures(child.name, base.filter(Q(org__path__startswith=child.path)))
        for child in Org.objects.filter(path__startswith=org.path, depth=org.depth + 1).order_by("path")
    ]
    team_rows = []
    team_ids = base.exclude(team__isnull=True).order_by().values_list("team_id", flat=True).distinct()
    from leifeng.teams.models import Team

    for team in Team.objects.filter(pk__in=list(team_ids)).order_by("name"):
        team_rows.append(_figures(team.name, base.filter(team=team)))
    counts = dict(base.values("status").annotate(n=Count("id")).order_by().values_list("status", "n"))
    statuses = [(value, label, counts.get(value, 0)) for value, label in S.choices]
    return {"org": org, "total": total, "nodes": rows, "teams": team_rows, "orgs": roots, "statuses": statuses}

"""The matching engine from the database: the candidates of a set of orders as arrays (`build_problem`), and
the ranked suggestions on one order with the reasons people read (`suggest`). The cost model itself — weights,
components, eligibility — is `costs.py` (its names are re-exported here: `matching.WEIGHTS`, …).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Avg, BitOr, Case, Count, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from leifeng.orders.dispatch.costs import (
    CATEGORIES,
    CATEGORY_BIT,
    DEFAULT_WANTED_MINUTES,
    DISTANCE_CAP_KM,
    HOPS_CAP,
    LOAD_CAP,
    MAX_WINDOW,
    ORG_STEPLEN,
    SLOT_BITS,
    TEAM,
    UNKNOWN_AVAILABILITY,
    UNKNOWN_RATING,
    VOLUNTEER,
    WEIGHTS,
    CandidateFeatures,
    OrderFeatures,
    OrgGeometry,
    components,
    cost_matrix,
    haversine_km,
    order_org_km,
    order_slot,
    score,
    slot_mask,
    slot_of,
    slots_between,
    total_cost,
    wanted_window,
)
from leifeng.orders.models import OPEN_STATUSES, Assignment, AssignmentStatus, MenuItem, Order, wanted_text
from leifeng.orgs.models import Org
from leifeng.people.models import Skill, Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamMembership

__all__ = [
    "CATEGORIES",
    "CATEGORY_BIT",
    "DEFAULT_WANTED_MINUTES",
    "DISTANCE_CAP_KM",
    "HOPS_CAP",
    "LOAD_CAP",
    "MAX_WINDOW",
    "ORG_STEPLEN",
    "SLOT_BITS",
    "TEAM",
    "UNKNOWN_AVAILABILITY",
    "UNKNOWN_RATING",
    "VOLUNTEER",
    "WEIGHTS",
    "CandidateFeatures",
    "OrderFeatures",
    "OrgGeometry",
    "Problem",
    "Suggestion",
    "build_problem",
    "components",
    "cost_matrix",
    "haversine_km",
    "order_org_km",
    "order_skill_names",
    "order_slot",
    "reasons_for",
    "score",
    "slot_mask",
    "slot_of",
    "slots_between",
    "suggest",
    "total_cost",
    "wanted_window",
]

# ------------------------------------------------------------------ from the database


def order_skill_names(orders: list[Order], names: list[str]) -> list[set[str]]:
    """Skills each order names in its menu item title or description (substring match)."""
    out = []
    for o in orders:
        text = f"{o.menu_item.title if o.menu_item_id else ''} {o.description or ''}"
        out.append({n for n in names if n and n in text})
    return out


def _common_prefix(paths: list[str]) -> str:
    """The path of the lowest node above (or at) every one of `paths`."""
    lo, hi = min(paths), max(paths)
    n = 0
    while n + ORG_STEPLEN <= min(len(lo), len(hi)) and lo[n : n + ORG_STEPLEN] == hi[n : n + ORG_STEPLEN]:
        n += ORG_STEPLEN
    return lo[:n]


def _candidate_nodes(order_paths: list[str]) -> Q:
    """Where candidates may sit, as one join condition on the org path: the subtree of the lowest node
    above all the orders, and that node's ancestors (a superset of the related nodes; the exact set is
    kept in Python from the few nodes read)."""
    top = _common_prefix(order_paths)
    ancestors = [top[:i] for i in range(ORG_STEPLEN, len(top), ORG_STEPLEN)]
    return Q(path__startswith=top) | Q(path__in=ancestors)


def _is_related(path: str, order_paths: set[str], order_prefixes: set[str]) -> bool:
    """A node is related when it is an order's node or above it (a prefix), or below one."""
    if path in order_prefixes:
        return True
    return any(path[:i] in order_paths for i in range(ORG_STEPLEN, len(path) + 1, ORG_STEPLEN))


@dataclass
class Problem:
    """Everything the engine needs about a set of orders and their candidates."""

    orders: list[Order]
    of: OrderFeatures
    cf: CandidateFeatures
    geo: OrgGeometry
    skill_names: list[str]
    org_names: dict[int, str]
    wanted: list[str] = field(default_factory=list)  # each order's wanted window as people read it ("" if none)

    def assignees(self, cols) -> dict[int, Team | Volunteer]:
        """The Team / Volunteer rows of candidate columns `cols` (two queries, however many columns)."""
        cols = [int(j) for j in cols]
        team_ids = {int(self.cf.pk[j]) for j in cols if self.cf.kind[j] == TEAM}
        vol_ids = {int(self.cf.pk[j]) for j in cols if self.cf.kind[j] == VOLUNTEER}
        teams = Team.objects.only("id", "name", "org_id", "category").in_bulk(team_ids) if team_ids else {}
        vols = Volunteer.objects.only("id", "name", "number", "org_id").in_bulk(vol_ids) if vol_ids else {}
        out: dict[int, Team | Volunteer] = {}
        for j in cols:
            found = (teams if self.cf.kind[j] == TEAM else vols).get(int(self.cf.pk[j]))
            if found is not None:
                out[j] = found
        return out


def _category_bits() -> BitOr:
    """SQL: the OR of the category bits of a volunteer's teams (one hashed aggregate, every backend)."""
    return BitOr(
        Case(
            *[When(team__category=c, then=Value(1 << i)) for i, c in enumerate(CATEGORIES)],
            default=Value(0),
            output_field=IntegerField(),
        )
    )


def _scatter(sorted_pks: np.ndarray, offset: int, rows, out: list[np.ndarray]) -> None:
    """Write aggregated rows (pk, v1, v2, …) into `out[k][offset + position of pk]` (pks missing are ignored)."""
    rows = list(rows)
    if not rows or not len(sorted_pks):
        return
    arr = np.array(rows, dtype=np.float64)
    pos = np.searchsorted(sorted_pks, arr[:, 0].astype(np.int64))
    pos = np.minimum(pos, len(sorted_pks) - 1)
    hit = sorted_pks[pos] == arr[:, 0].astype(np.int64)
    for k, target in enumerate(out):
        target[offset + pos[hit]] = arr[hit, k + 1].astype(target.dtype)


def _or_bits(sorted_pks: np.ndarray, offset: int, pairs, bit: dict[str, int], target: np.ndarray) -> None:
    """target[offset + position of pk] |= bit[name] for each (pk, name) row."""
    pairs = [(pk, bit[name]) for pk, name in pairs if name in bit]
    if not pairs or not len(sorted_pks):
        return
    arr = np.array(pairs, dtype=np.int64)
    pos = np.searchsorted(sorted_pks, arr[:, 0])
    np.bitwise_or.at(target, offset + pos, arr[:, 1].astype(np.uint64))


def build_problem(orders: list[Order], *, teams: bool = True, volunteers: bool = True) -> Problem:
    """Load the candidates of `orders` and turn both into arrays (a fixed number of queries).

    Candidates are read as plain values (no model rows): every query is set-based, the candidate set is
    a join on the nodes involved (a subquery, never a list of ids), and per-candidate figures come
    aggregated by the database (category bits, load, rating). Queries: orders' nodes; related nodes;
    skills; teams; volunteers; volunteers' categories; loads and ratings (two per kind); skills the
    orders name (two, only when they name some); menu-item providers. Rows of the chosen assignees are
    fetched later by `Problem.assignees`.
    """
    orders = list(orders)
    org_ids = {o.org_id for o in orders}
    if all(Order.org.is_cached(o) for o in orders):
        order_paths = [o.org.path for o in orders]
    else:
        order_paths = list(Org.objects.filter(pk__in=org_ids).values_list("path", flat=True))
    org_q = _candidate_nodes(order_paths)
    paths_set = set(order_paths)
    prefixes = {p[:i] for p in paths_set for i in range(ORG_STEPLEN, len(p) + 1, ORG_STEPLEN)}
    orgs = [
        o
        for o in Org.objects.filter(org_q).order_by("path").values_list("id", "path", "name", "latitude", "longitude")
        if _is_related(o[1], paths_set, prefixes)
    ]
    geo = OrgGeometry.from_paths(
        [o[0] for o in orgs],
        [o[1] for o in orgs],
        lat=[_num(o[3]) for o in orgs],
        lng=[_num(o[4]) for o in orgs],
        names=[o[2] for o in orgs],
    )
    gi = geo.index()
    nodes = Org.objects.filter(org_q).values("id")  # the candidates' nodes, as a subquery (a superset)
    approved = Volunteer.objects.filter(org__in=nodes, status=VolunteerStatus.APPROVED)

    skill_names = sorted(Skill.objects.values_list("name", flat=True))
    named = order_skill_names(orders, skill_names)
    used = sorted(set().union(*named)) if named else []
    used = used[:63]  # one bit each in a uint64
    bit = {n: 1 << i for i, n in enumerate(used)}

    team_rows = (
        list(Team.objects.filter(org__in=nodes, is_active=True).order_by("id").values_list("id", "org_id", "category"))
        if teams
        else []
    )
    vol_rows = (
        list(approved.order_by("id").values_list("id", "org_id", Cast("available_times", TextField())))
        if volunteers
        else []
    )
    # the join read a superset of the related nodes: keep the candidates of related ones
    team_rows = [r for r in team_rows if r[1] in gi]
    vol_rows = [r for r in vol_rows if r[1] in gi]
    n_teams, n_vols = len(team_rows), len(vol_rows)
    m = n_teams + n_vols
    team_pk = np.array([r[0] for r in team_rows], dtype=np.int64)
    vol_pk = np.array([r[0] for r in vol_rows], dtype=np.int64)
    masks: dict[str, int] = {}

    def mask_of(text) -> int:
        if text not in masks:
            try:
                masks[text] = slot_mask(json.loads(text) if text else [])
            except (TypeError, ValueError):
                masks[text] = 0
        return masks[text]

    cats = np.zeros(m, dtype=np.uint32)
    cats[:n_teams] = [1 << CATEGORY_BIT.get(r[2], CATEGORY_BIT[TeamCategory.OTHER]) for r in team_rows]
    corg = np.array([gi[r[1]] for r in team_rows] + [gi[r[1]] for r in vol_rows], dtype=np.int32)
    avail = np.zeros(m, dtype=np.uint8)
    if n_vols:
        avail[n_teams:] = [mask_of(r[2]) for r in vol_rows]
        # each volunteer's categories: the teams they actively belong to, OR-ed by the database
        _scatter(
            vol_pk,
            n_teams,
            TeamMembership.objects.filter(
                volunteer__in=approved.values("id"), status=MembershipStatus.ACTIVE, team__is_active=True
            )
            .values("volunteer_id")
            .annotate(bits=_category_bits())
            .values_list("volunteer_id", "bits"),
            [cats],
        )

    order_slots = [order_slot(o) for o in orders]
    if n_teams and any(order_slots):
        # a team is available when one of its active members is: OR of the members' time slots
        team_at = {int(pk): j for j, pk in enumerate(team_pk)}
        for team_id, text in (
            TeamMembership.objects.filter(team__org__in=nodes, team__is_active=True, status=MembershipStatus.ACTIVE)
            .exclude(volunteer__available_times=[])
            .order_by()
            .values_list("team_id", Cast("volunteer__available_times", TextField()))
            .distinct()  # members share a few combinations of slots: a few rows per team
        ):
            if team_id in team_at:
                avail[team_at[team_id]] |= mask_of(text)

    skills = np.zeros(m, dtype=np.uint64)
    if used and n_vols:
        _or_bits(
            vol_pk,
            n_teams,
            Volunteer.skills.through.objects.filter(
                volunteer__in=approved.values("id"), skill__name__in=used
            ).values_list("volunteer_id", "skill__name"),
            bit,
            skills,
        )
    if used and n_teams:
        # a team has the skills of its active members
        _or_bits(
            team_pk,
            0,
            TeamMembership.objects.filter(
                team__org__in=nodes,
                team__is_active=True,
                status=MembershipStatus.ACTIVE,
                volunteer__skills__name__in=used,
            )
            .values_list("team_id", "volunteer__skills__name")
            .distinct(),
            bit,
            skills,
        )

    load = np.zeros(m, dtype=np.int32)
    rating = np.full(m, np.nan, dtype=np.float32)
    rated = np.zeros(m, dtype=np.int32)
    live = Q(status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED], order__status__in=OPEN_STATUSES)
    if n_teams:
        _scatter(
            team_pk,
            0,
            Assignment.objects.filter(live, team__org__in=nodes)
            .values("team_id")
            .annotate(n=Count("id"))
            .values_list("team_id", "n"),
            [load],
        )
        _scatter(
            team_pk,
            0,
            Order.objects.filter(team__org__in=nodes, rating__isnull=False)
            .values("team_id")
            .annotate(avg=Avg("rating"), n=Count("id"))
            .values_list("team_id", "avg", "n"),
            [rating, rated],
        )
    if n_vols:
        _scatter(
            vol_pk,
            n_teams,
            Assignment.objects.filter(live, volunteer__in=approved.values("id"))
            .values("volunteer_id")
            .annotate(n=Count("id"))
            .values_list("volunteer_id", "n"),
            [load],
        )
        _scatter(
            vol_pk,
            n_teams,
            Assignment.objects.filter(
                volunteer__in=approved.values("id"),
                status__in=[AssignmentStatus.ACCEPTED, AssignmentStatus.DONE],
                order__rating__isnull=False,
            )
            .values("volunteer_id")
            .annotate(avg=Avg("order__rating"), n=Count("order_id", distinct=True))
            .values_list("volunteer_id", "avg", "n"),
            [rating, rated],
        )

    providers: list[set[int]] = [set() for _ in orders]
    item_ids = {o.menu_item_id for o in orders if o.menu_item_id}
    if item_ids and n_teams:
        team_col = {int(pk): j for j, pk in enumerate(team_pk)}
        listed: dict[int, set[int]] = {}
        for item_id, tid in MenuItem.teams.through.objects.filter(menuitem_id__in=item_ids).values_list(
            "menuitem_id", "team_id"
        ):
            if tid in team_col:
                listed.setdefault(item_id, set()).add(team_col[tid])
        for i, o in enumerate(orders):
            providers[i] = set(listed.get(o.menu_item_id, ()))

    of = OrderFeatures(
        category=np.array([CATEGORY_BIT.get(o.category, -1) if o.category else -1 for o in orders], dtype=np.int16),
        lat=np.array([_num(o.latitude) for o in orders], dtype=np.float64),
        lng=np.array([_num(o.longitude) for o in orders], dtype=np.float64),
        org=np.array([gi[o.org_id] for o in orders], dtype=np.int32),
        slot=np.array(order_slots, dtype=np.uint8),
        skills=np.array([sum(bit[n] for n in s if n in bit) for s in named], dtype=np.uint64),
        providers=providers,
    )
    cf = CandidateFeatures(
        kind=np.concatenate([np.full(n_teams, TEAM, dtype=np.int8), np.full(n_vols, VOLUNTEER, dtype=np.int8)]),
        pk=np.concatenate([team_pk, vol_pk]),
        categories=cats,
        org=corg,
        load=load,
        rating=rating,
        rated=rated,
        available=avail,
        skills=skills,
    )
    return Problem(
        orders=orders,
        of=of,
        cf=cf,
        geo=geo,
        skill_names=used,
        org_names={int(pk): n for pk, n in zip(geo.ids, geo.names, strict=True)},
        wanted=[wanted_text(o.wanted_from, o.wanted_until) for o in orders],
    )


def _num(value) -> float:
    return float(value) if value is not None else float("nan")


# ------------------------------------------------------------------ reasons and suggestions


@dataclass
class Suggestion:
    """One ranked candidate for an order, with the reasons people read."""

    team: Team | None
    volunteer: Volunteer | None
    score: int
    cost: float
    reasons: list[str]

    @property
    def assignee(self):
        return self.team or self.volunteer

    @property
    def kind(self) -> str:
        return "team" if self.team is not None else "volunteer"


@functools.lru_cache(maxsize=32)
def _reason_texts(language: str | None) -> dict:
    """The reasons' texts in one language, translated once (a batch writes thousands of reasons)."""
    return {
        "provider": _("Listed provider of “%(item)s”"),
        "category": _("Category match: %(category)s"),
        "categories": [str(TeamCategory(c).label) for c in CATEGORIES],
        "skill": _("Skill: %(skills)s"),
        "km": _("Distance %(km).1f km"),
        "same": _("Same node: %(org)s"),
        "hops": _("Tree distance %(hops)d: %(org)s (no coordinates)"),
        "load": _("Currently handling %(count)d orders"),
        "rating": _("Past rating %(rating).1f (%(count)d rated)"),
        "unrated": _("No ratings yet"),
        "no_time": _("Available time not given"),
        "fits": _("Available at the wanted time"),
        "misfits": _("Usually not available at the wanted time"),
        "fits_at": _("Available at the wanted time %(window)s"),
        "misfits_at": _("Usually not available at the wanted time %(window)s"),
        "team_no_time": _("Members' available time not given"),
        "team_fits": _("Members available at the wanted time"),
        "team_misfits": _("Members usually not available at the wanted time"),
        "team_fits_at": _("Members available at the wanted time %(window)s"),
        "team_misfits_at": _("Members usually not available at the wanted time %(window)s"),
    }


def reasons_for(p: Problem, comp: dict[str, np.ndarray], i: int, j: int, at=None) -> list[str]:
    """Why candidate column j suits order row i (`at` indexes the component arrays; default [i, j])."""
    at = (i, j) if at is None else at
    t = _reason_texts(get_language())
    out: list[str] = []
    order = p.orders[i] if i < len(p.orders) else None
    if bool(comp["provider_flag"][at]) and order is not None and order.menu_item_id:
        out.append(t["provider"] % {"item": order.menu_item.title})
    if bool(comp["category_ok"][at]):
        out.append(t["category"] % {"category": t["categories"][p.of.category[i]]})
    if bool(comp["skill_hit"][at]):
        hits = [n for k, n in enumerate(p.skill_names) if int(p.of.skills[i] & p.cf.skills[j]) >> k & 1]
        out.append(t["skill"] % {"skills": "、".join(hits)})
    km = float(comp["km"][at])
    if not np.isnan(km):
        out.append(t["km"] % {"km": km})
    else:
        hops = int(p.geo.hops[p.of.org[i], p.cf.org[j]])
        org_name = p.geo.names[p.cf.org[j]] if p.geo.names else ""
        if hops == 0:
            out.append(t["same"] % {"org": org_name})
        else:
            out.append(t["hops"] % {"hops": hops, "org": org_name})
    out.append(t["load"] % {"count": int(p.cf.load[j])})
    if p.cf.rated[j]:
        out.append(t["rating"] % {"rating": float(p.cf.rating[j]), "count": p.cf.rated[j]})
    else:
        out.append(t["unrated"])
    if p.of.slot[i]:
        prefix = "team_" if p.cf.kind[j] == TEAM else ""
        window = p.wanted[i] if i < len(p.wanted) else ""
        if not p.cf.available[j]:
            out.append(t[f"{prefix}no_time"])
        else:
            key = f"{prefix}fits" if p.of.slot[i] & p.cf.available[j] else f"{prefix}misfits"
            out.append(t[f"{key}_at"] % {"window": window} if window else t[key])
    return out


def suggest(order: Order, *, limit: int = 5, teams: bool = True, volunteers: bool = True) -> list[Suggestion]:
    """The best `limit` candidates for one order, best first, each with its score and reasons.

    The caller has already checked that the actor may dispatch the order (dispatch_views, dispatch_api).
    """
    p = build_problem([order], teams=teams, volunteers=volunteers)
    if not len(p.cf):
        return []
    cols = np.arange(len(p.cf))
    comp = components(p.of, p.cf, p.geo, np.zeros(1, dtype=np.int64), cols)
    cost = total_cost(comp)
    cost = np.where(comp["forbidden"], np.inf, cost)
    ranked = [int(j) for j in np.argsort(cost, kind="stable")[:limit] if np.isfinite(cost[j])]
    objs = p.assignees(ranked)
    out = []
    for j in ranked:
        obj = objs[j]
        out.append(
            Suggestion(
                team=obj if p.cf.kind[j] == TEAM else None,
                volunteer=obj if p.cf.kind[j] == VOLUNTEER else None,
                score=score(cost[j]),
                cost=float(cost[j]),
                reasons=reasons_for(p, comp, 0, j, at=(j,)),
            )
        )
    return out

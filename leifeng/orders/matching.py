"""The matching engine: who should serve an order, and why (派单建议).

One cost model serves both the suggestions on an order and the batch dispatch (dispatching.py). A cost
lies in [0, 1] (lower is better) and is a weighted sum of components, each in [0, 1]:

=============  =====  ==================================================================================
component      weight what it measures
=============  =====  ==================================================================================
distance       0.30   haversine km from the order's point to the candidate's station, capped at 10 km;
                      without coordinates on either side, the tree distance (same node 0, parent or
                      child 1, sibling station 2, …) capped at 4 hops
load           0.20   open orders the candidate holds now (offered or accepted), capped at 5
rating         0.15   (5 − average past rating) / 4; no rating yet counts as 0.5
availability   0.10   available time vs the order's wanted window (期望服务时间 `wanted_from`–`wanted_until`;
                      without one, `promised_by`): 0 when the candidate is usually available in one of the
                      window's slots, 1 when not, 0.5 when the candidate gave no time; a team is available
                      when one of its active members is; with no wanted time at all, volunteers count 0.5
                      and teams 0
skill          0.10   skills named in the order's text (e.g. 电工 in "需要电工修灯"): 0 when the candidate
                      has one of them (or the order names none), 1 otherwise
provider       0.15   0 for a team the menu item lists as a provider (or when it lists none), else 1
=============  =====  ==================================================================================

Eligibility (a forbidden pair is never suggested nor assigned):

* active teams and approved volunteers whose station is the order's node, a node below it, or a node
  above it (a sub-center's order may go to any team of its stations; a station's order may also go to
  the teams of its sub-center and center, never to a sibling station's) — the same line of the tree
  that `services.order_dispatch` accepts; whoever may dispatch the order may pick any of them;
* the category must match: a team whose category is the order's, or that the menu item lists; a
  volunteer who is an active member of a team of that category, or who has a skill the order names.
  An order without a category accepts any candidate.

The score shown to people is ``round(100 × (1 − cost))``.

The arithmetic runs on numpy arrays (`OrderFeatures`, `CandidateFeatures`, `OrgGeometry`) so the batch
can price 2,000 orders × 20,000 volunteers at once; `load_*` functions fill those arrays from the database.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db.models import Avg, BitOr, Case, Count, IntegerField, Q, TextField, Value, When
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from leifeng.orders.models import OPEN_STATUSES, Assignment, AssignmentStatus, MenuItem, Order, wanted_text
from leifeng.orgs.models import Org
from leifeng.people.models import AvailableTime, Skill, Volunteer, VolunteerStatus
from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamMembership

WEIGHTS: dict[str, float] = {
    "distance": 0.30,
    "load": 0.20,
    "rating": 0.15,
    "availability": 0.10,
    "skill": 0.10,
    "provider": 0.15,
}
DISTANCE_CAP_KM = 10.0
HOPS_CAP = 4
LOAD_CAP = 5
UNKNOWN_RATING = 0.5
UNKNOWN_AVAILABILITY = 0.5
ORG_STEPLEN = Org.steplen

CATEGORIES = list(TeamCategory.values)
CATEGORY_BIT = {c: i for i, c in enumerate(CATEGORIES)}  # 18 categories: a uint32 mask per candidate

# Time slots as bits: a volunteer's available_times → a mask; an order's wanted time → one bit.
SLOT_BITS = {
    AvailableTime.WEEKDAY_DAYTIME: 1,
    AvailableTime.WEEKDAY_EVENING: 2,
    AvailableTime.WEEKEND: 4,
    AvailableTime.HOLIDAYS: 8,
    AvailableTime.ANYTIME: 15,
}
TEAM, VOLUNTEER = 0, 1


def slot_of(when: datetime | None) -> int:
    """The time-slot bit of a wanted time (local time): weekday daytime, weekday evening or weekend."""
    if when is None:
        return 0
    local = timezone.localtime(when) if timezone.is_aware(when) else when
    if local.weekday() >= 5:
        return SLOT_BITS[AvailableTime.WEEKEND]
    if 8 <= local.hour < 18:
        return SLOT_BITS[AvailableTime.WEEKDAY_DAYTIME]
    return SLOT_BITS[AvailableTime.WEEKDAY_EVENING]


DEFAULT_WANTED_MINUTES = 60  # a wanted start without an end and without a menu item's expected duration
MAX_WINDOW = timedelta(days=7)  # a longer window covers every slot anyway


@functools.lru_cache(maxsize=4096)
def slots_between(start: datetime, end: datetime) -> int:
    """The time-slot bits a window touches (local time): its start and every full hour inside it.

    Cached: a batch of orders shares few windows; localized once, then walked in naive local time."""
    if end - start >= MAX_WINDOW:
        return slot_of(start) | 7
    local = timezone.localtime(start) if timezone.is_aware(start) else start
    stop = (timezone.localtime(end) if timezone.is_aware(end) else end).replace(tzinfo=None)
    t = local.replace(tzinfo=None)
    bits = slot_of(t)
    t = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while t < stop and bits != 7:
        bits |= slot_of(t)
        t += timedelta(hours=1)
    return bits


def wanted_window(order: Order) -> tuple[datetime, datetime] | None:
    """The order's wanted window (期望服务时间) with its open end filled in: a start alone lasts the menu item's
    expected duration (else an hour); an end alone starts when the order was placed. None without one."""
    start, end = order.wanted_from, order.wanted_until
    if start is None and end is None:
        return None
    if end is None:
        minutes = order.menu_item.expected_minutes if order.menu_item_id else DEFAULT_WANTED_MINUTES
        end = start + timedelta(minutes=minutes or DEFAULT_WANTED_MINUTES)
    if start is None:
        start = min(max(order.submitted_at, end - MAX_WINDOW), end - timedelta(minutes=1))
    return start, end


def order_slot(order: Order) -> int:
    """The slot bits the engine compares with available times: the wanted window's, else `promised_by`'s."""
    window = wanted_window(order)
    if window is not None:
        return slots_between(*window)
    return slot_of(order.promised_by)


def slot_mask(times: list[str] | None) -> int:
    mask = 0
    for t in times or []:
        mask |= SLOT_BITS.get(t, 0)
    return mask


# ------------------------------------------------------------------ arrays


@dataclass
class OrgGeometry:
    """The org nodes involved: pairwise tree distance and eligibility, coordinates where known."""

    ids: np.ndarray  # int64 (k,)
    hops: np.ndarray  # int16 (k, k): edges between two nodes along the tree
    related: np.ndarray  # bool (k, k): [a, b] = b is a, above a or below a
    lat: np.ndarray  # float64 (k,), nan when unknown
    lng: np.ndarray
    names: list[str] = field(default_factory=list)

    @classmethod
    def from_paths(cls, ids, paths: list[str], lat=None, lng=None, names=None) -> OrgGeometry:
        k = len(paths)
        depth = max((len(p) // ORG_STEPLEN for p in paths), default=0)
        # anc[i, d] = id of node i's ancestor at depth d+1 (its own path prefix), -1 below its depth
        prefix_ids: dict[str, int] = {}
        anc = np.full((k, max(depth, 1)), -1, dtype=np.int64)
        for i, p in enumerate(paths):
            for d in range(len(p) // ORG_STEPLEN):
                anc[i, d] = prefix_ids.setdefault(p[: (d + 1) * ORG_STEPLEN], len(prefix_ids))
        own = np.array([len(p) // ORG_STEPLEN for p in paths], dtype=np.int16)
        same = (anc[:, None, :] == anc[None, :, :]) & (anc[:, None, :] >= 0)
        common = np.cumprod(same, axis=2).sum(axis=2).astype(np.int16)  # depth of the lowest common ancestor
        hops = own[:, None] + own[None, :] - 2 * common
        related = (common == own[:, None]) | (common == own[None, :])
        nan = np.full(k, np.nan)
        return cls(
            ids=np.asarray(ids, dtype=np.int64),
            hops=hops.astype(np.int16),
            related=related,
            lat=nan.copy() if lat is None else np.asarray(lat, dtype=np.float64),
            lng=nan.copy() if lng is None else np.asarray(lng, dtype=np.float64),
            names=list(names or []),
        )

    def index(self) -> dict[int, int]:
        return {int(pk): i for i, pk in enumerate(self.ids)}


@dataclass
class OrderFeatures:
    category: np.ndarray  # int16 (n,), -1 = no category
    lat: np.ndarray  # float64 (n,), nan = no point
    lng: np.ndarray
    org: np.ndarray  # int32 (n,): index into OrgGeometry
    slot: np.ndarray  # uint8 (n,), 0 = no wanted time
    skills: np.ndarray  # uint64 (n,): bits of the skills the order names
    providers: list[set[int]]  # per order: candidate column indices the menu item lists (teams)


@dataclass
class CandidateFeatures:
    kind: np.ndarray  # int8 (m,): TEAM or VOLUNTEER
    pk: np.ndarray  # int64 (m,)
    categories: np.ndarray  # uint32 (m,): category bits
    org: np.ndarray  # int32 (m,): index into OrgGeometry
    load: np.ndarray  # int32 (m,): open orders now
    rating: np.ndarray  # float32 (m,), nan = never rated
    rated: np.ndarray  # int32 (m,): how many rated orders
    available: np.ndarray  # uint8 (m,): time-slot mask, 0 = unknown (teams)
    skills: np.ndarray  # uint64 (m,)

    def __len__(self) -> int:
        return len(self.pk)


def haversine_km(lat1, lng1, lat2, lng2):
    """Great-circle distance in km on a sphere of radius 6371 km; broadcasts; nan in → nan out."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lng2) - np.radians(lng1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def order_org_km(of: OrderFeatures, geo: OrgGeometry) -> np.ndarray:
    """(n, k) km from each order's point to each node; nan where either lacks coordinates."""
    return haversine_km(of.lat[:, None], of.lng[:, None], geo.lat[None, :], geo.lng[None, :]).astype(np.float32)


def components(
    of: OrderFeatures,
    cf: CandidateFeatures,
    geo: OrgGeometry,
    rows: np.ndarray,
    cols: np.ndarray,
    *,
    km: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Every cost component for the pairs (rows, cols), which broadcast against each other.

    `rows[:, None]` with `cols[None, :]` prices a dense block; two aligned 1-D arrays price a list of
    pairs. Returns float32 arrays plus "forbidden" (bool) and "km" (nan where the tree distance was used).
    """
    if km is None:
        km = order_org_km(of, geo)
    o_org, c_org = of.org[rows], cf.org[cols]
    # eligibility: related nodes, matching category or a named skill
    cat = of.category[rows]
    has_cat = cat >= 0
    cat_bit = np.left_shift(np.uint32(1), np.where(has_cat, cat, 0).astype(np.uint32))
    cat_ok = ~has_cat | ((cf.categories[cols] & cat_bit) != 0)
    o_sk, c_sk = of.skills[rows], cf.skills[cols]
    skill_hit = (o_sk & c_sk) != 0
    provider = np.zeros(np.broadcast_shapes(np.shape(rows), np.shape(cols)), dtype=bool)
    if any(of.providers):
        rr, cc = np.broadcast_arrays(rows, cols)
        prov_pairs = {(i, j) for i, s in enumerate(of.providers) for j in s}
        if prov_pairs:
            pi = np.fromiter((p[0] for p in prov_pairs), dtype=np.int64)
            pj = np.fromiter((p[1] for p in prov_pairs), dtype=np.int64)
            key = rr.astype(np.int64) * (len(cf) + 1) + cc
            provider = np.isin(key, pi * (len(cf) + 1) + pj)
    forbidden = ~geo.related[o_org, c_org] | ~(cat_ok | skill_hit | provider)

    # distance: km where both sides have coordinates, else the tree distance
    d_km = km[rows, c_org]
    hop_cost = np.minimum(geo.hops[o_org, c_org], HOPS_CAP).astype(np.float32) / HOPS_CAP
    distance = np.where(np.isnan(d_km), hop_cost, np.minimum(d_km, DISTANCE_CAP_KM) / DISTANCE_CAP_KM)

    load = np.minimum(cf.load[cols], LOAD_CAP).astype(np.float32) / LOAD_CAP
    r = cf.rating[cols]
    rating = np.where(np.isnan(r), UNKNOWN_RATING, (5.0 - r) / 4.0).astype(np.float32)

    slot, avail = of.slot[rows], cf.available[cols]
    is_team = cf.kind[cols] == TEAM
    availability = np.where(
        is_team & (slot == 0),
        0.0,
        np.where((slot == 0) | (avail == 0), UNKNOWN_AVAILABILITY, np.where((slot & avail) != 0, 0.0, 1.0)),
    ).astype(np.float32)
    skill = np.where((o_sk == 0) | skill_hit, 0.0, 1.0).astype(np.float32)
    any_provider = np.array([bool(s) for s in of.providers], dtype=bool)[rows] if of.providers else False
    provider_cost = np.where(provider | ~np.asarray(any_provider), 0.0, 1.0).astype(np.float32)
    return {
        "distance": distance.astype(np.float32),
        "load": np.broadcast_to(load, forbidden.shape),
        "rating": np.broadcast_to(rating, forbidden.shape),
        "availability": availability,
        "skill": np.broadcast_to(skill, forbidden.shape),
        "provider": np.broadcast_to(provider_cost, forbidden.shape),
        "forbidden": forbidden,
        "km": d_km,
        "provider_flag": provider,
        "skill_hit": skill_hit,
        "category_ok": np.broadcast_to(cat_ok & has_cat, forbidden.shape),
    }


def total_cost(comp: dict[str, np.ndarray], weights: dict[str, float] = WEIGHTS) -> np.ndarray:
    cost = np.zeros(comp["forbidden"].shape, dtype=np.float32)
    for name, w in weights.items():
        cost += np.float32(w) * comp[name]
    return cost


def cost_matrix(
    of: OrderFeatures, cf: CandidateFeatures, geo: OrgGeometry, weights: dict[str, float] = WEIGHTS
) -> tuple[np.ndarray, np.ndarray]:
    """Dense (n, m) cost and forbidden mask, computed in one vectorised pass."""
    rows = np.arange(len(of.category))
    cols = np.arange(len(cf))
    comp = components(of, cf, geo, rows[:, None], cols[None, :])
    return total_cost(comp, weights), comp["forbidden"]


def score(cost: float) -> int:
    return int(round(100 * (1 - min(max(float(cost), 0.0), 1.0))))


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

"""The matching engine's cost model: who should serve an order (派单建议), as arithmetic on arrays.

One cost model serves both the suggestions on an order (matching.py) and the batch dispatch (services.py). A cost
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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.utils import timezone

from leifeng.orders.models import Order
from leifeng.orgs.models import Org
from leifeng.people.models import AvailableTime
from leifeng.teams.models import TeamCategory

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

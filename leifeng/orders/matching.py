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
availability   0.10   volunteers' available time vs the order's wanted time (`promised_by`): 0 when it
                      fits, 1 when it does not, 0.5 when either side is unknown; teams count 0
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

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from leifeng.orders.models import OPEN_STATUSES, Assignment, AssignmentStatus, MenuItem, Order
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
    objects: list = field(default_factory=list)  # Team / Volunteer rows (DB-backed path only)

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
        is_team,
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


def _related_orgs(order_orgs: list[Org]) -> Q:
    """Nodes a candidate may sit at: each order's node, its subtree and its ancestors."""
    roots: list[str] = []
    for path in sorted({o.path for o in order_orgs}):  # an ancestor sorts before its subtree
        if not any(path.startswith(r) for r in roots):
            roots.append(path)
    prefixes = {o.path[:i] for o in order_orgs for i in range(ORG_STEPLEN, len(o.path), ORG_STEPLEN)}
    q = Q(path__in=prefixes)
    for root in roots:
        q |= Q(path__startswith=root)
    return q


@dataclass
class Problem:
    """Everything the engine needs about a set of orders and their candidates."""

    orders: list[Order]
    of: OrderFeatures
    cf: CandidateFeatures
    geo: OrgGeometry
    skill_names: list[str]
    org_names: dict[int, str]


def build_problem(orders: list[Order], *, teams: bool = True, volunteers: bool = True) -> Problem:
    """Load the candidates of `orders` and turn both into arrays (a fixed number of queries).

    Queries: nodes; teams; team loads; team ratings; skills named; volunteers; volunteer teams'
    categories; volunteer skills; volunteer loads; volunteer ratings; menu-item providers.
    """
    orders = list(orders)
    org_ids = {o.org_id for o in orders}
    order_orgs = list(Org.objects.filter(pk__in=org_ids))
    org_q = _related_orgs(order_orgs)
    orgs = list(Org.objects.filter(org_q).order_by("path").values("id", "path", "name", *_coord_fields()))
    geo = OrgGeometry.from_paths(
        [o["id"] for o in orgs],
        [o["path"] for o in orgs],
        lat=[_num(o.get("latitude")) for o in orgs] if _coord_fields() else None,
        lng=[_num(o.get("longitude")) for o in orgs] if _coord_fields() else None,
        names=[o["name"] for o in orgs],
    )
    gi = geo.index()
    org_filter = Q(org_id__in=list(gi))

    def vol_q(prefix: str) -> Q:
        """The candidate volunteers as a join condition (not a list of 20,000 ids)."""
        return Q(**{f"{prefix}org_id__in": list(gi), f"{prefix}status": VolunteerStatus.APPROVED})

    skill_names = sorted(Skill.objects.values_list("name", flat=True))
    named = order_skill_names(orders, skill_names)
    used = sorted(set().union(*named)) if named else []
    used = used[:63]  # one bit each in a uint64
    bit = {n: 1 << i for i, n in enumerate(used)}

    kinds, pks, cats, corg, objs, avail = [], [], [], [], [], []
    if teams:
        team_rows = list(Team.objects.filter(org_filter, is_active=True).select_related("org"))
        objs += team_rows
        kinds += [TEAM] * len(team_rows)
        pks += [t.pk for t in team_rows]
        cats += [1 << CATEGORY_BIT[t.category] for t in team_rows]
        corg += [gi[t.org_id] for t in team_rows]
        avail += [0] * len(team_rows)
    n_teams = len(pks)
    vol_rows: list = []
    if volunteers:
        vol_rows = list(
            Volunteer.objects.filter(org_filter, status=VolunteerStatus.APPROVED)
            .select_related("org")
            .only("id", "name", "number", "org_id", "org__name", "available_times")
        )
        objs += vol_rows
        kinds += [VOLUNTEER] * len(vol_rows)
        pks += [v.pk for v in vol_rows]
        corg += [gi[v.org_id] for v in vol_rows]
        avail += [slot_mask(v.available_times) for v in vol_rows]
        vcat: dict[int, int] = {}
        for vid, category in TeamMembership.objects.filter(
            vol_q("volunteer__"), status=MembershipStatus.ACTIVE, team__is_active=True
        ).values_list("volunteer_id", "team__category"):
            vcat[vid] = vcat.get(vid, 0) | (1 << CATEGORY_BIT[category])
        cats += [vcat.get(v.pk, 0) for v in vol_rows]
    m = len(pks)
    col = {(k, pk): j for j, (k, pk) in enumerate(zip(kinds, pks, strict=True))}

    skills = np.zeros(m, dtype=np.uint64)
    if used and vol_rows:
        through = Volunteer.skills.through
        for vid, name in through.objects.filter(vol_q("volunteer__"), skill__name__in=used).values_list(
            "volunteer_id", "skill__name"
        ):
            skills[col[(VOLUNTEER, vid)]] |= np.uint64(bit[name])
    if used and n_teams:
        # a team has the skills of its active members
        for tid, name in TeamMembership.objects.filter(
            team_id__in=pks[:n_teams], status=MembershipStatus.ACTIVE, volunteer__skills__name__in=used
        ).values_list("team_id", "volunteer__skills__name"):
            skills[col[(TEAM, tid)]] |= np.uint64(bit[name])

    load = np.zeros(m, dtype=np.int32)
    rating = np.full(m, np.nan, dtype=np.float32)
    rated = np.zeros(m, dtype=np.int32)
    live = Q(status__in=[AssignmentStatus.OFFERED, AssignmentStatus.ACCEPTED], order__status__in=OPEN_STATUSES)
    if n_teams:
        tids = pks[:n_teams]
        for tid, n in Assignment.objects.filter(live, team_id__in=tids).values_list("team_id").annotate(Count("id")):
            load[col[(TEAM, tid)]] = n
        for tid, avg, n in (
            Order.objects.filter(team_id__in=tids, rating__isnull=False)
            .values_list("team_id")
            .annotate(Avg("rating"), Count("id"))
        ):
            rating[col[(TEAM, tid)]], rated[col[(TEAM, tid)]] = avg, n
    if vol_rows:
        for vid, n in (
            Assignment.objects.filter(live, vol_q("volunteer__")).values_list("volunteer_id").annotate(Count("id"))
        ):
            load[col[(VOLUNTEER, vid)]] = n
        for vid, avg, n in (
            Assignment.objects.filter(
                vol_q("volunteer__"),
                status__in=[AssignmentStatus.ACCEPTED, AssignmentStatus.DONE],
                order__rating__isnull=False,
            )
            .values_list("volunteer_id")
            .annotate(Avg("order__rating"), Count("order_id", distinct=True))
        ):
            rating[col[(VOLUNTEER, vid)]], rated[col[(VOLUNTEER, vid)]] = avg, n

    providers: list[set[int]] = [set() for _ in orders]
    item_ids = {o.menu_item_id for o in orders if o.menu_item_id}
    if item_ids:
        listed: dict[int, set[int]] = {}
        for item_id, tid in MenuItem.teams.through.objects.filter(menuitem_id__in=item_ids).values_list(
            "menuitem_id", "team_id"
        ):
            listed.setdefault(item_id, set()).add(tid)
        for i, o in enumerate(orders):
            providers[i] = {col[(TEAM, t)] for t in listed.get(o.menu_item_id, ()) if (TEAM, t) in col}

    of = OrderFeatures(
        category=np.array([CATEGORY_BIT.get(o.category, -1) if o.category else -1 for o in orders], dtype=np.int16),
        lat=np.array([_num(o.latitude) for o in orders], dtype=np.float64),
        lng=np.array([_num(o.longitude) for o in orders], dtype=np.float64),
        org=np.array([gi[o.org_id] for o in orders], dtype=np.int32),
        slot=np.array([slot_of(o.promised_by) for o in orders], dtype=np.uint8),
        skills=np.array([sum(bit[n] for n in s if n in bit) for s in named], dtype=np.uint64),
        providers=providers,
    )
    cf = CandidateFeatures(
        kind=np.array(kinds, dtype=np.int8),
        pk=np.array(pks, dtype=np.int64),
        categories=np.array(cats, dtype=np.uint32),
        org=np.array(corg, dtype=np.int32),
        load=load,
        rating=rating,
        rated=rated,
        available=np.array(avail, dtype=np.uint8),
        skills=skills,
        objects=objs,
    )
    return Problem(
        orders=orders,
        of=of,
        cf=cf,
        geo=geo,
        skill_names=used,
        org_names={int(pk): n for pk, n in zip(geo.ids, geo.names, strict=True)},
    )


def _coord_fields() -> list[str]:
    """Org coordinates when the model has them (latitude/longitude); the tree distance otherwise."""
    names = {f.name for f in Org._meta.get_fields()}
    return ["latitude", "longitude"] if {"latitude", "longitude"} <= names else []


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


def reasons_for(p: Problem, comp: dict[str, np.ndarray], i: int, j: int, at=None) -> list[str]:
    """Why candidate column j suits order row i (`at` indexes the component arrays; default [i, j])."""
    at = (i, j) if at is None else at
    out: list[str] = []
    order = p.orders[i] if i < len(p.orders) else None
    if bool(comp["provider_flag"][at]) and order is not None and order.menu_item_id:
        out.append(_("Listed provider of “%(item)s”") % {"item": order.menu_item.title})
    if bool(comp["category_ok"][at]):
        out.append(_("Category match: %(category)s") % {"category": TeamCategory(CATEGORIES[p.of.category[i]]).label})
    if bool(comp["skill_hit"][at]):
        hits = [n for k, n in enumerate(p.skill_names) if int(p.of.skills[i] & p.cf.skills[j]) >> k & 1]
        out.append(_("Skill: %(skills)s") % {"skills": "、".join(hits)})
    km = float(comp["km"][at])
    if not np.isnan(km):
        out.append(_("Distance %(km).1f km") % {"km": km})
    else:
        hops = int(p.geo.hops[p.of.org[i], p.cf.org[j]])
        org_name = p.geo.names[p.cf.org[j]] if p.geo.names else ""
        if hops == 0:
            out.append(_("Same node: %(org)s") % {"org": org_name})
        else:
            out.append(_("Tree distance %(hops)d: %(org)s (no coordinates)") % {"hops": hops, "org": org_name})
    out.append(_("Currently handling %(count)d orders") % {"count": int(p.cf.load[j])})
    if p.cf.rated[j]:
        out.append(
            _("Past rating %(rating).1f (%(count)d rated)") % {"rating": float(p.cf.rating[j]), "count": p.cf.rated[j]}
        )
    else:
        out.append(_("No ratings yet"))
    if p.cf.kind[j] == VOLUNTEER and p.of.slot[i]:
        if not p.cf.available[j]:
            out.append(_("Available time not given"))
        elif p.of.slot[i] & p.cf.available[j]:
            out.append(_("Available at the wanted time"))
        else:
            out.append(_("Usually not available at the wanted time"))
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
    out = []
    for j in ranked:
        obj = p.cf.objects[j]
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

#!/usr/bin/env python
"""Batch dispatch: 2,000 open orders over 20,000 volunteers in one assignment (target < 2 s).

    .venv/bin/python bench/bench_dispatch.py --synthetic-only               # the engine on arrays
    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_dispatch.py   # + DB-backed path

Synthetic: a county of 1 center, 12 sub-centers and 180 stations with coordinates; volunteers with two
categories each (90 % at stations, 10 % at upper nodes), load, ratings, time slots, skills; orders with
a category, a point near their station, a wanted time slot, sometimes a skill. Measured: pricing the
eligible pairs, the sparse solver on the best k per order (k = 32 and all pairs), the dense
`linear_sum_assignment` on the full matrix, and greedy; totals compared on the same prices.

DB-backed: migrates the throw-away database, generates 20,000 volunteers with `gen_scale` (each also joins
the category squads of their station), inserts 2,000 orders awaiting dispatch in bulk (95 % ask for a service
their station's squads offer, 5 % for one nobody nearby offers), then times `dispatching.batch_assign` end to
end as the county admin (orders, candidates from the DB, price, solve, greedy, assignees and reasons).
On that county the optimum equals greedy: every order has ~110 equivalent candidates (no ratings, no loads).

`--scenario scarce` (through PostgreSQL, like the DB-backed path) builds a county where the choice matters:

    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_dispatch.py --scenario scarce

8 sub-centers × 10 stations with coordinates (stations within ~6 km of their sub-center, so the 10-km
distance scale separates them); 6 service categories; per sub-center and category only a few teams (one at
the sub-center, 1–4 at its stations), one county team per category; teams already
hold 0–2 open orders (capacity 3, so 1–3 places left) and carry past ratings from 2.0 to 5.0; 400 orders
awaiting dispatch, 75 % at stations (a station's order may go to its station's teams, its sub-center's or
the county's — never a sibling station's), 25 % at sub-centers (any team of their stations). Greedy takes
the orders oldest first and gives each the cheapest free team; a sub-center order near a busy station takes
the team that station's own orders needed. Reported: assigned orders and total cost of the optimum (sparse,
top-32, as the service runs it; and the dense solver on the same orders as a check) and of greedy, the
timings of `batch_assign`, order by order where the two differ (served by one only; both served, who is
cheaper) with the mean km / rating / load of the teams chosen, and the machine's load average.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")


def synthetic(n_orders: int, n_vol: int, seed: int = 1, n_sub: int = 12, n_st: int = 180):
    from leifeng.orders.dispatch import matching as M

    rng = np.random.default_rng(seed)
    paths = ["0001"] + [f"0001{s + 1:04d}" for s in range(n_sub)]
    paths += [paths[1 + t % n_sub] + f"{t // n_sub + 1:04d}" for t in range(n_st)]
    k = len(paths)
    lat = 34.0 + rng.uniform(-0.3, 0.3, k)
    lng = 108.9 + rng.uniform(-0.3, 0.3, k)
    geo = M.OrgGeometry.from_paths(np.arange(k), paths, lat, lng, [f"n{i}" for i in range(k)])
    stations = np.arange(1 + n_sub, k)
    ncat = len(M.CATEGORIES) - 1
    o_org = rng.choice(stations, n_orders)
    skill = np.uint64(1) << rng.integers(0, 20, n_orders).astype(np.uint64)
    of = M.OrderFeatures(
        category=rng.integers(0, ncat, n_orders).astype(np.int16),
        lat=lat[o_org] + rng.normal(0, 0.01, n_orders),
        lng=lng[o_org] + rng.normal(0, 0.01, n_orders),
        org=o_org.astype(np.int32),
        slot=rng.choice([0, 1, 2, 4], n_orders).astype(np.uint8),
        skills=np.where(rng.random(n_orders) < 0.3, skill, np.uint64(0)).astype(np.uint64),
        providers=[set() for _ in range(n_orders)],
    )
    c_org = np.where(rng.random(n_vol) < 0.9, rng.choice(stations, n_vol), rng.integers(0, 1 + n_sub, n_vol))
    one = np.uint32(1)
    cats = (one << rng.integers(0, ncat, n_vol).astype(np.uint32)) | (
        one << rng.integers(0, ncat, n_vol).astype(np.uint32)
    )
    cf = M.CandidateFeatures(
        kind=np.full(n_vol, M.VOLUNTEER, dtype=np.int8),
        pk=np.arange(n_vol),
        categories=cats.astype(np.uint32),
        org=c_org.astype(np.int32),
        load=rng.integers(0, 2, n_vol).astype(np.int32),
        rating=np.where(rng.random(n_vol) < 0.5, np.nan, rng.uniform(2.5, 5, n_vol)).astype(np.float32),
        rated=rng.integers(0, 10, n_vol).astype(np.int32),
        available=rng.choice([0, 1, 2, 4, 6, 15], n_vol).astype(np.uint8),
        skills=(np.uint64(1) << rng.integers(0, 20, n_vol).astype(np.uint64)).astype(np.uint64),
    )
    return of, cf, geo


def ms(t0: float) -> float:
    return round((time.perf_counter() - t0) * 1e3, 1)


def run_synthetic(n_orders: int, n_vol: int, dense: bool) -> dict:
    from leifeng.orders.dispatch import matching as M
    from leifeng.orders.dispatch import services as D

    of, cf, geo = synthetic(n_orders, n_vol)
    cap = D.capacities(cf, volunteer_capacity=2)
    out: dict = {"orders": n_orders, "volunteers": n_vol}
    t = time.perf_counter()
    pairs = D.price_pairs(of, cf, geo)
    out["price_eligible_pairs_ms"] = ms(t)
    out["eligible_pairs"] = len(pairs.rows)
    for k in (32, None):
        t = time.perf_counter()
        sub = D.top_k(pairs, k) if k else pairs
        res = D.solve_sparse(sub, n_orders, cap)
        name = f"sparse_top{k}" if k else "sparse_all"
        out[name] = {"ms": ms(t), "assigned": res.assigned, "total": round(res.total, 3), **res.timings}
    out["engine_end_to_end_ms"] = round(out["price_eligible_pairs_ms"] + out["sparse_top32"]["ms"], 1)
    t = time.perf_counter()
    g = D.greedy(pairs, n_orders, cap)
    out["greedy"] = {"ms": ms(t), "assigned": g.assigned, "total": round(g.total, 3)}
    if dense:
        t = time.perf_counter()
        cost, forbidden = M.cost_matrix(of, cf, geo)
        build = ms(t)
        res = D.solve_dense(cost, forbidden, cap)
        out["dense"] = {"matrix_ms": build, "assigned": res.assigned, "total": round(res.total, 3), **res.timings}
    best = out["sparse_top32"]["total"]
    out["saving_vs_greedy_percent"] = round(100 * (g.total - best) / g.total, 2)
    return out


def setup_db(n_orders: int, n_vol: int):
    """The scale county with category squads, and `n_orders` orders awaiting dispatch; returns the admin."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from leifeng.accounts.models import Role, RoleAssignment, User
    from leifeng.orders.models import Order, OrderStatus
    from leifeng.orgs.models import Org, OrgLevel
    from leifeng.people.models import Volunteer
    from leifeng.teams.models import MembershipStatus, Team, TeamCategory, TeamLevel, TeamMembership

    call_command("migrate", verbosity=0)
    have = Volunteer.objects.count()
    if have < n_vol:
        call_command("gen_scale", volunteers=n_vol - have)
    # gen_scale puts everyone in their station's squadron (category "other"); for matching, each volunteer
    # also joins two category squads of their station (once per database)
    squads: dict[int, list[int]] = {}
    squad_cats: dict[int, list[str]] = {}
    for tid, org_id, cat in Team.objects.filter(level=TeamLevel.SQUAD, is_active=True).values_list(
        "id", "org_id", "category"
    ):
        squads.setdefault(org_id, []).append(tid)
        squad_cats.setdefault(org_id, []).append(cat)
    if squads and not TeamMembership.objects.filter(team__level=TeamLevel.SQUAD).exists():
        rng0 = np.random.default_rng(3)
        rows = []
        for vid, org_id in Volunteer.objects.values_list("id", "org_id"):
            mine = squads.get(org_id, [])
            for tid in rng0.choice(mine, size=min(2, len(mine)), replace=False) if mine else []:
                rows.append(TeamMembership(team_id=int(tid), volunteer_id=vid, status=MembershipStatus.ACTIVE))
        TeamMembership.objects.bulk_create(rows, batch_size=5000)
    center = Org.objects.filter(depth=1).order_by("path").first()
    stations = list(Org.objects.filter(level=OrgLevel.STATION).order_by("path"))
    rng = np.random.default_rng(7)
    # an order asks for a service its station's squads offer (most orders have someone eligible);
    # one in twenty asks for a category nobody nearby serves, as in real life
    other_cats = sorted({c for cs in squad_cats.values() for c in cs}) or ["other"]
    unserved = [c for c in TeamCategory.values if c not in other_cats and c != TeamCategory.OTHER][:1] or other_cats
    Order.objects.filter(status=OrderStatus.ACCEPTED).delete()
    rows = []
    for i in range(n_orders):
        st = stations[int(rng.integers(len(stations)))]
        offered = squad_cats.get(st.pk) or other_cats
        cat = offered[int(rng.integers(len(offered)))] if rng.random() >= 0.05 else unserved[0]
        rows.append(
            Order(
                org=st,
                origin_org=st,
                category=cat,
                description="需要上门帮忙" if i % 3 else "楼道灯坏了，需要电工",
                resident_name="居民",
                resident_phone=f"139{i:08d}",
                address="某小区",
                status=OrderStatus.ACCEPTED,
            )
        )
    Order.objects.bulk_create(rows, batch_size=1000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    admin, _ = User.objects.get_or_create(username="bench-dispatch")
    RoleAssignment.objects.get_or_create(user=admin, role=Role.ORG_ADMIN, org=center)
    return admin


def run_db(n_orders: int, n_vol: int) -> dict:
    from django.db import connection

    from leifeng.accounts.models import User
    from leifeng.orders.dispatch import services as D
    from leifeng.people.models import Volunteer

    admin = setup_db(n_orders, n_vol)
    out = {"vendor": connection.vendor, "orders": n_orders, "volunteers": Volunteer.objects.count()}
    for candidates in ("volunteers", "both"):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            plan = D.batch_assign(actor=User.objects.get(pk=admin.pk), candidates=candidates)
            total_ms = ms(t)
            if best is None or total_ms < best["end_to_end_ms"]:
                best = {
                    "end_to_end_ms": total_ms,
                    "candidates": plan.candidates,
                    "eligible_pairs": plan.pairs,
                    "assigned": plan.assigned,
                    "total": round(plan.total, 3),
                    "assigned_cost": round(plan.assigned_cost, 3),
                    "greedy_assigned": plan.greedy_assigned,
                    "greedy_total": round(plan.greedy_total, 3),
                    "greedy_assigned_cost": round(plan.greedy_assigned_cost, 3),
                    "saving_vs_greedy_percent": round(plan.saving, 2),
                    **{k: round(v, 1) for k, v in plan.timings.items()},
                }
        out[candidates] = best
    return out


SCARCE_CATEGORIES = {"elderly": "敬老", "health": "医疗", "legal": "法律", "environment": "环境", "disability": "助残"}
SCARCE_CATEGORIES["education"] = "助学"


def setup_scarce(n_orders: int, n_sub: int = 8, n_st: int = 10, seed: int = 11):
    """The scarce county (a fresh tree per run), its teams with loads and ratings, and the orders to plan."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from leifeng.accounts.models import Role, RoleAssignment, User
    from leifeng.orders.models import Assignment, AssignmentStatus, DispatchMode, Order, OrderStatus
    from leifeng.orgs.models import Org, OrgLevel
    from leifeng.teams.models import Team, TeamKind, TeamLevel

    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(seed)
    tag = f"{int(time.time() * 1000) % 10**8:08d}"

    def node(parent, name, level, lat, lng):
        kw = {"name": name, "level": level, "latitude": round(lat, 6), "longitude": round(lng, 6)}
        if parent is None:
            return Org.objects.add_root(create_kwargs=kw)
        return Org.objects.add_child(Org.objects.get(pk=parent.pk), create_kwargs=kw)

    center = node(None, f"稀缺县新时代文明实践中心{tag}", OrgLevel.CENTER, 34.30, 108.90)
    subs, stations = [], {}
    for s in range(n_sub):
        # sub-centers on a ring ~15 km around the county seat; stations within ~6 km of their sub-center
        a = 2 * np.pi * s / n_sub
        lat, lng = 34.30 + 0.14 * np.sin(a), 108.90 + 0.16 * np.cos(a)
        sub = node(center, f"第{s + 1}街道分中心", OrgLevel.SUBCENTER, lat, lng)
        subs.append(sub)
        stations[sub.pk] = []
        for t in range(n_st):
            st_lat, st_lng = np.array([lat, lng]) + rng.normal(0, 0.03, 2)
            stations[sub.pk].append(node(sub, f"第{s + 1}街道第{t + 1}社区站", OrgLevel.STATION, st_lat, st_lng))
    teams = []

    def team(org, cat, name):
        teams.append(
            Team(org=org, name=name, level=TeamLevel.SQUADRON, category=cat, kind=TeamKind.FIXED, is_active=True)
        )

    for cat in SCARCE_CATEGORIES:
        label = SCARCE_CATEGORIES[cat]
        team(center, cat, f"县{label}志愿服务队")
        for sub in subs:
            team(sub, cat, f"{sub.name}{label}服务队")
            for k, st in enumerate(rng.choice(stations[sub.pk], size=int(rng.integers(1, 5)), replace=False)):
                team(st, cat, f"{st.name}{label}小分队{k + 1}")
    Team.objects.bulk_create(teams)
    teams = list(Team.objects.filter(org__path__startswith=center.path).order_by("id"))

    # history: past rated orders (each team's average between 2.0 and 5.0) and the open orders it holds now
    past, open_rows = [], []
    for t in teams:
        target = rng.uniform(2.0, 5.0)
        for _ in range(int(rng.integers(2, 6))):
            r = int(np.clip(round(rng.normal(target, 0.6)), 1, 5))
            past.append((t, r))
        for _ in range(int(rng.choice([0, 1, 2], p=[0.4, 0.35, 0.25]))):
            open_rows.append(t)

    def order(org, cat, i, **kw):
        return Order(
            org=org,
            origin_org=org,
            category=cat,
            description="需要上门服务",
            resident_name="居民",
            resident_phone=f"138{i:08d}",
            address="某小区",
            **kw,
        )

    Order.objects.bulk_create(
        [order(t.org, t.category, i, team=t, status=OrderStatus.CLOSED, rating=r) for i, (t, r) in enumerate(past)]
    )
    held = Order.objects.bulk_create(
        [order(t.org, t.category, i, team=t, status=OrderStatus.DISPATCHED) for i, t in enumerate(open_rows)]
    )
    Assignment.objects.bulk_create(
        [
            Assignment(order=o, team=t, mode=DispatchMode.DIRECT, status=AssignmentStatus.OFFERED)
            for o, t in zip(held, open_rows, strict=True)
        ]
    )
    # the orders to plan, oldest first in this list (bulk_create stamps created_at in list order)
    rows = []
    for i in range(n_orders):
        sub = subs[int(rng.integers(n_sub))]
        st = stations[sub.pk][int(rng.integers(n_st))]
        at = sub if rng.random() < 0.25 else st  # a sub-center's order comes from somewhere in its area
        point = np.array([float(st.latitude), float(st.longitude)]) + rng.normal(0, 0.01, 2)
        cat = list(SCARCE_CATEGORIES)[int(rng.integers(len(SCARCE_CATEGORIES)))]
        rows.append(
            order(
                at,
                cat,
                10**7 + i,
                status=OrderStatus.ACCEPTED,
                latitude=round(float(point[0]), 6),
                longitude=round(float(point[1]), 6),
            )
        )
    Order.objects.bulk_create(rows)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    admin = User.objects.create(username=f"bench-scarce-{tag}")
    RoleAssignment.objects.create(user=admin, role=Role.ORG_ADMIN, org=center)
    at_sub = sum(1 for o in rows if o.org.level == OrgLevel.SUBCENTER)
    county = {
        "center_id": center.pk,
        "seed": seed,
        "sub_centers": n_sub,
        "stations": n_sub * n_st,
        "categories": len(SCARCE_CATEGORIES),
        "teams": len(teams),
        "team_places_free": int(sum(3 for _ in teams) - len(open_rows)),
        "orders": n_orders,
        "orders_at_sub_centers": at_sub,
        "past_rated_orders": len(past),
        "open_orders_held": len(open_rows),
    }
    return admin, county


def run_scarce(n_orders: int, seed: int) -> dict:
    from django.db import connection

    from leifeng.accounts.models import User
    from leifeng.orders.dispatch import services as D

    t = time.perf_counter()
    admin, county = setup_scarce(n_orders, seed=seed)
    out: dict = {
        "vendor": connection.vendor,
        "setup_s": round(time.perf_counter() - t, 1),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "county": county,
    }

    def side(plan, greedy: bool) -> dict:
        n = len(plan.rows)
        if greedy:
            a, total, cost = plan.greedy_assigned, plan.greedy_total, plan.greedy_assigned_cost
        else:
            a, total, cost = plan.assigned, plan.total, plan.assigned_cost
        return {
            "assigned": a,
            "unassigned": n - a,
            "total_cost": round(total, 3),
            "assigned_cost": round(cost, 3),
            "mean_cost_per_assigned": round(cost / a, 4) if a else None,
        }

    for solver in ("sparse", "dense"):
        best = None
        for _ in range(3):
            t = time.perf_counter()
            plan = D.batch_assign(actor=User.objects.get(pk=admin.pk), candidates="teams", solver=solver)
            total_ms = ms(t)
            if best is None or total_ms < best["end_to_end_ms"]:
                best = {
                    "end_to_end_ms": total_ms,
                    **{k: round(v, 1) for k, v in plan.timings.items()},
                    "candidates": plan.candidates,
                    "eligible_pairs": plan.pairs,
                    "optimum": side(plan, greedy=False),
                    "greedy": side(plan, greedy=True),
                    "saving_vs_greedy_percent": round(plan.saving, 2),
                }
        out[solver] = best
    out["order_by_order"] = compare_orders(User.objects.get(pk=admin.pk), county["center_id"])
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    return out


def compare_orders(actor, county_pk: int) -> dict:
    """The same prices as `batch_assign` (teams, default capacities), optimum vs greedy order by order."""
    from leifeng.orders.dispatch import matching as M
    from leifeng.orders.dispatch import services as D

    orders = D._plan_orders(D.dispatchable(actor))
    p = M.build_problem(orders, teams=True, volunteers=False)
    n = len(orders)
    cap = D.capacities(p.cf)
    pairs = D.price_pairs(p.of, p.cf, p.geo)
    best = D.solve_sparse(D.top_k(pairs, 32), n, cap)
    base = D.greedy(pairs, n, cap)
    opt_in, greedy_in = best.col >= 0, base.col >= 0
    both = opt_in & greedy_in
    differ = both & (best.col != base.col)

    def chosen(res: D.Result) -> dict:
        i = np.nonzero(res.col >= 0)[0]
        j = res.col[i]
        comp = M.components(p.of, p.cf, p.geo, i, j)
        return {
            "mean_km": round(float(np.nanmean(comp["km"])), 2),
            "mean_team_rating": round(float(np.nanmean(p.cf.rating[j])), 2),
            "mean_team_load_before": round(float(p.cf.load[j].mean()), 2),
            "to_county_teams": int((p.geo.ids[p.cf.org[j]] == county_pk).sum()),
        }

    return {
        "orders_with_an_eligible_team": int(np.isin(np.arange(n), pairs.rows).sum()),
        "served_by_optimum_only": int((opt_in & ~greedy_in).sum()),
        "served_by_greedy_only": int((greedy_in & ~opt_in).sum()),
        "served_by_both_other_team": int(differ.sum()),
        "of_which_optimum_cheaper": int((differ & (best.cost < base.cost - 1e-6)).sum()),
        "of_which_greedy_cheaper": int((differ & (base.cost < best.cost - 1e-6)).sum()),
        "optimum_teams": chosen(best),
        "greedy_teams": chosen(base),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=("default", "scarce"), default="default")
    ap.add_argument("--seed", type=int, default=11, help="scarce scenario: the county's random seed")
    ap.add_argument("--orders", type=int, default=2000)
    ap.add_argument("--volunteers", type=int, default=20000)
    ap.add_argument("--synthetic-only", action="store_true")
    ap.add_argument("--no-dense", action="store_true", help="skip the dense 2,000 × 20,000 matrix")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "dispatch.json"))
    args = ap.parse_args()
    import django

    django.setup()
    if args.scenario == "scarce":
        n = args.orders if args.orders != 2000 else 400
        results = {"scarce": run_scarce(n, args.seed)}
        print(json.dumps(results["scarce"], indent=2, ensure_ascii=False))
        out = Path(args.out).with_name("dispatch_scarce.json") if args.out == ap.get_default("out") else Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
        return
    results = {"synthetic": run_synthetic(args.orders, args.volunteers, dense=not args.no_dense)}
    print(json.dumps(results["synthetic"], indent=2))
    if not args.synthetic_only:
        results["db"] = run_db(args.orders, args.volunteers)
        print(json.dumps(results["db"], indent=2, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

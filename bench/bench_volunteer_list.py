#!/usr/bin/env python
"""Volunteer list page and list API on PostgreSQL with 1,000,000 volunteers.

    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_volunteer_list.py --volunteers 1000000

Migrates the (throw-away) database, generates a synthetic county with `gen_scale` unless it already
holds enough volunteers, then requests each page through the whole Django stack (middleware, scope,
template) with the test client and reports median / p95 in milliseconds, the number of SQL queries,
and the ratio to a bare endpoint (/healthz) measured the same way, which cancels most machine noise.
Target (issue #2): a 50-row list page < 100 ms.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("AXES_ENABLED", "False")
# Persistent connections, as in production (README): otherwise every request pays a new connection.
os.environ.setdefault("DB_CONN_MAX_AGE", "600")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--volunteers", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=40)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "volunteer_list.json"))
    args = ap.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from leifeng.accounts.models import Role, RoleAssignment, User
    from leifeng.orgs.models import Org, OrgLevel
    from leifeng.people.models import Volunteer

    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — run through scripts/with_postgres.py", file=sys.stderr)
    call_command("migrate", verbosity=0)
    have = Volunteer.objects.count()
    if have < args.volunteers:
        t = time.perf_counter()
        call_command("gen_scale", volunteers=args.volunteers - have)
        print(f"generated {args.volunteers - have:,} volunteers in {time.perf_counter() - t:.0f} s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    total = Volunteer.objects.count()

    center = Org.objects.filter(depth=1).order_by("path").first()
    station = Org.objects.filter(level=OrgLevel.STATION, volunteers__isnull=False).order_by("path").first()
    users = {}
    for name, org in (("bench-center", center), ("bench-station", station)):
        user, _ = User.objects.get_or_create(username=name)
        RoleAssignment.objects.get_or_create(user=user, role=Role.ORG_ADMIN, org=org)
        users[name] = user
    sample = Volunteer.objects.filter(org=station).order_by("-id").first()

    cases = [
        ("bare endpoint /healthz", "bench-center", "/healthz"),
        ("list, county admin, page 1", "bench-center", "/people/volunteers/"),
        ("list, county admin, page 200", "bench-center", "/people/volunteers/?page=200"),
        ("list, county admin, status=pending", "bench-center", "/people/volunteers/?status=pending"),
        ("list, county admin, search initials", "bench-center", f"/people/volunteers/?q={sample.name_initials}"),
        ("list, county admin, search number", "bench-center", f"/people/volunteers/?q={sample.number}"),
        ("list, station admin, page 1", "bench-station", "/people/volunteers/"),
        ("API list, county admin, 50 rows", "bench-center", "/api/v1/people/volunteers?page_size=50"),
        ("API list, station admin, 50 rows", "bench-station", "/api/v1/people/volunteers?page_size=50"),
    ]
    results = []
    for label, who, url in cases:
        client = Client()
        client.force_login(users[who])
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code, resp.content[:300])
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        row = {
            "case": label,
            "url": url,
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
            "queries": len(executed),
        }
        results.append(row)
        print(f"{label:40s} median {row['median_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  {row['queries']} queries")
    bare = results[0]["median_ms"]
    for row in results[1:]:
        row["ratio_to_bare"] = round(row["median_ms"] / bare, 1) if bare else None
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"volunteers": total, "results": results}, ensure_ascii=False, indent=2))
    print(f"{total:,} volunteers; results in {args.out}")


if __name__ == "__main__":
    main()

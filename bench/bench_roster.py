#!/usr/bin/env python
"""The organizer's roster page, in process (test client) and over HTTP (gunicorn), on PostgreSQL.

    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_roster.py

Two activities:
  * realistic: 10 posts × 20 confirmed (+ 3 waitlisted each), grouped by 8 — a March 5 squad plan;
  * big: one post of 1,500 with 3,000 sign-ups (1,500 confirmed, 1,500 waitlisted), groups of 8.
For each: the page in process (median ms, SQL queries, bytes) and, unless --no-http, requests per second
from 64 keep-alive clients against gunicorn (the HTTP client of bench_checkin.py, imported, not copied).
Target (issue #4): roster ≥ 116 req/s.

gunicorn runs in a session of its own; it is stopped (its whole process group, SIGKILL after 10 s) however the
run ends: normally, on an exception, on SIGTERM / SIGHUP / Ctrl-C, or when --timeout seconds have passed.
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")
os.environ.setdefault("AXES_ENABLED", "False")
os.environ.setdefault("TASKS_BACKEND", "immediate")


def build(station, organizer, *, title: str, posts: int, confirmed: int, waitlisted: int, tag: str):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from leifeng.activities import services
    from leifeng.activities.models import Activity, Post, Signup
    from leifeng.people.models import Volunteer

    User = get_user_model()
    now = timezone.now()
    activity = Activity.objects.create(org=station, title=title, category="other", address="广场", status="published")
    per_post = confirmed + waitlisted
    n = posts * per_post
    users = User.objects.bulk_create(
        [User(username=f"r{tag}-{i}", password="!", display_name=f"志愿者{i}") for i in range(n)], batch_size=2000
    )
    volunteers = Volunteer.objects.bulk_create(
        [
            Volunteer(
                number=f"R{tag}{i:07d}",
                org=station,
                user=u,
                name=f"志愿者{i}",
                id_number_encrypted="-",
                id_index=f"roster-{tag}-{i}",
                id_masked="110105********0000",
                gender="m",
                birth_date=now.date().replace(year=1990),
                phone=f"139{i:08d}",
                status="approved",
                consent_at=now,
            )
            for i, u in enumerate(users)
        ],
        batch_size=2000,
    )
    for k in range(posts):
        start = now + timedelta(days=3, hours=k)
        p = Post.objects.create(
            activity=activity,
            title=f"岗位{k + 1}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            quota=confirmed,
            filled=confirmed,
        )
        mine = volunteers[k * per_post : (k + 1) * per_post]
        Signup.objects.bulk_create(
            [
                Signup(
                    post=p,
                    volunteer=v,
                    status="confirmed" if i < confirmed else "waitlisted",
                    starts_at=p.starts_at,
                    ends_at=p.ends_at,
                )
                for i, v in enumerate(mine)
            ],
            batch_size=2000,
        )
        services.groups_build(actor=organizer, post_id=p.pk)
    return activity


def in_process(client, url: str, repeat: int) -> dict:
    from django.db import connection

    r = client.get(url)
    assert r.status_code == 200, r.status_code
    seen: list[str] = []

    def count(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        r = client.get(url)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - t) * 1000)
    return {
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "queries": len(seen),
        "bytes": len(r.content),
    }


def stop_on_signals(timeout: float) -> None:
    """SIGTERM / SIGHUP end the run like Ctrl-C does (cleanup blocks run); so does the --timeout alarm."""

    def leave(signum, _frame):
        raise SystemExit(128 + signum)

    def too_long(_signum, _frame):
        raise TimeoutError(f"bench_roster: still running after {timeout:g} s")

    signal.signal(signal.SIGTERM, leave)
    signal.signal(signal.SIGHUP, leave)
    signal.signal(signal.SIGALRM, too_long)
    if timeout > 0:
        signal.setitimer(signal.ITIMER_REAL, timeout)


def stop_server(server: subprocess.Popen, grace: float = 10.0) -> None:
    """Stop gunicorn's process group (master and workers): SIGTERM, then SIGKILL after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return  # nothing left in the group
        try:
            server.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
    # the master is gone; a worker it did not reap would still hold the group
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


@contextlib.contextmanager
def gunicorn(port: int, workers: int, threads: int):
    from bench_checkin import start_server

    server = start_server(port, workers, threads)
    try:
        yield server
    finally:
        stop_server(server)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the realistic page in process, then stop")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "roster.json"))
    ap.add_argument("--timeout", type=float, default=1800, help="give up (and stop gunicorn) after this many s")
    args = ap.parse_args()
    stop_on_signals(args.timeout)

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from leifeng.accounts.models import Role, RoleAssignment
    from leifeng.orgs.models import Org, OrgLevel

    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — run through scripts/with_postgres.py", file=sys.stderr)
    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:6]
    center = Org.objects.add_root(create_kwargs={"name": f"名册中心{tag}", "level": OrgLevel.CENTER})
    station = Org.objects.add_child(
        Org.objects.get(pk=center.pk), create_kwargs={"name": f"名册站{tag}", "level": OrgLevel.STATION}
    )
    organizer = get_user_model().objects.create_user(username=f"roster-org-{tag}", password=None)
    RoleAssignment.objects.create(user=organizer, role=Role.ORG_ADMIN, org=station)
    t = time.perf_counter()
    cases = {
        "realistic (10 posts × 20 + 3 waitlisted)": build(
            station, organizer, title="三月五日", posts=10, confirmed=20, waitlisted=3, tag=tag + "a"
        ),
        "big (1 post, 1,500 confirmed + 1,500 waitlisted)": build(
            station, organizer, title="大名册", posts=1, confirmed=1500, waitlisted=1500, tag=tag + "b"
        ),
    }
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"data built in {time.perf_counter() - t:.0f} s")
    client = Client()
    client.force_login(organizer)
    report: dict = {"results": []}
    if args.profile:
        import cProfile
        import pstats

        url = reverse("activities:roster", args=[next(iter(cases.values())).pk])
        client.get(url)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(5):
            client.get(url)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(45)
        return
    urls = {"/healthz (bare endpoint)": "/healthz", "activity detail (same site frame)": None}
    for label, activity in cases.items():
        urls[label] = reverse("activities:roster", args=[activity.pk])
    urls["activity detail (same site frame)"] = reverse(
        "activities:activity_detail", args=[next(iter(cases.values())).pk]
    )
    for label, url in urls.items():
        row = {"case": label, "url": url, **in_process(client, url, args.repeat)}
        print(f"{label:52s} in-process median {row['median_ms']:7.1f} ms  {row['queries']} queries  {row['bytes']:,} B")
        report["results"].append(row)
    connection.close()

    if not args.no_http:
        from bench_checkin import burst, free_port, summary

        port = free_port()
        with gunicorn(port, args.workers, args.threads):
            cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}
            for row in report["results"]:
                jobs = [("GET", row["url"], cookie, b"", None) for _ in range(10)]
                asyncio.run(burst("127.0.0.1", port, jobs, 4))  # warm the workers
                jobs = [("GET", row["url"], cookie, b"", None) for _ in range(args.requests)]
                res, el = asyncio.run(burst("127.0.0.1", port, jobs, args.clients))
                row["http"] = summary(row["case"][:28], res, el, ok=(200,))
    signal.setitimer(signal.ITIMER_REAL, 0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()

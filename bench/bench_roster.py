#!/usr/bin/env python
"""The organizer's roster page, in process (test client) and over HTTP (the production server), on PostgreSQL.

    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_roster.py

Three activities:
  * realistic: 10 posts × 20 confirmed (+ 3 waitlisted each), grouped by 8 — a March 5 squad plan;
  * big: one post of 1,500 with 3,000 sign-ups (1,500 confirmed, 1,500 waitlisted), groups of 8;
  * check-in: bench_checkin.py's activity — 4 posts × 750 confirmed, no groups (the issue #4 target).
For each: the page in process (median ms and CPU ms, SQL queries, bytes) and, unless --no-http, wrk
(-t2, 64 keep-alive connections, --seconds) against granian (3 workers × 1 blocking thread; `--server gunicorn`
for comparison; DEBUG=False, DB_CONN_MAX_AGE=600)
with the CPU each side used per request, read from /proc: the server's processes, the PostgreSQL
server's processes, wrk. The machine is shared, so req/s moves with the others' load; CPU per request does
not (much): `capacity_per_second_on_idle_cores` = cores × 1000 / (total CPU ms per request) is the check.
Target (issue #4): roster ≥ 116 req/s, i.e. ≤ ~17 ms of CPU per page in total on 2 cores.

The server runs in a session of its own; it is stopped (its whole process group, SIGKILL after 10 s) however the
run ends: normally, on an exception, on SIGTERM / SIGHUP / Ctrl-C, or when --timeout seconds have passed.
"""

import argparse
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


def build(
    station, organizer, *, title: str, posts: int, confirmed: int, waitlisted: int, tag: str, groups: bool = True
):
    from bench_checkin import make_volunteers
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from leifeng.activities import services
    from leifeng.activities.models import Activity, Post, Signup

    User = get_user_model()
    now = timezone.now()
    activity = Activity.objects.create(org=station, title=title, category="other", address="广场", status="published")
    per_post = confirmed + waitlisted
    n = posts * per_post
    users = User.objects.bulk_create(
        [User(username=f"r{tag}-{i}", password="!", display_name=f"志愿者{i}") for i in range(n)], batch_size=2000
    )
    volunteers = make_volunteers(station, users, f"R{tag}", now)
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
        if groups:
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
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    return {
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "cpu_ms_median": round(statistics.median(cpu), 1),  # this process only (the test client), not the database
        "queries": len(seen),
        "bytes": len(r.content),
    }


def browser_cookie(client, url: str) -> str:
    """The Cookie header of an organizer's browser on its second visit: the session and the CSRF cookie the first
    page set (without it, Django would mint and set a new CSRF secret on every page, which no browser asks for)."""
    from django.conf import settings

    client.get(url)
    names = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    return "; ".join(f"{n}={client.cookies[n].value}" for n in names if n in client.cookies)


def db_cpu_reader():
    """A function giving the CPU seconds used so far by the PostgreSQL server (postmaster and its processes)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return lambda: _cpu_of(lambda pid, ppid: postmaster in (pid, ppid))


def _cpu_of(match) -> float:
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if match(int(entry.name), int(fields[1])):
            total += int(fields[11]) + int(fields[12])
    return total / hz


def run_wrk(port: int, url: str, cookie: str, *, clients: int, seconds: int, server_pid: int, db_cpu) -> dict:
    """wrk on one URL for `seconds`, with the CPU used meanwhile per request: server, PostgreSQL, wrk."""
    import re
    import resource

    from bench_checkin import machine_busy

    cmd = ["wrk", "-t2", f"-c{clients}", f"-d{seconds}s", "--latency", "-H", f"Cookie: {cookie}"]
    cmd.append(f"http://127.0.0.1:{port}{url}")
    server_cpu = lambda: _cpu_of(lambda pid, ppid: server_pid in (pid, ppid))  # noqa: E731
    g0, d0, (b0, t0) = server_cpu(), db_cpu(), machine_busy()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    g1, d1, (b1, t1) = server_cpu(), db_cpu(), machine_busy()
    n = int(re.search(r"(\d+) requests in", out).group(1))
    if n == 0:
        raise RuntimeError(f"wrk got no answer from {url}:\n{out}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    unit = {"us": 0.001, "ms": 1, "s": 1000}
    lat = {
        q: round(float(v) * unit[u], 1) for q, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    }
    cpu = {
        "server": round((g1 - g0) * 1000 / n, 2),
        "postgresql": round((d1 - d0) * 1000 / n, 2),
        "wrk": round(((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) * 1000 / n, 2),
    }
    total = sum(cpu.values())
    return {
        "requests": n,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "per_second": rate,
        "p50_ms": lat.get("50"),
        "p99_ms": lat.get("99"),
        "cpu_ms_per_request": cpu,
        "cpu_ms_total": round(total, 2),
        "capacity_per_second_on_idle_cores": round((os.cpu_count() or 1) * 1000 / total) if total else None,
        "machine_busy": round((b1 - b0) / max(t1 - t0, 1e-9), 2),
        "load_average": round(os.getloadavg()[0], 2),
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
    """Stop the server's process group (main process and workers): SIGTERM, then SIGKILL after `grace` seconds."""
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
def app_server(port: int, workers: int, threads: int, worker_class: str = "sync", server_name: str = "granian"):
    from bench_checkin import start_server

    server = start_server(port, workers, threads, worker_class, server_name)
    try:
        yield server
    finally:
        stop_server(server)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--server", default="granian", choices=["granian", "gunicorn"], help="gunicorn for comparison")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="granian: blocking threads per worker; gunicorn: gthread")
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"], help="gunicorn only")
    ap.add_argument("--seconds", type=int, default=10, help="wrk's duration per page")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument(
        "--profile",
        nargs="?",
        const="realistic",
        choices=["realistic", "big", "check-in"],
        help="cProfile one page in process (default: realistic), then stop",
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "roster.json"))
    ap.add_argument("--timeout", type=float, default=1800, help="give up (and stop the server) after this many s")
    args = ap.parse_args()
    stop_on_signals(args.timeout)

    import django

    django.setup()
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
        "check-in activity (4 posts × 750, no groups)": build(
            station, organizer, title="学雷锋日", posts=4, confirmed=750, waitlisted=0, tag=tag + "c", groups=False
        ),
    }
    with connection.cursor() as cur:
        # else autovacuum, and the checkpoint writing the freshly built rows, run during the measurement on the
        # server's CPU
        cur.execute("VACUUM ANALYZE")
        cur.execute("CHECKPOINT")
    print(f"data built in {time.perf_counter() - t:.0f} s")
    client = Client()
    client.force_login(organizer)
    report: dict = {"results": []}
    if args.profile:
        import cProfile
        import pstats

        chosen = next(a for label, a in cases.items() if label.startswith(args.profile))
        url = reverse("activities:roster", args=[chosen.pk])
        client.get(url)
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(20):
            client.get(url)
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        return
    urls = {"/healthz (bare endpoint)": "/healthz", "activity detail (same site frame)": None}
    for label, activity in cases.items():
        urls[label] = reverse("activities:roster", args=[activity.pk])
    urls["activity detail (same site frame)"] = reverse(
        "activities:activity_detail", args=[next(iter(cases.values())).pk]
    )
    for label, url in urls.items():
        row = {"case": label, "url": url, **in_process(client, url, args.repeat)}
        print(
            f"{label:52s} in process: median {row['median_ms']:6.1f} ms, CPU {row['cpu_ms_median']:5.1f} ms; "
            f"{row['queries']} queries, {row['bytes']:,} B"
        )
        report["results"].append(row)
    connection.close()

    if not args.no_http:
        from bench_checkin import free_port, server_label

        db_cpu = db_cpu_reader()
        connection.close()
        port = free_port()
        cookie = browser_cookie(client, next(u for u in urls.values() if u != "/healthz"))
        report["server"] = (
            server_label(args.server, args.workers, args.threads, args.worker_class)
            + f", DEBUG=False, DB_CONN_MAX_AGE={os.environ['DB_CONN_MAX_AGE']}"
            + f"; wrk -t2 -c{args.clients} -d{args.seconds}s"
        )
        with app_server(port, args.workers, args.threads, args.worker_class, args.server) as server:
            for row in report["results"]:
                # warm every worker (imports, connection, prepared statements) before measuring
                warm = ["wrk", "-t1", "-c4", "-d3s", "-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{row['url']}"]
                subprocess.run(warm, capture_output=True, check=False)
                http = run_wrk(
                    port,
                    row["url"],
                    cookie,
                    clients=args.clients,
                    seconds=args.seconds,
                    server_pid=server.pid,
                    db_cpu=db_cpu,
                )
                row["http"] = http
                c = http["cpu_ms_per_request"]
                print(
                    f"{row['case'][:52]:52s} {http['per_second']:7.1f}/s  p50 {http['p50_ms']} ms  p99 {http['p99_ms']}"
                    f" ms  {http['non_2xx']} non-2xx\n    CPU per request: server {c['server']} + PostgreSQL "
                    f"{c['postgresql']} + wrk {c['wrk']} = {http['cpu_ms_total']} ms → "
                    f"{http['capacity_per_second_on_idle_cores']}/s on idle cores; machine busy "
                    f"{http['machine_busy']:.0%}, load {http['load_average']}"
                )
    signal.setitimer(signal.ITIMER_REAL, 0)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Burst check-ins (and sign-ups, and a roster page) against a production server on PostgreSQL.

    .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_checkin.py --volunteers 5000

Migrates the throw-away database, creates an activity with posts running now and N volunteers with
accounts, confirmed sign-ups and API tokens (bulk inserts), starts gunicorn (3 sync workers by default,
DEBUG=False, persistent DB connections) and drives it from 64 concurrent keep-alive clients (asyncio, standard library
only). Reported:
  * check-ins: accepted per second, p50 / p99 latency, the same for the bare endpoint /healthz on the
    same server (the ratio cancels most machine noise), and a final count proving that nothing was lost
    or duplicated — 10 % of the requests are sent twice with the same Idempotency-Key, some of them at
    the same instant as the original;
  * sign-ups (POST /api/v1/activities/posts/{id}/signups) when that endpoint exists: accepted per second
    and that the post is never overfilled;
  * the roster page /activities/<id>/roster/ when it exists: requests per second.
Targets (issue #4): ≥ 1000 check-ins/s with p99 < 100 ms; ≥ 430 sign-ups/s; roster ≥ 116 req/s.
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leifeng.config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("DB_CONN_MAX_AGE", "600")
os.environ.setdefault("TASKS_BACKEND", "immediate")


# ---------------------------------------------------------------- HTTP client (keep-alive, asyncio)


class Conn:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, headers: dict, body: bytes = b"") -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.writer.write(head.encode() + b"\r\n" + body)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:] if x)}
        data = await self.reader.readexactly(int(hdrs.get("content-length", "0")))
        if hdrs.get("connection", "").lower() == "close":
            self.writer.close()
            self.writer = None
        return status, data


async def burst(host: str, port: int, jobs: list, clients: int) -> tuple[list, float]:
    """Run `jobs` (method, path, headers, body, tag) from `clients` connections; results and elapsed seconds."""
    queue: asyncio.Queue = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    results: list = []

    async def worker():
        conn = Conn(host, port)
        await conn.open()
        while True:
            try:
                method, path, headers, body, tag = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if callable(body):
                body = body()
            t = time.perf_counter()
            try:
                status, data = await asyncio.wait_for(conn.request(method, path, headers, body), timeout=120)
            except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
                if conn.writer is not None:
                    conn.writer.close()
                conn.writer = None
                status, data = 599, b""
            results.append((tag, status, (time.perf_counter() - t) * 1000, data))
        if conn.writer is not None:
            conn.writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return results, time.perf_counter() - t0


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as fh:
        fields = [int(x) for x in fh.readline().split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / hz, sum(fields) / hz


SERVER_PIDS: list[int] = []  # the gunicorn master; its workers are found through /proc


def server_cpu() -> float:
    """CPU seconds used so far by the gunicorn master and its live workers (user + system)."""
    hz = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            stat = (pid / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(pid.name) in SERVER_PIDS or int(fields[1]) in SERVER_PIDS:  # fields[1] = parent pid
            total += int(fields[11]) + int(fields[12])
    return total / hz


def run_burst(host: str, port: int, jobs: list, clients: int) -> tuple[list, float, dict]:
    """`burst`, plus where the CPU went meanwhile: the server's CPU per request (independent of other load
    on the machine), the client's own share (this process) and how busy the whole machine was."""
    c0, s0, (b0, t0) = time.process_time(), server_cpu(), machine_busy()
    results, elapsed = asyncio.run(burst(host, port, jobs, clients))
    c1, s1, (b1, t1) = time.process_time(), server_cpu(), machine_busy()
    cores = os.cpu_count() or 1
    cpu = {
        "server_cpu_ms_per_request": round((s1 - s0) * 1000 / max(len(results), 1), 2),
        "client_cpu_share": round((c1 - c0) / max(b1 - b0, 1e-9), 2),  # of all CPU used during the burst
        "machine_busy": round((b1 - b0) / max(t1 - t0, 1e-9), 2),  # 1.0 = all cores busy
        "cores": cores,
    }
    return results, elapsed, cpu


def summary(label: str, results: list, elapsed: float, ok=(200, 201), cpu: dict | None = None) -> dict:
    lat = sorted(r[2] for r in results)
    accepted = sum(1 for r in results if r[1] in ok)
    row = {
        "case": label,
        "requests": len(results),
        "accepted": accepted,
        "seconds": round(elapsed, 2),
        "per_second": round(accepted / elapsed, 1),
        "p50_ms": round(statistics.median(lat), 1),
        "p99_ms": round(lat[max(0, int(len(lat) * 0.99) - 1)], 1),
        "statuses": dict(sorted({str(s): sum(1 for r in results if r[1] == s) for _, s, _, _ in results}.items())),
    }
    errors: dict = {}
    for _tag, status, _ms, data in results:
        if status >= 400:
            try:
                code = json.loads(data)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = str(status)
            errors[code] = errors.get(code, 0) + 1
    if errors:
        row["errors"] = errors
    if cpu:
        row.update(cpu)
    print(
        f"{label:28s} {row['per_second']:8.1f}/s  p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
        f"{row['requests']} requests {row['statuses']} {errors or ''}"
        + (
            f"\n    server CPU {cpu['server_cpu_ms_per_request']} ms/request; machine busy {cpu['machine_busy']:.0%}, "
            f"the client {cpu['client_cpu_share']:.0%} of it"
            if cpu
            else ""
        )
    )
    return row


# ---------------------------------------------------------------- data

SPREAD_POSTS = 30


def build(n: int):
    """An activity with posts running now, n volunteers with accounts, confirmed sign-ups and API tokens."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from leifeng.accounts.models import ApiToken, Role, RoleAssignment
    from leifeng.activities.models import Activity, Post, Signup
    from leifeng.orgs.models import Org, OrgLevel
    from leifeng.people.models import Volunteer

    User = get_user_model()
    tag = uuid.uuid4().hex[:6]
    center = Org.objects.add_root(create_kwargs={"name": f"压测中心{tag}", "level": OrgLevel.CENTER})
    station = Org.objects.add_child(
        Org.objects.get(pk=center.pk), create_kwargs={"name": f"压测站{tag}", "level": OrgLevel.STATION}
    )
    organizer = User.objects.create_user(username=f"bench-org-{tag}", password=None)
    RoleAssignment.objects.create(user=organizer, role=Role.ORG_ADMIN, org=station)
    now = timezone.now()
    activity = Activity.objects.create(
        org=station, title="学雷锋日压测", category="other", address="广场", status="in_progress"
    )
    posts = [
        Post.objects.create(
            activity=activity,
            title=f"岗位{i}",
            starts_at=now - timedelta(minutes=30),
            ends_at=now + timedelta(hours=3),
            quota=n,
        )
        for i in range(4)
    ]
    users = User.objects.bulk_create(
        [User(username=f"b{tag}-{i}", password="!", display_name=f"志愿者{i}") for i in range(n)], batch_size=2000
    )
    volunteers = Volunteer.objects.bulk_create(
        [
            Volunteer(
                number=f"B{tag}{i:07d}",
                org=station,
                user=u,
                name=f"志愿者{i}",
                id_number_encrypted="-",
                id_index=f"bench-{tag}-{i}",
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
    Signup.objects.bulk_create(
        [
            Signup(
                post=posts[i % len(posts)],
                volunteer=v,
                status="confirmed",
                starts_at=posts[i % len(posts)].starts_at,
                ends_at=posts[i % len(posts)].ends_at,
            )
            for i, v in enumerate(volunteers)
        ],
        batch_size=2000,
    )
    for p in posts:
        Post.objects.filter(pk=p.pk).update(filled=Signup.objects.filter(post=p).count())
    raw = [ApiToken.new_key() for _ in users]
    ApiToken.objects.bulk_create(
        [
            ApiToken(user=u, name="bench", prefix=k[:8], key_hash=ApiToken.hash(k), last_used_at=now)
            for u, k in zip(users, raw, strict=True)
        ],
        batch_size=2000,
    )
    # a second activity, published, for the sign-up bursts: half of the people spread over SPREAD_POSTS
    # posts (like the March 5 squads: many posts of a few dozen places), the other half all on one hot
    # post whose quota is half of them (the contention case: the quota must hold, the rest waitlisted)
    signup_activity = Activity.objects.create(
        org=station, title="报名压测", category="other", address="广场", status="published", published_at=now
    )
    half = n // 2
    spread_posts = [
        Post.objects.create(
            activity=signup_activity,
            title=f"分队{i + 1}",
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=2, hours=2),
            quota=max(1, half // SPREAD_POSTS),
        )
        for i in range(SPREAD_POSTS)
    ]
    signup_post = Post.objects.create(
        activity=signup_activity,
        title="报名岗",
        starts_at=now + timedelta(days=2),
        ends_at=now + timedelta(days=2, hours=2),
        quota=max(1, (n - half) // 2),
    )
    return {
        "activity": activity,
        "organizer": organizer,
        "volunteers": volunteers,
        "tokens": raw,
        "spread_posts": spread_posts,
        "signup_post": signup_post,
    }


def count_queries(data) -> list[str]:
    """The SQL of one check-in through the whole stack (token auth included), for the report."""
    from django.db import connection
    from django.test import Client

    from leifeng.attendance.services import kiosk_token

    executed: list[str] = []

    def wrapper(execute, sql, params, many, context):
        executed.append(" ".join(sql.split())[:110])
        return execute(sql, params, many, context)

    client = Client()
    with connection.execute_wrapper(wrapper):
        resp = client.post(
            "/api/v1/attendance/check",
            json.dumps({"token": kiosk_token(data["activity"])}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {data['tokens'][-1]}", "Idempotency-Key": "probe"},
        )
    assert resp.status_code == 200, resp.content
    return executed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, threads: int, worker_class: str = "gthread") -> subprocess.Popen:
    # refused requests (400/404) are part of the burst: keep Django's request warnings out of the report
    env = dict(os.environ, DEBUG="False", ALLOWED_HOSTS="127.0.0.1", LOG_LEVEL="ERROR")
    cmd = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "leifeng.config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        worker_class,
        *(["--threads", str(threads)] if worker_class == "gthread" else []),
        "--keep-alive",
        "75",
        "--backlog",
        "2048",
        "--timeout",
        "120",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--volunteers", type=int, default=5000)
    ap.add_argument("--clients", type=int, default=64)
    # 2 cores: sync workers (one request at a time each, no keep-alive) measured cheaper per request than
    # gthread (healthz 1.2 vs 4.2 ms server CPU per request); 3 workers hide the database waits
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=4, help="per gthread worker")
    ap.add_argument("--worker-class", default="sync", choices=["gthread", "sync"])
    ap.add_argument("--retry-share", type=float, default=0.10)
    ap.add_argument("--roster-requests", type=int, default=500, help="0 skips the roster page")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "checkin.json"))
    args = ap.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.urls import NoReverseMatch, reverse

    from leifeng.attendance.models import Attendance, CheckRequest
    from leifeng.attendance.services import kiosk_token

    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — run through scripts/with_postgres.py", file=sys.stderr)
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    data = build(args.volunteers)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"{args.volunteers:,} volunteers with sign-ups and tokens in {time.perf_counter() - t:.1f} s")
    queries = count_queries(data)
    print(f"one check-in: {len(queries)} queries")
    for q in queries:
        print("   ", q)
    connection.close()

    port = free_port()
    server = start_server(port, args.workers, args.threads, args.worker_class)
    SERVER_PIDS.append(server.pid)
    report: dict = {
        "load_average_before": os.getloadavg()[0],
        "volunteers": args.volunteers,
        "clients": args.clients,
        "server": f"gunicorn {args.worker_class} {args.workers} workers"
        + (f" × {args.threads} threads" if args.worker_class == "gthread" else "")
        + ", DEBUG=False, keep-alive 75 s, DB_CONN_MAX_AGE="
        + os.environ["DB_CONN_MAX_AGE"],
        "client": "Python asyncio (this script), keep-alive, on the same machine",
        "queries_per_checkin": len(queries),
        "results": [],
    }
    try:
        # warm up every worker and connection
        warm = [("GET", "/healthz", {}, b"", None) for _ in range(2000)]
        asyncio.run(burst("127.0.0.1", port, warm, args.clients))
        bare_jobs = [("GET", "/healthz", {}, b"", None) for _ in range(args.volunteers)]
        res, el, cpu = run_burst("127.0.0.1", port, bare_jobs, args.clients)
        bare = summary("bare endpoint /healthz", res, el, cpu=cpu)
        report["results"].append(bare)

        shown = {"at": 0.0, "body": b""}

        def body() -> bytes:
            """What a phone sends: the code on the kiosk screen now (it rotates every 20 s, like the page)."""
            if time.monotonic() - shown["at"] > 20:
                shown["body"] = json.dumps({"token": kiosk_token(data["activity"])}).encode()
                shown["at"] = time.monotonic()
            return shown["body"]

        jobs = []
        keys = {}
        for i, raw in enumerate(data["tokens"][:-1]):  # the last one checked in during the query count
            key = uuid.uuid4().hex
            keys[key] = i
            headers = {
                "Authorization": f"Bearer {raw}",
                "Idempotency-Key": key,
                "Content-Type": "application/json",
            }
            jobs.append(("POST", "/api/v1/attendance/check", headers, body, key))
        random.seed(4)
        retries = random.sample(jobs, int(len(jobs) * args.retry_share))
        for job in retries:  # the same request again, somewhere later in the burst (some at once)
            jobs.insert(random.randint(jobs.index(job), len(jobs)), job)
        res, el, cpu = run_burst("127.0.0.1", port, jobs, args.clients)
        row = summary("check-in (API, token auth)", res, el, cpu=cpu)
        row["ratio_to_bare"] = round(bare["per_second"] / row["per_second"], 2)
        row["retries_sent"] = len(retries)
        first: dict = {}
        mismatched = 0
        replayed = 0
        for key, status, _lat, body in res:
            if status != 200:
                continue
            payload = json.loads(body)
            replayed += payload["replayed"]
            att = payload["attendance"]["id"]
            if first.setdefault(key, att) != att:
                mismatched += 1
        activity = data["activity"]
        rows = Attendance.objects.filter(activity=activity).count()
        per_person = Attendance.objects.filter(activity=activity).values("volunteer").distinct().count()
        keys_stored = CheckRequest.objects.filter(key__in=list(keys)).count()
        row["final_count"] = {
            "volunteers_checking_in": len(keys),
            "attendance_rows": rows - 1,  # minus the probe
            "distinct_people": per_person - 1,
            "idempotency_keys": keys_stored,
            "replayed_answers": replayed,
            "answers_with_another_attendance": mismatched,
        }
        accepted_keys = len(first)
        row["final_count"]["keys_accepted"] = accepted_keys
        # every accepted request left exactly one presence and one key; a refused one (its error shown) left none
        ok = rows - 1 == accepted_keys == per_person - 1 == keys_stored and mismatched == 0
        row["nothing_lost_or_duplicated"] = ok
        print(f"    final count: {row['final_count']} → {'OK' if ok else 'MISMATCH'}")
        report["results"].append(row)

        # sign-ups, when the activities app has the endpoint
        try:
            reverse("api:sign_up", kwargs={"post_id": data["signup_post"].pk})
            has_signup = True
        except NoReverseMatch:
            has_signup = False
        if has_signup:
            from leifeng.activities.models import Post, Signup

            half = len(data["tokens"]) // 2
            spread = data["spread_posts"]
            runs = [
                (
                    f"sign-up ({len(spread)} posts)",
                    spread,
                    [(raw, spread[i % len(spread)]) for i, raw in enumerate(data["tokens"][:half])],
                ),
                (
                    "sign-up (one hot post)",
                    [data["signup_post"]],
                    [(raw, data["signup_post"]) for raw in data["tokens"][half:]],
                ),
            ]
            for label, posts, who in runs:
                jobs = [
                    (
                        "POST",
                        f"/api/v1/activities/posts/{post.pk}/signups",
                        {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"},
                        b"",
                        i,
                    )
                    for i, (raw, post) in enumerate(who)
                ]
                res, el, cpu = run_burst("127.0.0.1", port, jobs, args.clients)
                row = summary(label, res, el, cpu=cpu)
                quota = confirmed = waitlisted = 0
                overfilled = []
                for post in posts:
                    post = Post.objects.get(pk=post.pk)
                    c = Signup.objects.filter(post=post, status="confirmed").count()
                    quota += post.quota
                    confirmed += c
                    waitlisted += Signup.objects.filter(post=post, status="waitlisted").count()
                    if c > post.quota or post.filled != c:
                        overfilled.append(post.pk)
                row["posts"] = len(posts)
                row["quota"] = quota
                row["confirmed"] = confirmed
                row["waitlisted"] = waitlisted
                row["never_overfilled"] = not overfilled
                row["nothing_lost"] = confirmed + waitlisted == row["accepted"]
                print(
                    f"    {len(posts)} posts, quota {quota}, confirmed {confirmed}, waitlisted {waitlisted}, "
                    f"overfilled posts {overfilled or 'none'}"
                )
                report["results"].append(row)
        else:
            print("sign-up endpoint not there yet: skipped")

        try:
            roster = reverse("activities:roster", kwargs={"pk": data["activity"].pk})
        except NoReverseMatch:
            roster = None
        if roster and args.roster_requests > 0:
            from django.conf import settings
            from django.test import Client

            browser = Client()
            browser.force_login(data["organizer"])  # a real session row, as after logging in
            name = settings.SESSION_COOKIE_NAME
            cookie = {"Cookie": f"{name}={browser.cookies[name].value}"}
            jobs = [("GET", roster, cookie, b"", None) for _ in range(args.roster_requests)]
            res, el, cpu = run_burst("127.0.0.1", port, jobs, args.clients)
            row = summary("roster page", res, el, ok=(200,), cpu=cpu)
            report["results"].append(row)
        else:
            print("roster page: skipped")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()

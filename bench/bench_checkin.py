#!/usr/bin/env python
"""Burst check-ins, sign-ups and an activity's roster page against a production server on PostgreSQL.

    PG_EXTRA_OPTS=" -c fsync=on -c synchronous_commit=on -c full_page_writes=on" \
      .venv/bin/python scripts/with_postgres.py -- .venv/bin/python bench/bench_checkin.py --volunteers 6000

(the tests' throw-away server runs with fsync off; production commits wait for the disk, so the figures
are taken with it on). Migrates, creates an activity with posts running now and N volunteers with
accounts, confirmed sign-ups and API tokens (bulk inserts), starts the production server (granian, 3 workers ×
1 blocking thread, DEBUG=False, persistent DB connections, the production WSGI entry point with its burst
paths; `--server gunicorn` for comparison) and drives it with wrk (C, 2 threads, 64 keep-alive connections)
from the same machine. Reported for each case: accepted per second, p50 /
p99 latency, and the CPU each side spent per request (server, PostgreSQL, wrk, from /proc) with the
rate those cores could serve if nothing else ran — the machine is shared, so both are given:
  * the bare endpoint /healthz on the same server (the ratio cancels most machine noise);
  * check-ins: everyone once with a fresh Idempotency-Key, 10 % sent again later with the same key; the
    final count proves nothing lost or duplicated (one presence and one key per person);
  * sign-ups: half the people over 30 posts, half on one hot post (its quota half of them): never
    overfilled, every request a sign-up (confirmed or waitlisted);
  * the roster page of the check-in activity (every person signed up) for an organizer.
Targets (issue #4): ≥ 1000 check-ins/s with p99 < 100 ms; ≥ 430 sign-ups/s; roster ≥ 116 req/s.
"""

import argparse
import asyncio
import json
import os
import random
import shutil
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


# ---------------------------------------------------------------- Python client (bench_roster.py uses it)


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


SERVER_PIDS: list[int] = []  # the server's main process; its workers are found through /proc


def server_cpu() -> float:
    """CPU seconds used so far by the server's main process and its live workers (user + system)."""
    from bench_roster import _cpu_of

    return _cpu_of(lambda pid, ppid: pid in SERVER_PIDS or ppid in SERVER_PIDS)


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


def make_volunteers(station, users, prefix: str, now) -> list:
    """Approved adult volunteers at `station`, one per user, numbered `prefix` + index (bulk insert)."""
    from leifeng.people.models import Volunteer

    return Volunteer.objects.bulk_create(
        [
            Volunteer(
                number=f"{prefix}{i:07d}",
                org=station,
                user=u,
                name=f"志愿者{i}",
                id_number_encrypted="-",
                id_index=f"bench-{prefix}-{i}",
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


def history(station, volunteers, users, now) -> None:
    """Last week's activity, everyone checked in and out: a platform in use, not empty tables. (On empty
    tables PostgreSQL plans the check-in's prepared statements with sequential scans and keeps those plans
    for the connection's life while the tables grow under the burst.)"""
    from leifeng.activities.models import Activity, Post, Signup
    from leifeng.attendance.models import Attendance, CheckRequest

    start = now - timedelta(days=7)
    past = Activity.objects.create(org=station, title="上周的活动", category="other", address="广场", status="finished")
    post = Post.objects.create(
        activity=past, title="岗位", starts_at=start, ends_at=start + timedelta(hours=2), quota=len(volunteers)
    )
    Signup.objects.bulk_create(
        [
            Signup(post=post, volunteer=v, status="confirmed", starts_at=post.starts_at, ends_at=post.ends_at)
            for v in volunteers
        ],
        batch_size=2000,
    )
    rows = Attendance.objects.bulk_create(
        [
            Attendance(
                activity=past,
                post=post,
                volunteer=v,
                status="closed",
                checked_in_at=start,
                checked_out_at=start + timedelta(hours=2),
                method_in="kiosk",
                method_out="kiosk",
            )
            for v in volunteers
        ],
        batch_size=2000,
    )
    CheckRequest.objects.bulk_create(
        [
            CheckRequest(key=uuid.uuid4().hex, user=u, attendance=a, action=action, created_at=start)
            for u, a in zip(users, rows, strict=True)
            for action in ("in", "out")
        ],
        batch_size=4000,
    )


def build(n: int):
    """An activity with posts running now, n volunteers with accounts, confirmed sign-ups and API tokens."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from leifeng.accounts.models import ApiToken, Role, RoleAssignment
    from leifeng.activities.models import Activity, Post, Signup
    from leifeng.orgs.models import Org, OrgLevel

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
    volunteers = make_volunteers(station, users, f"B{tag}", now)
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
    history(station, volunteers, users, now)
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVERS = ("granian", "gunicorn")


def server_command(server: str, port: int, workers: int, threads: int, worker_class: str = "sync") -> list[str]:
    """The production server's command line (docs/operations.md): granian, or gunicorn for comparison.
    `threads` are granian's blocking threads per worker (the Python threads that run the app), or gunicorn's
    threads per gthread worker (unused by its sync workers)."""
    bin_dir = ROOT / ".venv" / "bin"
    if server == "granian":
        return [
            *(str(bin_dir / "granian"), "--interface", "wsgi", "leifeng.config.wsgi:application"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--workers", str(workers), "--blocking-threads", str(threads)),
            *("--backlog", "2048", "--http", "1", "--no-ws", "--log-level", "warning"),
        ]
    return [
        *(str(bin_dir / "gunicorn"), "leifeng.config.wsgi", "--bind", f"127.0.0.1:{port}"),
        *("--workers", str(workers), "--worker-class", worker_class),
        *(["--threads", str(threads)] if worker_class == "gthread" else []),
        *("--keep-alive", "75", "--backlog", "2048", "--timeout", "120", "--graceful-timeout", "5"),
        *("--log-level", "warning"),
    ]


def server_label(server: str, workers: int, threads: int, worker_class: str = "sync") -> str:
    if server == "granian":
        return f"granian (WSGI) {workers} workers × {threads} blocking threads"
    return f"gunicorn {worker_class} {workers} workers" + (f" × {threads} threads" if worker_class == "gthread" else "")


def start_server(port: int, workers: int, threads: int, worker_class: str = "sync", server: str = "granian"):
    """The server in a session of its own (stop_server stops its whole process group), once it accepts."""
    # refused requests (400/404) are part of the burst: keep Django's request warnings out of the report
    env = dict(os.environ, DEBUG="False", ALLOWED_HOSTS="127.0.0.1", LOG_LEVEL="ERROR")
    cmd = server_command(server, port, workers, threads, worker_class)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{server} did not start")


# ---------------------------------------------------------------- wrk (C, a fraction of the CPU of a Python client)

# Every line of the request file: METHOD PATH BEARER KEY BODY ("-" = no key; the body may be empty). Each of
# wrk's threads sends its own share of the lines once, in order, then GET /healthz until the bench, watching
# the database, has seen every line done and stops wrk: the counts and the seconds come from the database.
# Each thread starts with a filler too.
WRK_LUA = r"""
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  local nthreads = tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == id then table.insert(reqs, line) end
    i = i + 1
  end
  -- wrk drops the very first request it generates (seen: one line of every run never reached the server)
  table.insert(reqs, 1, "GET /healthz - - ")
  idx = 0
end
function request()
  idx = idx + 1
  local line = reqs[idx]
  if line == nil then
    -- done: keep the connections busy with the bare endpoint until the bench stops wrk (a stopped wrk thread
    -- leaves its sockets open, and each sync worker that accepted one would sit on it until its timeout)
    return wrk.format("GET", "/healthz")
  end
  local method, path, bearer, key, body = line:match("^(%S+) (%S+) (%S+) (%S+) ?(.*)$")
  if bearer == "-" then return wrk.format(method, path) end
  local headers = {["Authorization"] = "Bearer " .. bearer, ["Content-Type"] = "application/json"}
  if key ~= "-" then headers["Idempotency-Key"] = key end
  return wrk.format(method, path, headers, body)
end
"""


def wrk(
    port: int,
    clients: int,
    *,
    lines: list[str] | None = None,
    url: str = "/healthz",
    seconds: int = 10,
    headers: dict | None = None,
    db_cpu=None,
    progress=None,
    target: int = 0,
) -> dict:
    """One wrk run: the request file once (lines), or `url` for `seconds`; with the CPU each side used.

    With `lines`, `progress()` → (requests done, seconds from the first to the last, by the database's own
    timestamps) is polled until all len(lines) are done (or nothing moves for 30 s); wrk is then stopped
    (wrk has no "send this file once" mode: its threads send /healthz once their lines run out)."""
    import re
    import resource
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        # wrk gives up on an answer after 2 s by default and leaves it out of the count: on a loaded machine the
        # roster's queue (64 connections) neared that, and the CPU per counted request doubled for requests the
        # server did answer. 30 s: every answer counts; the ones past 2 s are reported (`late`).
        cmd = ["wrk", "-t2", f"-c{clients}", "--latency", "--timeout", "30s"]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        if lines is not None:
            Path(tmp, "run.lua").write_text(WRK_LUA)
            Path(tmp, "requests.txt").write_text("\n".join(lines) + "\n")
            cmd += [
                "-d600s",
                "-s",
                str(Path(tmp, "run.lua")),
                f"http://127.0.0.1:{port}/",
                "--",
                str(Path(tmp, "requests.txt")),
                "2",
            ]
        else:
            cmd += [f"-d{seconds}s", f"http://127.0.0.1:{port}{url}"]
        w0 = wal_stats()
        s0, d0, (b0, t0) = server_cpu(), db_cpu() if db_cpu else 0.0, machine_busy()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if lines is None:
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        else:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            last, moved = -1, time.monotonic()
            while proc.poll() is None:
                time.sleep(0.25)
                done, span = progress()
                if done >= target or time.monotonic() - moved > 30:
                    break
                if done != last:
                    last, moved = done, time.monotonic()
            time.sleep(0.5)  # the last answers on their way back
            proc.send_signal(signal.SIGINT)
            out = proc.communicate(timeout=60)[0]
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s1, d1, (b1, t1) = server_cpu(), db_cpu() if db_cpu else 0.0, machine_busy()
        w1 = wal_stats()
    requests, elapsed, unit = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out).groups()
    elapsed = float(elapsed) * {"ms": 0.001, "s": 1, "m": 60}[unit]
    if lines is not None:
        requests, elapsed = len(lines), progress()[1]  # the server's own clock, not wrk's -d
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    lat = {q: _ms(v, unit) for q, v, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    n = int(requests)
    if n == 0:
        raise RuntimeError(f"wrk got no answer:\n{out}")
    client = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    row = {
        "requests": n,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_timeouts": int(errors.group(4)) if errors else 0,
        "seconds": round(elapsed, 2),
        "p50_ms": lat["50"],
        "p99_ms": lat["99"],
        "cpu_ms_per_request": {
            "server": round((s1 - s0) * 1000 / n, 3),
            "postgresql": round((d1 - d0) * 1000 / n, 3),
            "wrk": round(client * 1000 / n, 3),
        },
        "machine_busy": round((b1 - b0) / max(t1 - t0, 1e-9), 2),
        "load_average": round(os.getloadavg()[0], 2),
        "wal_per_request": {k: round((w1[k] - w0[k]) / n, 3) for k in w0},
    }
    cpu = sum(row["cpu_ms_per_request"].values())
    # what these cores could serve if nothing else ran: the noisy machine's req/s is the measurement, this the check
    row["cpu_ms_total"] = round(cpu, 3)
    row["capacity_per_second_on_idle_cores"] = round((os.cpu_count() or 1) * 1000 / cpu) if cpu else None
    return row


def wal_stats() -> dict:
    """PostgreSQL's WAL counters: flushes to disk (each one an fsync when it is on) and bytes."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT wal_sync, wal_bytes, wal_fpi FROM pg_stat_wal")
        sync, size, fpi = cur.fetchone()
    return {"syncs": int(sync), "bytes": int(size), "full_page_images": int(fpi)}


def _span(qs) -> tuple[int, float]:
    """How many rows, and the seconds from the first one's created_at to the last one's."""
    from django.db.models import Count, Max, Min

    got = qs.aggregate(n=Count("id"), a=Min("created_at"), b=Max("created_at"))
    return got["n"], (got["b"] - got["a"]).total_seconds() if got["n"] > 1 else 0.0


def _ms(value: str, unit: str) -> float:
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 1)


def report(label: str, row: dict, accepted: int | None = None) -> dict:
    row = {"case": label, **row}
    accepted = row["requests"] - row["non_2xx"] if accepted is None else accepted
    row["accepted"] = accepted
    row["per_second"] = round(accepted / row["seconds"], 1)
    c = row["cpu_ms_per_request"]
    print(
        f"{label:30s} {row['per_second']:8.1f}/s  p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  "
        f"{row['requests']} requests, {row['non_2xx']} non-2xx, {row.get('socket_timeouts', 0)} timed out\n"
        f"    CPU per request: server {c['server']} + PostgreSQL {c['postgresql']} + wrk {c['wrk']} ms "
        f"= {row['cpu_ms_total']} ms → {row['capacity_per_second_on_idle_cores']}/s on {os.cpu_count()} idle cores; "
        f"machine busy {row['machine_busy']:.0%}, load {row['load_average']}; WAL per request {row['wal_per_request']}"
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--volunteers", type=int, default=6000)
    ap.add_argument("--clients", type=int, default=64)
    # granian: cores + 1 workers, one blocking thread each. The app is CPU-bound (a second thread per worker made
    # check-ins ~20 % slower: 929-971 against 1,195-1,449/s), but with fsync on 2 workers = 2 commits in flight
    # left the cores 78-85 % busy; 3 kept them 91-92 % busy (docs/BENCHMARKS.md). gunicorn sync: 3 workers too
    ap.add_argument("--server", default="granian", choices=SERVERS, help="granian (production) or gunicorn")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1, help="granian: blocking threads per worker; gunicorn: gthread")
    ap.add_argument("--worker-class", default="sync", choices=["gthread", "sync"], help="gunicorn only")
    ap.add_argument("--retry-share", type=float, default=0.10)
    ap.add_argument("--roster-seconds", type=int, default=10, help="0 skips the roster page")
    ap.add_argument("--timeout", type=float, default=1800, help="give up (and stop the server) after this many s")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "checkin.json"))
    args = ap.parse_args()
    from bench_roster import browser_cookie, db_cpu_reader, stop_on_signals, stop_server

    stop_on_signals(args.timeout)
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk (the client must cost little CPU on this machine)")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from leifeng.activities.models import Post, Signup
    from leifeng.attendance.models import Attendance, CheckRequest
    from leifeng.attendance.services import kiosk_token

    if connection.vendor != "postgresql":
        raise SystemExit("run through scripts/with_postgres.py (PostgreSQL)")
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
        fsync, sync_commit = cur.fetchone()
    durable = fsync == "on" and sync_commit == "on"
    if not durable:
        print(
            "warning: fsync/synchronous_commit off — production commits wait for the disk; run with\n"
            '  PG_EXTRA_OPTS=" -c fsync=on -c synchronous_commit=on -c full_page_writes=on"',
            file=sys.stderr,
        )
    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    data = build(args.volunteers)
    with connection.cursor() as cur:  # no autovacuum or checkpoint on the server's CPU during the measurement
        cur.execute("VACUUM ANALYZE")
        cur.execute("CHECKPOINT")
    print(f"{args.volunteers:,} volunteers with sign-ups and tokens in {time.perf_counter() - t:.1f} s")
    db_cpu = db_cpu_reader()

    port = free_port()
    server = start_server(port, args.workers, args.threads, args.worker_class, args.server)
    SERVER_PIDS.append(server.pid)
    report_doc: dict = {
        "load_average_before": os.getloadavg()[0],
        "cores": os.cpu_count(),
        "volunteers": args.volunteers,
        "clients": args.clients,
        "server": server_label(args.server, args.workers, args.threads, args.worker_class)
        + ", DEBUG=False, DB_CONN_MAX_AGE="
        + os.environ["DB_CONN_MAX_AGE"],
        "postgresql": {"fsync": fsync, "synchronous_commit": sync_commit},
        "client": "wrk -t2 (C), on the same machine",
        "results": [],
    }
    try:
        for _ in range(30):  # until every worker has booted, then warm each one and its connection
            try:
                wrk(port, args.clients, seconds=3)
                break
            except RuntimeError:
                time.sleep(1)
        bare = report("bare endpoint /healthz", wrk(port, args.clients, seconds=10, db_cpu=db_cpu))
        report_doc["results"].append(bare)

        # check-ins: every person once with a fresh key; 10 % of the requests sent again later with the same key
        code = json.dumps({"token": kiosk_token(data["activity"])}, separators=(",", ":"))
        started = timezone.now()  # polled by time, not by 6,000 keys (that query alone cost PostgreSQL CPU)
        people = data["tokens"]
        keys = [uuid.uuid4().hex for _ in people]
        lines = [f"POST /api/v1/attendance/check {raw} {key} {code}" for raw, key in zip(people, keys, strict=True)]
        random.seed(4)
        retries = random.sample(lines, int(len(lines) * args.retry_share))
        for line in retries:
            lines.insert(random.randint(lines.index(line), len(lines)), line)

        row = wrk(
            port,
            args.clients,
            lines=lines,
            db_cpu=db_cpu,
            progress=lambda: _span(CheckRequest.objects.filter(created_at__gte=started)),
            target=len(keys),
        )
        stored = CheckRequest.objects.filter(key__in=keys).count()
        row = report("check-in (API, token auth)", row, accepted=stored)
        activity = data["activity"]
        rows = Attendance.objects.filter(activity=activity).count()
        persons = Attendance.objects.filter(activity=activity).values("volunteer").distinct().count()
        linked = CheckRequest.objects.filter(key__in=keys, attendance__isnull=False, action="in").count()
        row["ratio_to_bare"] = round(bare["per_second"] / row["per_second"], 2)
        row["retries_sent"] = len(retries)
        row["final_count"] = {
            "people": len(people),
            "attendance_rows": rows,
            "distinct_people": persons,
            "idempotency_keys": stored,
            "keys_with_their_presence": linked,
        }
        ok = rows == persons == stored == linked == len(people)
        row["nothing_lost_or_duplicated"] = ok
        print(f"    final count: {row['final_count']} → {'OK' if ok else 'MISMATCH'}")
        report_doc["results"].append(row)

        # sign-ups: half of the people over SPREAD_POSTS posts of a few dozen places, the other half on one
        # hot post whose quota is half of them (the quota must hold, the rest waitlisted)
        half = len(people) // 2
        spread, hot = data["spread_posts"], data["signup_post"]
        runs = [
            (
                f"sign-up ({len(spread)} posts)",
                spread,
                [(raw, spread[i % len(spread)]) for i, raw in enumerate(people[:half])],
            ),
            ("sign-up (one hot post)", [hot], [(raw, hot) for raw in people[half:]]),
        ]
        for label, posts, who in runs:
            lines = [f"POST /api/v1/activities/posts/{post.pk}/signups {raw} -" for raw, post in who]

            row = wrk(
                port,
                args.clients,
                lines=lines,
                db_cpu=db_cpu,
                progress=lambda posts=posts: _span(Signup.objects.filter(post__in=posts)),
                target=len(who),
            )
            made = Signup.objects.filter(post__in=posts).count()
            row = report(label, row, accepted=made)
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
            row.update(posts=len(posts), quota=quota, confirmed=confirmed, waitlisted=waitlisted)
            row["never_overfilled"] = not overfilled
            row["nothing_lost"] = confirmed + waitlisted == len(who) == made
            print(
                f"    {len(posts)} posts, quota {quota}, confirmed {confirmed}, waitlisted {waitlisted}, "
                f"overfilled posts {overfilled or 'none'}, every request a sign-up: {row['nothing_lost']}"
            )
            report_doc["results"].append(row)

        if args.roster_seconds > 0:
            browser = Client()
            browser.force_login(data["organizer"])  # a real session row, as after logging in
            url = reverse("activities:roster", kwargs={"pk": data["activity"].pk})
            cookie = {"Cookie": browser_cookie(browser, url)}
            wrk(port, args.clients, url=url, seconds=2, headers=cookie)  # warm
            row = wrk(port, args.clients, url=url, seconds=args.roster_seconds, headers=cookie, db_cpu=db_cpu)
            report_doc["results"].append(report(f"roster page ({len(people)} sign-ups)", row))
    finally:
        stop_server(server)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report_doc, ensure_ascii=False, indent=2))
    print(f"results in {args.out}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Run a command against a throw-away PostgreSQL server: `with_postgres.py -- pytest ...`.

Starts PostgreSQL (15 preferred) on a temporary directory and a free port, exports DATABASE_URL,
runs the command, then stops the server and removes the directory. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` system user.

Nothing is left behind, however the run ends:

* SIGTERM / SIGINT / SIGHUP to this script are passed on to the command (its process group when it
  has its own, see below); after `WITH_POSTGRES_GRACE` seconds (default 10) the command's group is
  killed. A signal before the command started (during initdb / start) just cleans up.
* Then, always: processes the command left behind that still carry this run's DATABASE_URL in their
  environment (a gunicorn started in its own session by a benchmark that was killed) are stopped, the
  server is stopped (whenever its postmaster.pid exists, even if `pg_ctl start` was interrupted) and the
  directory removed.
* The exit code is the command's; a command killed by signal N gives 128 + N, as a shell reports it.

When stdin is a terminal the command stays in this process group, so Ctrl-C and terminal job control
reach it directly (a SIGINT is then not repeated to it); otherwise it runs in a process group of its
own, so the whole tree (pytest workers, a benchmark's helpers) gets the signal and the final kill.
Standard library only: it runs before the virtualenv matters.
"""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Interrupted(Exception):
    """A signal arrived before the command was started: clean up and leave."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def find_bindir() -> str | None:
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(candidate, "initdb")) and "/15/" in candidate:
            return candidate
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return os.path.dirname(found[0])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _kill(pid: int, sig: int, group: bool) -> None:
    try:
        if group:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def leftovers(marker: bytes) -> list[int]:
    """Pids of processes (other than this one) whose environment holds `marker` (Linux /proc; [] elsewhere)."""
    found = []
    for entry in glob.glob("/proc/[0-9]*/environ"):
        pid = int(entry.split("/")[2])
        if pid == os.getpid():
            continue
        try:
            with open(entry, "rb") as fh:
                env = fh.read()
        except OSError:  # gone, or not ours to read
            continue
        if marker in env.split(b"\0"):
            found.append(pid)
    return found


def sweep(marker: bytes, grace: float = 3.0) -> int:
    """SIGTERM, then SIGKILL, every leftover process of this run; returns how many there were."""
    pids = leftovers(marker)
    for pid in pids:
        _kill(pid, signal.SIGTERM, group=False)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and leftovers(marker):
        time.sleep(0.05)
    for pid in leftovers(marker):
        _kill(pid, signal.SIGKILL, group=False)
    return len(pids)


class Runner:
    """The command as a child process, and what to do when a signal reaches this script."""

    def __init__(self, grace: float):
        self.grace = grace
        self.child: subprocess.Popen | None = None
        self.own_group = False
        self.signals: list[int] = []
        self.cleaning = False

    def handle(self, signum: int, _frame) -> None:
        self.signals.append(signum)
        if self.cleaning:
            return  # already on the way out: finish the cleanup
        if self.child is None:
            raise Interrupted(signum)
        if self.own_group or signum != signal.SIGINT:
            # on a terminal, Ctrl-C reached the command already (same process group)
            _kill(self.child.pid, signum, group=self.own_group)

    def run(self, argv: list[str], env: dict) -> int:
        try:
            interactive = os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
        except OSError:
            interactive = False
        self.own_group = not interactive
        self.child = subprocess.Popen(argv, env=env, process_group=0 if self.own_group else None)
        while True:
            try:
                return exit_code(self.child.wait(timeout=0.2))
            except subprocess.TimeoutExpired:
                pass
            if self.signals:
                break
        # asked to stop: the command had the signal; give it time to clean up after itself
        try:
            return exit_code(self.child.wait(timeout=self.grace))
        except subprocess.TimeoutExpired:
            print(f"[with_postgres] command still running after {self.grace:g} s: killing it", file=sys.stderr)
            _kill(self.child.pid, signal.SIGKILL, group=self.own_group)
            return exit_code(self.child.wait())


def stop_server(bindir: str, data: str) -> None:
    """Stop the server if one runs on `data` (fast, then immediate), whether or not `pg_ctl start` finished."""
    if not os.path.exists(os.path.join(data, "postmaster.pid")):
        return
    for mode in ("fast", "immediate"):
        done = subprocess.run(
            as_pg_user([f"{bindir}/pg_ctl", "-D", data, "-m", mode, "-t", "20", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if done.returncode == 0:
            return


def main(argv: list[str]) -> int:
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    if not argv:
        print("usage: with_postgres.py -- command ...", file=sys.stderr)
        return 2
    bindir = find_bindir()
    if bindir is None:
        print("PostgreSQL binaries not found (set PG_BINDIR)", file=sys.stderr)
        return 3
    runner = Runner(grace=float(os.environ.get("WITH_POSTGRES_GRACE", "10")))
    previous = {sig: signal.signal(sig, runner.handle) for sig in FORWARDED}
    tmp = tempfile.mkdtemp(prefix="leifeng-pg-")
    data = os.path.join(tmp, "data")
    port = free_port()
    url = f"postgres://postgres@127.0.0.1:{port}/postgres"
    log = os.path.join(tmp, "server.log")
    try:
        if os.geteuid() == 0:
            shutil.chown(tmp, user="postgres", group="postgres")
        subprocess.run(
            as_pg_user(
                [
                    f"{bindir}/initdb",
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        opts = (
            f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=300 -c shared_buffers=256MB "
            + os.environ.get("PG_EXTRA_OPTS", "")
        )
        subprocess.run(
            as_pg_user([f"{bindir}/pg_ctl", "-D", data, "-l", log, "-o", opts, "-w", "start"]),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"[with_postgres] PostgreSQL from {bindir} on port {port} in {tmp}", file=sys.stderr)
        return runner.run(argv, dict(os.environ, DATABASE_URL=url))
    except Interrupted as exc:
        print(f"[with_postgres] {signal.Signals(exc.signum).name} before the command started", file=sys.stderr)
        return 128 + exc.signum
    except subprocess.CalledProcessError as exc:
        print(f"[with_postgres] failed: {exc}", file=sys.stderr)
        if os.path.exists(log):
            with open(log) as fh:
                print(fh.read(), file=sys.stderr)
        return 4
    finally:
        runner.cleaning = True  # a second signal must not cut the cleanup short
        n = sweep(f"DATABASE_URL={url}".encode())  # also a command started just as a signal came in
        if n:
            print(f"[with_postgres] stopped {n} leftover process(es) of the command", file=sys.stderr)
        stop_server(bindir, data)
        shutil.rmtree(tmp, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

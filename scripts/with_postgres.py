#!/usr/bin/env python3
"""Run a command against a throw-away PostgreSQL server: `with_postgres.py -- pytest ...`.

Starts PostgreSQL (15 preferred) on a temporary directory and a free port, exports DATABASE_URL,
runs the command, then stops the server and removes the directory. PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` system user.
Standard library only: it runs before the virtualenv matters.
"""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile


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
    tmp = tempfile.mkdtemp(prefix="leifeng-pg-")
    data = os.path.join(tmp, "data")
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(tmp, user="postgres", group="postgres")
    log = os.path.join(tmp, "server.log")
    started = False
    try:
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
        started = True
        env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/postgres")
        print(f"[with_postgres] PostgreSQL from {bindir} on port {port}", file=sys.stderr)
        return subprocess.run(argv, env=env).returncode
    except subprocess.CalledProcessError as exc:
        print(f"[with_postgres] failed: {exc}", file=sys.stderr)
        if os.path.exists(log):
            with open(log) as fh:
                print(fh.read(), file=sys.stderr)
        return 4
    finally:
        if started:
            subprocess.run(
                as_pg_user([f"{bindir}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"]), stdout=subprocess.DEVNULL
            )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""scripts/with_postgres.py leaves nothing behind when it is told to stop (SIGTERM from a CI runner, a killed bench)."""

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "with_postgres.py"


def _script():
    spec = importlib.util.spec_from_file_location("with_postgres", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pytestmark = pytest.mark.skipif(
    _script().find_bindir() is None and os.environ.get("CI") != "true",
    reason="PostgreSQL binaries not installed (the test runs whenever CI=true)",
)


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            cmdline = entry.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def _wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_sigterm_stops_the_command_the_server_and_removes_the_directory(tmp_path):
    child_pid = tmp_path / "child.pid"
    stray_pid = tmp_path / "stray.pid"
    # the command: a long sleep, plus a stray in a session of its own (what a bench's gunicorn is)
    command = f"setsid sh -c 'echo $$ > {stray_pid}; exec sleep 60' & echo $$ > {child_pid}; exec sleep 60"
    env = dict(os.environ, WITH_POSTGRES_GRACE="2")
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--", "sh", "-c", command],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = proc.stderr.readline()  # "[with_postgres] PostgreSQL from … on port … in <dir>"
        assert " in " in line, line
        tmp = line.rsplit(" in ", 1)[1].strip()
        data = os.path.join(tmp, "data")
        postmaster = int(Path(data, "postmaster.pid").read_text().split()[0])
        assert _wait_until(lambda: child_pid.exists() and stray_pid.exists(), 5)
        pids = [int(child_pid.read_text()), int(stray_pid.read_text())]
        assert _alive(postmaster) and all(_alive(p) for p in pids)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=8) == 128 + signal.SIGTERM  # the command's exit code (killed by SIGTERM)
        stderr = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert not _alive(postmaster)
    assert _processes_mentioning(data) == []  # no server process of that data directory
    assert not any(_alive(p) for p in pids), stderr  # the command and its stray are gone too
    assert not os.path.exists(tmp)

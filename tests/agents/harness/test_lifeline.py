"""Killing a comparison leaves no worker behind (issue 18): SIGTERM unwinds like Ctrl-C (exit 130,
resumable), SIGKILL takes the workers with it (parent-death signal and watchdog)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.harness import lifeline

MAZEBENCH = str(Path(sys.executable).with_name("mazebench"))
# slow chunks (MCTS with a large budget on 32x32), so the kill lands while the workers work
ARGV = [MAZEBENCH, "compare", "--no-progress", "--no-report", "--agents", "mcts:simulations=400",
        "--suites", "size_32", "--n", "40", "--workers", "2"]  # fmt: skip


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux /proc)."""
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        text = (task / "children").read_text() if (task / "children").exists() else ""
        out += [int(p) for p in text.split()]
    return out


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "State:\tZ" not in status


def _start(tmp_path: Path) -> tuple[subprocess.Popen, list[int]]:
    proc = subprocess.Popen(
        [*ARGV, "--out", str(tmp_path / "run")],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        workers = [p for p in children(proc.pid) if alive(p)]
        if len(workers) >= 2:
            time.sleep(1.0)  # let them start on their chunks
            return proc, workers
        if proc.poll() is not None:
            pytest.fail(f"compare ended before its workers started: {proc.stderr.read()}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail("compare did not start 2 workers within 120 s")


def _gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.2)
    return [p for p in pids if alive(p)]


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def test_sigterm_stops_the_workers_and_exits_like_ctrl_c(tmp_path: Path) -> None:
    proc, workers = _start(tmp_path)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=60)
    err = proc.stderr.read()
    assert code == 130, err
    assert "interrupted; rerun the same command to resume" in err and "Traceback" not in err
    assert _gone(workers, 10) == []
    assert (tmp_path / "run" / "config.json").exists()  # the rerun resumes this folder


def test_sigkill_of_the_parent_takes_the_workers_with_it(tmp_path: Path) -> None:
    proc, workers = _start(tmp_path)
    proc.kill()
    proc.wait(timeout=30)
    assert _gone(workers, 10) == []


def test_watchdog_exits_a_child_whose_parent_died() -> None:
    """The fallback without prctl: a grandchild whose parent exits notices within a poll."""
    code = (
        "import os, sys, time\n"
        "from agents.harness import lifeline\n"
        "lifeline._set_parent_death_signal = lambda signum: False\n"  # the watchdog alone
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    lifeline.die_with_parent(os.getppid(), poll_seconds=0.1)\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "print(pid, flush=True)\n"
        "time.sleep(0.5)\n"  # the child has started its watchdog; now its parent exits
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grandchild = int(out.stdout.split()[0])
    assert _gone([grandchild], 10) == []


def test_sigterm_as_interrupt_raises_keyboard_interrupt() -> None:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert lifeline.sigterm_as_interrupt()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs at the next bytecode
    finally:
        signal.signal(signal.SIGTERM, previous)

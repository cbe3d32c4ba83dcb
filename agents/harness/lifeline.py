"""Worker processes that die with their parent, and SIGTERM handled like Ctrl-C.

A process pool's workers wait on a queue whose write end they hold themselves, so a parent killed
by SIGTERM or SIGKILL leaves them waiting forever (re-parented to PID 1). Two guards, both set in
each worker by :func:`die_with_parent`:

- Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``): the kernel kills the worker
  the moment its parent exits, however it exits;
- a daemon thread that polls ``os.getppid()`` once a second and exits the worker when the parent
  has changed (other platforms, and a parent that died before the ``prctl`` call).

The main process turns SIGTERM into ``KeyboardInterrupt`` (:func:`sigterm_as_interrupt`), so
``kill PID`` unwinds as Ctrl-C does: workers are stopped (:func:`stop_workers`), finished chunks
stay on disk, and the same command resumes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

PR_SET_PDEATHSIG = 1
"""``prctl`` option: the signal this process gets when its parent thread exits (linux/prctl.h)."""
POLL_SECONDS = 1.0
"""How often the watchdog thread checks that the parent is alive."""


def _set_parent_death_signal(signum: int) -> bool:
    """Ask the kernel to send ``signum`` when the parent exits; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int, poll_seconds: float) -> None:
    while True:
        time.sleep(poll_seconds)
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent is gone: nothing will read this worker's results


def die_with_parent(parent_pid: int, poll_seconds: float = POLL_SECONDS) -> None:
    """Make this process (a worker) exit when process ``parent_pid`` does.

    Call it first thing in the worker (a pool's initializer). SIGTERM is reset to its default
    action (a forked worker inherits the parent's :func:`sigterm_as_interrupt` handler, which a
    worker busy in compiled code would run only much later).
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the prctl call
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent_pid, poll_seconds), name="die-with-parent", daemon=True
    ).start()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def sigterm_as_interrupt() -> bool:
    """Raise ``KeyboardInterrupt`` in the main thread on SIGTERM, as Ctrl-C does; False (nothing
    installed) when called outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False
    signal.signal(signal.SIGTERM, _raise_interrupt)
    return True


def stop_workers(pool: Any) -> None:
    """Terminate the worker processes of a ``concurrent.futures.ProcessPoolExecutor`` now (the
    chunks they run are abandoned; finished ones are already written)."""
    processes = getattr(pool, "_processes", None) or {}  # 3.14 has pool.terminate_workers()
    for process in list(processes.values()):
        if process.is_alive():
            process.terminate()

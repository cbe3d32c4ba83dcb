"""agents.malloc: glibc's allocator keeps freed memory; the user's environment wins."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = "from agents.malloc import keep_freed_memory as k; print(k(), k())"


def _run(env: dict[str, str]) -> str:
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | env
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=full, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_tunes_glibc_once_and_leaves_a_user_setting_alone() -> None:
    assert _run({}) == "True True"  # applied, and idempotent
    assert _run({"MALLOC_TRIM_THRESHOLD_": "0"}) == "False False"

"""The Makefile / .ci/run pair: a fresh machine without a browser passes `make test` (the browser
tests skip, saying what to install); CI, which sets MAZEBENCH_REQUIRE_BROWSER=1, fails instead."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pytest(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MAZEBENCH_REQUIRE_BROWSER"}
    env.update({"MAZEBENCH_CHROMIUM": "/nonexistent/chromium", **env_extra})
    test = "tests/agents/harness/test_report.py::test_html_renders_in_chromium"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:xdist", "-p", "no:cacheprovider", test],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_without_a_browser_the_tests_skip_and_say_what_to_install() -> None:
    done = _pytest({})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "skipped" in done.stdout and "apt-get install -y chromium chromium-driver" in done.stdout


def test_with_the_ci_variable_a_missing_browser_fails() -> None:
    done = _pytest({"MAZEBENCH_REQUIRE_BROWSER": "1"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "MAZEBENCH_REQUIRE_BROWSER=1 but chromium is not installed" in done.stdout


def test_ci_sets_the_variable_and_runs_the_makefiles_test_target() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^export MAZEBENCH_REQUIRE_BROWSER=1$", ci, re.M)
    assert re.search(r"^make test$", ci, re.M)
    target = re.search(r"^test: setup\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert target and "pytest" in target.group(1) and "-rs" in target.group(1)

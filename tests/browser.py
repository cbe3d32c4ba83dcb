"""Where the browser tests find Chromium, and what they do when it is missing.

A fresh machine with Python and nothing else must pass ``make test``: there a missing browser
skips the browser tests with one line saying what to install. CI must not pass green without
them: ``.ci/run`` sets ``MAZEBENCH_REQUIRE_BROWSER=1``, under which a missing browser fails.
``MAZEBENCH_CHROMIUM`` names the browser binary instead of searching ``PATH`` (tests of this
contract point it at a path that does not exist).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

INSTALL = (
    "apt-get install -y chromium chromium-driver (Debian; .ci/run does) and "
    "pip install -e '.[test]' for selenium"
)
REQUIRE = "MAZEBENCH_REQUIRE_BROWSER"


def find(*names: str) -> str | None:
    """The first of ``names`` on PATH (or an existing path); ``None`` if none."""
    for name in names:
        found = shutil.which(name) or (name if Path(name).is_file() else None)
        if found:
            return found
    return None


def chromium() -> str | None:
    """The Chromium binary (``$MAZEBENCH_CHROMIUM`` if set), or ``None``."""
    override = os.environ.get("MAZEBENCH_CHROMIUM")
    if override is not None:
        return override if Path(override).is_file() else None
    return find("chromium", "chromium-browser", "/usr/bin/chromium")


def chromedriver() -> str | None:
    """The ChromeDriver binary, or ``None`` (also ``None`` when ``$MAZEBENCH_CHROMIUM`` names a
    missing browser, so the contract test sees a machine without either)."""
    override = os.environ.get("MAZEBENCH_CHROMIUM")
    if override is not None and not Path(override).is_file():
        return None
    return find("chromedriver", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")


def missing(what: str) -> None:
    """Skip (default) or fail (``MAZEBENCH_REQUIRE_BROWSER=1``) for a missing browser part."""
    reason = f"browser tests skipped: {what}; to run them: {INSTALL}"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{REQUIRE}=1 but {what}: {INSTALL}")
    pytest.skip(reason)

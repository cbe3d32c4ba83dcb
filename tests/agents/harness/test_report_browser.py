"""The HTML report and the explorer in a real browser: the system Chromium, headless, at 1024 px.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install chromium chromium-driver``;
``.ci/run`` installs them) and selenium (in the test extra). Without them the tests are skipped
with one line saying what to install, unless ``MAZEBENCH_REQUIRE_BROWSER=1`` (set by ``.ci/run``)
makes that a failure: see tests/browser.py.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.harness.explorer import write_explorer
from agents.harness.run_folder import iter_predictions, load_config
from agents.harness.runner import run_comparison
from agents.harness.suites import build_suites, suite_from_dict
from tests import browser as browser_paths

WIDTH = 1024
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    f"--window-size={WIDTH},900",
)
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium, driver_path = browser_paths.chromium(), browser_paths.chromedriver()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        browser_paths.missing("selenium is not installed")
    if chromium is None or driver_path is None:
        browser_paths.missing(f"no system Chromium (chromium={chromium}, chromedriver={driver_path})")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="mazebench-chromium-")
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny comparison with its report: bfs (never fails) and random_fork (often does)."""
    out = tmp_path_factory.mktemp("browser") / "run"
    return run_comparison(
        ["bfs", "random_fork"], ["in_distribution", "size_4"], out, n=10, progress=False
    )


def _explorer_inputs(run: Path) -> tuple[dict, list, dict]:
    config = load_config(run)
    suites = [suite_from_dict(d) for d in config["suites"]]
    data = build_suites(suites, config["n"], config["seed"])
    names = config.get("agent_names", {})
    return {k: v.dataset for k, v in data.items()}, list(iter_predictions(run)), names


def _open(browser: Any, path: Path, shots: Path) -> dict[str, Any]:
    """Load ``path``; screenshot it; the page's width, broken images and console errors."""
    browser.get(path.resolve().as_uri())
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(path.resolve().as_uri())
    shot = shots / f"{path.stem}.png"
    assert browser.save_screenshot(str(shot)), "no screenshot"
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 2000
    facts = browser.execute_script(
        """const d=document.documentElement;
        return {inner: window.innerWidth, scroll: Math.max(d.scrollWidth, document.body.scrollWidth),
          client: d.clientWidth, images: document.images.length,
          wide_tables: [...document.querySelectorAll('div.wide')].filter(e => e.scrollWidth > e.clientWidth + 1).length,
          broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt || i.src.slice(0, 40))};"""
    )
    facts["errors"] = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert facts["inner"] == WIDTH, f"the window is {facts['inner']} px wide, not {WIDTH}"
    return facts


def _check_page(facts: dict[str, Any]) -> None:
    assert not facts["broken"], f"broken images: {facts['broken']}"
    assert facts["scroll"] <= facts["client"], (
        f"horizontal scrollbar at {WIDTH} px: content {facts['scroll']} px wide in {facts['client']} px"
    )
    assert not facts["errors"], f"console errors: {facts['errors']}"
    assert not facts["wide_tables"], f"{facts['wide_tables']} table(s) wider than their box at {WIDTH} px"


def _drive_explorer(browser: Any, section_id: str) -> None:
    """Clicks change what the explorer shows: next, the failure filter, the agent and suite."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    root = browser.find_element(By.ID, section_id)
    q = lambda css: root.find_element(By.CSS_SELECTOR, css)  # noqa: E731
    canvas = lambda: browser.execute_script(  # noqa: E731
        "return arguments[0].querySelector('.mbx-cv-agent').toDataURL()", root
    )
    assert root.get_attribute("data-index") == "0" and root.get_attribute("data-agent") == "bfs"
    assert "task #0" in q(".mbx-info").text and re.match(r"1 / \d+", q(".mbx-pos").text)
    before = canvas()
    assert len(before) > 1000  # something drawn
    q(".mbx-next").click()
    assert root.get_attribute("data-index") == "1" and "task #1" in q(".mbx-info").text
    assert canvas() != before, "the maze drawing did not change on 'next'"
    q(".mbx-prev").click()
    assert root.get_attribute("data-index") == "0"
    Select(q(".mbx-agent")).select_by_value("random_fork")
    assert root.get_attribute("data-agent") == "random_fork"
    q(".mbx-fail").click()
    n = int(q(".mbx-pos").text.split("/")[1])
    for _ in range(n):  # every task shown is a failure
        assert "not exact" in q(".mbx-info").text
        q(".mbx-next").click()
    Select(q(".mbx-suite")).select_by_visible_text("size_4")
    assert root.get_attribute("data-suite") == "size_4"
    assert root.get_attribute("data-agent") == "random_fork"  # kept across suites


def test_report_fits_1024_without_broken_images(
    browser: Any, run_dir: Path, tmp_path: Path
) -> None:
    facts = _open(browser, run_dir / "report.html", tmp_path)
    assert facts["images"] >= 1, "the report has no figure"
    _check_page(facts)


def test_explorer_in_the_report_responds_to_clicks(
    browser: Any, run_dir: Path, tmp_path: Path
) -> None:
    """The report as `mazebench compare` wrote it embeds the explorer, and it responds."""
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    found = re.search(r'<section class=mbx id="([^"]+)"', page)
    assert found, "report.html has no explorer section"
    _check_page(_open(browser, run_dir / "report.html", tmp_path))
    _drive_explorer(browser, found.group(1))


def test_report_command_rebuilds_the_explorer(browser: Any, run_dir: Path, tmp_path: Path) -> None:
    """`mazebench report` (no data in memory) rebuilds the suites and embeds the same explorer."""
    from train.cli import main

    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    page = (copy / "report.html").read_text(encoding="utf-8")
    section = re.search(r"<section class=mbx.*?</section>", page, re.S).group(0)
    original = (run_dir / "report.html").read_text(encoding="utf-8")
    assert section in original
    _check_page(_open(browser, copy / "report.html", tmp_path))
    _drive_explorer(browser, "explorer")


def test_standalone_explorer_page(browser: Any, run_dir: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    tasks, rows, names = _explorer_inputs(run_dir)
    path = write_explorer(
        tmp_path / "explorer.html", tasks, rows, agent_names=names, first=4, failures=2
    )
    _check_page(_open(browser, path, tmp_path))
    _drive_explorer(browser, "explorer")
    root = browser.find_element(By.ID, "explorer")
    assert "embedded" in root.find_element(By.CSS_SELECTOR, ".mbx-note").text
    root.find_element(By.CSS_SELECTOR, ".mbx-fail").click()  # all tasks again
    index = root.get_attribute("data-index")
    step = root.find_element(By.CSS_SELECTOR, ".mbx-step")
    moves = int(step.get_attribute("max"))
    step.send_keys(Keys.ARROW_LEFT)  # the slider replays the path: one move fewer, same task
    assert int(step.get_attribute("value")) == moves - 1
    assert root.get_attribute("data-index") == index
    root.find_element(By.CSS_SELECTOR, ".mbx-next").send_keys(Keys.ARROW_RIGHT)  # arrow keys step
    assert root.get_attribute("data-index") != index
    # a new task shows its whole path
    assert int(step.get_attribute("value")) == int(step.get_attribute("max"))


def test_the_checks_catch_a_wide_page_a_broken_image_and_a_script_error(
    browser: Any, tmp_path: Path
) -> None:
    """The page checks above can fail: a bad page trips each of them."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><div style="width:1300px">wide</div>'
        '<img alt="gone" src="missing.png"><script>undefined_function()</script></body></html>'
    )
    facts = _open(browser, bad, tmp_path)
    assert facts["scroll"] > facts["client"] and facts["broken"] == ["gone"]
    assert any("undefined_function" in e for e in facts["errors"])
    with pytest.raises(AssertionError, match="broken images"):
        _check_page(facts)

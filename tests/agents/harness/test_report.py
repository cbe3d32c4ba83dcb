"""The report: files, a self-contained HTML page, figures, text; and a real browser screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from agents.harness.plots import pct, summary_lines
from agents.harness.report import render_report
from agents.harness.runner import run_comparison
from tests import browser

CHROMIUM = browser.chromium()
SUITES = ["size_4", "size_5", "gen_hallway", "target_held_out"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "run"
    return run_comparison(["bfs", "dfs", "random_walk"], SUITES, out, n=8, progress=False)


def test_report_files_exist(run_dir: Path) -> None:
    for name in ("report.md", "report.html", "results.json"):
        assert (run_dir / name).stat().st_size > 0, name
    figures = {p.stem for p in (run_dir / "figures").glob("*.png")}
    assert figures == {"generalization", "generators", "cost", "difficulty", "gallery"}


def test_html_is_self_contained(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text()
    sources = re.findall(r'\bsrc="([^"]*)"', page)
    assert len(sources) == 5 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"<link\b|<script\b[^>]*\bsrc|url\(|https?://", page), "no external resources"
    assert page.count('<section class=mbx id="explorer"') == 1  # the explorer, inline
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


def test_markdown_has_tables_text_and_figures(run_dir: Path) -> None:
    md = (run_dir / "report.md").read_text()
    assert "## What the numbers say" in md and "95% Wilson" in md and "n = 8 tasks per suite" in md
    assert "| size_4 |" in md and "figures/generalization.png" in md
    assert "**bfs** solved every task exactly on all 4 suites" in md


def test_summary_does_not_overclaim(run_dir: Path) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    text = "\n".join(summary_lines(results))
    assert "On these 4 suites" in text and "does not prove" in text
    assert "random_walk" in text and "falls short of exact" in text


def test_rerender_from_results_alone(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(run_dir / "results.json", copy / "results.json")
    paths = render_report(copy)
    assert paths["html"].exists() and (copy / "figures" / "gallery.png").exists()


def test_markdown_shows_suite_descriptions_as_text_not_markup(
    run_dir: Path, tmp_path: Path
) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    evil = "<script>alert(1)</script> **bold** [link](javascript:x) a|b __u__"
    results["suites"][0]["description"] = evil  # a user suites file's description field
    (tmp_path / "results.json").write_text(json.dumps(results))
    render_report(tmp_path, explorer=False)
    md = (tmp_path / "report.md").read_text()
    name = results["suites"][0]["name"]
    row = next(line for line in md.splitlines() if "alert" in line)  # the suites table's row
    assert row.startswith(f"| {name} |") and "&lt;script&gt;alert(1)&lt;/script&gt;" in row
    assert "<script>" not in md, [line for line in md.splitlines() if "<script>" in line]
    assert r"\*\*bold\*\*" in row and r"\[link\](javascript:x)" in row
    assert r"a\|b" in row and r"\_\_u\_\_" in row and row.count(" | ") == 4  # still 5 cells
    page = (tmp_path / "report.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "| size_4 |" in md  # names and numbers unchanged


def test_render_report_without_results_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `mazebench compare`"):
        render_report(tmp_path)


def test_figures_skip_what_the_run_lacks(run_dir: Path, tmp_path: Path) -> None:
    results = json.loads((run_dir / "results.json").read_text())
    results["suites"] = [s for s in results["suites"] if s["name"] == "target_held_out"]
    results["gallery"] = []
    (tmp_path / "results.json").write_text(json.dumps(results))
    paths = render_report(tmp_path)
    assert "generalization" not in paths and "gallery" not in paths and "difficulty" in paths


def test_pct_formats_rates() -> None:
    assert pct({"mean": 0.5, "low": 0.25, "high": 0.75}) == "50.0% [25.0, 75.0]"
    assert (
        pct({"mean": None}) == "n/a"
        and pct({"mean": 1.0, "low": 0.9, "high": 1.0}, False) == "100.0%"
    )


def test_html_renders_in_chromium(run_dir: Path, tmp_path: Path) -> None:
    if CHROMIUM is None:
        browser.missing("chromium is not installed")
    shot = tmp_path / "shot.png"
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2400",
        (run_dir / "report.html").resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, timeout=120, capture_output=True)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    not_white = (pixels < 0.95).any(axis=-1)
    assert not_white.mean() > 0.03, "the page rendered (nearly) blank"
    assert np.unique((pixels.reshape(-1, 3) * 255).astype(np.uint8), axis=0).shape[0] > 50, (
        "text, tables and figures"
    )
    # the figures are drawn: a row of the page with many colours lies below the tables
    assert not_white[1600:].mean() > 0.01


def test_long_names_get_short_unique_labels_and_an_agents_table(
    run_dir: Path, tmp_path: Path
) -> None:
    from agents.harness.plots import agent_labels, agents_table, rate_table

    results = json.loads((run_dir / "results.json").read_text())
    long_a = {
        "spec": "mcts:simulations=10,max_steps=300",
        "name": "mcts(simulations=10, max_steps=300)",
    }
    long_b = {"spec": "mcts:simulations=30", "name": "mcts(simulations=30, c_uct=2.0)"}
    plain = {"spec": "mcts", "name": "mcts"}
    results["agents"] = [*results["agents"], long_a, long_b, plain]
    for a in (long_a, long_b, plain):
        results["results"][a["spec"]] = results["results"]["dfs"]
    labels = agent_labels(results)
    assert labels[long_a["spec"]] == "mcts#1" and labels[long_b["spec"]] == "mcts#2"
    assert labels["mcts"] == "mcts" and labels["bfs"] == "bfs"
    assert len(set(labels.values())) == len(labels)
    header, _ = rate_table(results, "exact")
    assert "mcts#1" in header and all(len(h) <= 24 for h in header)
    rows = agents_table(results)[1]
    assert ["mcts#1", long_a["name"], long_a["spec"], "search (no training)"] in rows


def test_rate_tables_show_the_baselines_matching_rate(run_dir: Path) -> None:
    from agents.harness.plots import rate_table, suites_table

    results = json.loads((run_dir / "results.json").read_text())
    base = results["results"]["random_fork"]
    for key in ("exact", "reached"):
        header, body = rate_table(results, key)
        assert header[:2] == ["suite", "random_fork (baseline)"] and "difficulty" not in header
        assert [r[1] for r in body] == [pct(base[s["name"]][key]) for s in results["suites"]]
    header, body = suites_table(results)
    assert header[-1] == "difficulty (random_fork reached)"
    assert [r[-1] for r in body] == [pct(base[s["name"]]["reached"]) for s in results["suites"]]


def test_training_is_mentioned_only_with_a_trained_agent(run_dir: Path, tmp_path: Path) -> None:
    md = (run_dir / "report.md").read_text().lower()
    assert (
        "training size" not in md and "trained at" not in md and "training distribution" not in md
    )
    results = json.loads((run_dir / "results.json").read_text())
    results["agents"][1]["training_set"] = "default"  # as a learned agent's entry says
    (tmp_path / "results.json").write_text(json.dumps(results))
    render_report(tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "the maze side a learned agent was trained at" in md and "| default |" in md


def test_gallery_caption_explains_markers_and_shading(run_dir: Path) -> None:
    md = (run_dir / "report.md").read_text()
    assert "sky-blue square is the origin" in md and "green square the target" in md
    assert "shaded purple" in md


def test_html_rate_cells_put_the_interval_on_a_second_line(run_dir: Path) -> None:
    page = (run_dir / "report.html").read_text()
    assert re.search(r"<b>100\.0%</b><br><small>\[\d", page)


def test_gallery_prefers_mazes_small_enough_to_read(tmp_path: Path) -> None:
    from agents.harness.suites import Suite

    suites = [Suite("big", "dfs", (20, 20)), Suite("small", "dfs", (4, 4))]
    out = run_comparison(["random_walk:max_steps=30"], suites, tmp_path / "run", n=6,
                         progress=False, report=False)  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    rates = {
        s: results["results"]["random_walk:max_steps=30"][s]["exact"]["mean"]
        for s in ("big", "small")
    }
    assert rates["big"] < rates["small"] < 1.0, rates  # big is worse, yet small comes first
    assert [g["suite"] for g in results["gallery"]][:1] == ["small"]


def test_failure_kinds_table_and_gallery_cover_each_kind(tmp_path: Path) -> None:
    """A learned agent's failures are counted by their first error in a table, and the gallery
    shows one of each kind before repeating one."""
    from agents.harness.plots import failure_table
    from agents.harness.suites import Suite

    out = run_comparison(["random_walk:max_steps=12"], [Suite("s", "dfs", (4, 4))], tmp_path / "r",
                         n=30, progress=False, report=False)  # fmt: skip
    results = json.loads((out / "results.json").read_text())
    spec = "random_walk:max_steps=12"
    kinds = results["results"][spec]["s"]["failure_kinds"]
    failed = 30 - results["results"][spec]["s"]["exact"]["k"]
    assert sum(kinds.values()) == failed and len(kinds) >= 2, kinds
    assert failure_table(results) is None  # a search agent: no learned agent to describe
    results["agents"][0]["training_set"] = "default"
    header, body = failure_table(results)
    assert header[:2] == ["agent", "failed tasks"] and body[0][1] == str(failed)
    shown = [g["failure_kind"] for g in results["gallery"]]
    assert len(set(shown[: len(kinds)])) == min(len(kinds), len(shown))  # distinct kinds first
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "results.json").write_text(json.dumps(results))
    render_report(tmp_path / "x", explorer=False)
    assert "How the learned agents fail" in (tmp_path / "x" / "report.md").read_text()


def test_learned_agents_get_compact_labels() -> None:
    from agents.harness.figures import agent_labels, compact_name

    assert compact_name("deepthinking:deepthinking_graph") == "deepthinking:graph"
    assert compact_name("ppo:ppo_vin_mix8,vin_reward=peak") == "ppo:vin_mix8,peak"
    assert compact_name("transformer:ckpt=checkpoints/transformer_grid6,decode=beam,k=4") == (
        "transformer:grid6,beam,k=4"
    )
    assert compact_name("mcts(simulations=10)") == "mcts(simulations=10)"
    names = ["deepthinking:deepthinking_w16", "deepthinking:deepthinking_graph",
             "ppo:ppo_vin_mix8", "ppo:ppo_vin_mix8,vin_reward=peak"]  # fmt: skip
    labels = agent_labels({"agents": [{"spec": n, "name": n} for n in names]})
    assert list(labels.values()) == ["deepthinking:w16", "deepthinking:graph", "ppo:ppo_vin_mix8",
                                     "ppo:vin_mix8,peak"]  # fmt: skip
    guided = "mcts(simulations=10, prior='checkpoints/transformer_grid6', root='gumbel')"
    labels = agent_labels({"agents": [{"spec": "m", "name": guided}]})
    assert labels == {"m": "mcts+transformer_grid6"}


def test_wide_tables_are_split_to_fit_the_window() -> None:
    from agents.harness.report import split_wide

    header = ["suite", *[f"agent{i}" for i in range(16)]]
    body = [["s1", *[str(i) for i in range(16)]], ["s2", *[str(-i) for i in range(16)]]]
    parts = split_wide("Exact", (header, body), per=7)
    assert [t for t, _ in parts] == ["Exact (1/3)", "Exact (2/3)", "Exact (3/3)"]
    assert [len(h) for _, (h, _) in parts] == [8, 8, 3]
    assert all(h[0] == "suite" and b[1][0] == "s2" for _, (h, b) in parts)
    assert [c for _, (h, _) in parts for c in h[1:]] == header[1:]  # every column once, in order
    assert split_wide("Cost", (header[:4], [r[:4] for r in body])) == [("Cost", (header[:4], [r[:4] for r in body]))]

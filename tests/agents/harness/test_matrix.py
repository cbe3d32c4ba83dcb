"""The verdict matrix (agents x families) and the README's generated findings block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.harness.matrix import (
    BEGIN,
    END,
    html_table,
    markdown,
    matrix,
    readme_block,
    readme_block_of,
    update_readme,
)


def _fam(verdict: str, suite: str, diff: float, n_to_decide: int | None = None) -> dict:
    return {"verdict": verdict, "worst_suite": suite, "diff": diff, "low": diff - 0.05,
            "high": diff + 0.05, "n": 100, "n_to_decide": n_to_decide}  # fmt: skip


VERDICTS = {
    "delta": 0.05,
    "agents": {
        "bfs": {"spec": "bfs", "kind": "search", "overall": "search-like",
                "in_distribution": {"suite": "in_distribution", "mean": 1.0, "low": 0.96,
                                    "high": 1.0, "n": 100},
                "families": {"sizes": _fam("holds", "size_64", 0.0),
                             "loops": _fam("holds", "loops_percolation", 0.0)}},
        "net <b>": {"spec": "deepthinking:ckpt=x", "kind": "learned", "overall": "heuristics",
                    "in_distribution": {"suite": "in_distribution", "mean": 0.99, "low": 0.95,
                                        "high": 1.0, "n": 100},
                    "families": {"loops": _fam("falls", "loops_percolation", -0.6),
                                 "sizes": _fam("unclear", "size_32", -0.04, 400)}},
    },
}  # fmt: skip


def test_the_matrix_has_a_row_per_agent_learned_first_and_a_column_per_family() -> None:
    header, rows = matrix(VERDICTS)
    assert header == ["agent", "overall", "in distribution", "sizes", "loops"]
    assert [r[0] for r in rows] == ["net <b>", "bfs (search)"]
    net = rows[0]
    assert net[1] == "heuristics" and net[2] == "99% (n=100)"
    assert net[3] == "unclear: size_32 -4 pts (n=400 decides)"
    assert net[4] == "falls: loops_percolation -60 pts"
    assert rows[1][3:] == ["holds", "holds"]


def test_html_colours_each_verdict_and_escapes_labels() -> None:
    table = html_table(VERDICTS)
    assert "net &lt;b&gt;" in table and "<b>heuristics</b>" in table and "net <b>" not in table
    assert table.count("#f8d7da") == 2  # falls cell + heuristics overall
    assert table.count("#d4edda") == 3  # two holds + search-like


def test_markdown_escapes_table_markup() -> None:
    md = markdown(VERDICTS)
    assert "loops\\_percolation" in md and md.splitlines()[1] == "|---|---|---|---|---|"


def test_update_readme_rewrites_only_the_block(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "verdicts.json").write_text(json.dumps(VERDICTS))
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{BEGIN}\nold text\n{END}\nafter\n")
    assert update_readme(readme, run / "verdicts.json") is True
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n") and text.endswith("\nafter\n")
    assert readme_block_of(readme) == readme_block(VERDICTS) and "old text" not in text
    assert update_readme(readme, run / "verdicts.json") is False  # idempotent


def test_a_readme_without_a_block_or_a_bad_verdicts_file_is_refused(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("no block here\n")
    good = tmp_path / "v.json"
    good.write_text(json.dumps(VERDICTS))
    with pytest.raises(ValueError, match="no verdicts block"):
        update_readme(readme, good)
    readme.write_text(f"{BEGIN}\n{END}\n")
    bad = tmp_path / "bad.json"
    bad.write_text('{"agents": 3}')
    with pytest.raises(ValueError, match="not a verdicts.json"):
        update_readme(readme, bad)
    assert readme.read_text() == f"{BEGIN}\n{END}\n"  # nothing lost


ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "docs" / "default_run" / "verdicts.json"


def test_the_readme_block_is_the_shipped_default_runs_verdicts() -> None:
    """Fails when README.md and docs/default_run/verdicts.json drift apart: regenerate with
    `mazebench report runs/default --update-readme README.md` after copying the run's
    verdicts.json to docs/default_run/."""
    from agents.harness.matrix import load

    assert readme_block_of(ROOT / "README.md") == readme_block(load(SHIPPED))


def test_the_shipped_default_run_calibrates() -> None:
    """By the same rules, BFS and A* fall nowhere and random_fork falls on sizes."""
    from agents.harness.matrix import load

    agents = load(SHIPPED)["agents"]
    for name in ("bfs", "astar"):
        assert all(f["verdict"] != "falls" for f in agents[name]["families"].values())
    assert agents["random_fork"]["families"]["sizes"]["verdict"] == "falls"

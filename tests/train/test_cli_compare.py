"""``mazebench compare`` and ``mazebench report`` through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from train.cli import main


def _compare(out: Path, *extra: str) -> int:
    return main(
        [
            "compare",
            "--agents",
            "bfs",
            "random_walk",
            "--suites",
            "size_4",
            "--n",
            "6",
            "--out",
            str(out),
            "--no-progress",
            *extra,
        ]
    )


def test_compare_writes_a_run_folder_and_report_rerenders(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    assert _compare(out) == 0
    assert "report:" in capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    assert [a["spec"] for a in results["agents"]] == ["bfs", "random_walk"]
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").exists()
    assert main(["report", "--recompute", str(out)]) == 0
    again = json.loads((out / "results.json").read_text())
    assert again["run"] == results["run"] and again["run"]["tasks_run"] == 18  # 3 agents x 6


def test_shards_and_merge(tmp_path: Path) -> None:
    parts = [tmp_path / "p0", tmp_path / "p1"]
    for i, p in enumerate(parts):
        assert _compare(p, "--shard", f"{i}/2") == 0
        assert not (p / "results.json").exists()
    assert (
        main(
            ["compare", "--merge", *map(str, parts), "--out", str(tmp_path / "all"), "--no-report"]
        )
        == 0
    )
    results = json.loads((tmp_path / "all" / "results.json").read_text())
    assert results["results"]["bfs"]["size_4"]["exact"]["n"] == 6


def test_quick_runs_with_defaults(tmp_path: Path) -> None:
    assert (
        main(
            [
                "compare",
                "--quick",
                "--n",
                "3",
                "--out",
                str(tmp_path / "q"),
                "--no-progress",
                "--no-report",
            ]
        )
        == 0
    )
    config = json.loads((tmp_path / "q" / "config.json").read_text())
    assert config["quick"] and len(config["suites"]) >= 3 and config["n"]["size_4"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agents", "nope"], "unknown agent 'nope'; known: "),
        (["--suites", "nope"], "unknown suite or group 'nope'; suites: "),
        (["--shard", "3/2"], "0 <= i < k"),
        (["--merge", "missing_dir"], "--merge needs --out"),
    ],
)
def test_errors_are_clean_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture, args: list[str], message: str
) -> None:
    argv = ["compare", "--n", "2", "--no-progress", *args]
    if "--merge" not in args:
        argv += ["--out", str(tmp_path / "x")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("mazebench compare: error:") and message in err


def test_report_on_a_non_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "results.json not found" in capsys.readouterr().err


def test_help_lists_agents_suites_and_every_agents_parameters(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import inspect

    from agents.registry import AGENTS
    from agents.search.mcts import MCTSAgent

    saved = (dict(AGENTS._entry_points), dict(AGENTS._loaded))
    AGENTS.register("broken_probe", "agents.no_such_module:Agent")
    try:
        with pytest.raises(SystemExit):
            main(["compare", "--help"])
    finally:
        AGENTS._entry_points, AGENTS._loaded = saved
    text = capsys.readouterr().out
    assert (
        "random_fork" in text
        and "in_distribution" in text
        and "--shard" in text
        and "--merge" in text
    )
    flat = " ".join(text.split())
    for p in inspect.signature(MCTSAgent).parameters.values():  # read from the class, not a list
        assert f"{p.name}=" in flat, p.name
    assert "random_walk" in flat and "seed=0, max_steps=null" in flat
    assert "broken_probe agents.no_such_module:Agent (not importable: No module named" in flat


def test_the_help_epilog_is_built_only_when_help_is_shown() -> None:
    import argparse

    from train import cmd_compare

    parser = cmd_compare.add_parser(argparse.ArgumentParser().add_subparsers())
    assert parser.epilog is None, "other commands must not import every agent's module"
    assert "parameters: seed=0" in parser.format_help() and parser.epilog


def test_compare_folder_has_compact_predictions(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert _compare(out) == 0
    assert (out / "predictions.jsonl.gz").is_file() and not (out / "predictions.jsonl").exists()

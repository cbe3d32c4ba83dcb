"""The runner: output files, worker-count independence, shards + merge, resume."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from agents.harness import runner
from agents.harness.run_folder import (
    PREDICTIONS,
    PredictionWriter,
    complete_length,
    read_predictions,
)
from agents.harness.runner import BASELINE, merge, plan_chunks, run_comparison
from agents.harness.suites import Suite

AGENTS = ["bfs", "random_walk"]
SUITES = [
    Suite("tiny_a", "dfs", (4, 4)),
    Suite("tiny_b", "dfs", (5, 5), metadata={"training_target_region": "region:br:2"}),
]
N = 10
ROWS = (len(AGENTS) + 1) * len(SUITES) * N  # + the random_fork baseline


def _run(out: Path, **kw: Any) -> Path:
    kw.setdefault("report", False)
    return run_comparison(AGENTS, SUITES, out, n=N, progress=False, chunk_size=4, **kw)


def _strip(obj: Any) -> Any:
    """Drop wall-clock fields (the only ones allowed to differ between runs)."""
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if "seconds" not in k and k != "run"}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _rows(out: Path) -> list[dict]:
    with gzip.open(out / PREDICTIONS, "rt") as f:  # every row on disk, duplicates included
        keys = [(r["agent"], r["suite"], r["index"]) for r in map(json.loads, f)]
    assert len(keys) == len(set(keys)), "duplicate rows"
    rows = read_predictions(out)
    keys = [(r["agent"], r["suite"], r["index"]) for r in rows]
    assert len(keys) == len(set(keys)), "duplicate rows"
    return sorted((_strip(r) for r in rows), key=lambda r: (r["agent"], r["suite"], r["index"]))


def _results(out: Path) -> dict:
    return _strip(json.loads((out / "results.json").read_text()))


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("ref") / "run", report=True)


def test_writes_predictions_results_config_report(reference: Path) -> None:
    for name in (PREDICTIONS, "results.json", "config.json", "report.md", "report.html"):
        assert (reference / name).is_file(), name
    rows = _rows(reference)
    assert len(rows) == ROWS
    row = rows[0]
    assert set(row) >= {"agent", "suite", "index", "origin", "target", "trajectory", "metrics"}
    assert row["trajectory"]["cells"][0] == row["origin"]
    config = json.loads((reference / "config.json").read_text())
    assert (
        config["agents"] == AGENTS
        and config["seed"] == 0
        and config["n"] == {"tiny_a": N, "tiny_b": N}
    )
    assert [s["name"] for s in config["suites"]] == ["tiny_a", "tiny_b"] and "numpy" in config[
        "versions"
    ]
    results = json.loads((reference / "results.json").read_text())
    assert [a["spec"] for a in results["agents"]] == AGENTS
    bfs = results["results"]["bfs"]["tiny_a"]
    assert bfs["exact"]["mean"] == 1.0 and bfs["exact"]["n"] == N and bfs["exact"]["low"] < 1.0
    assert results["results"]["random_walk"]["tiny_b"]["went_to_region"]["n"] == N
    for s in results["suites"]:
        assert s["difficulty"] == results["results"][BASELINE][s["name"]]["reached"]
    assert not (reference / ".results.json.tmp").exists()


def test_results_do_not_depend_on_workers(reference: Path, tmp_path: Path) -> None:
    out = _run(tmp_path / "w2", workers=2)
    assert _rows(out) == _rows(reference)
    assert _results(out) == _results(reference)


def test_shards_merge_to_the_unsharded_run(reference: Path, tmp_path: Path) -> None:
    parts = [_run(tmp_path / f"part{i}", shard=f"{i}/2") for i in range(2)]
    for p in parts:
        assert not (p / "results.json").exists(), "a shard writes no results"
    assert {len(_rows(p)) for p in parts} == {ROWS // 2}
    out = merge(parts, tmp_path / "merged", report=False)
    assert _rows(out) == _rows(reference)
    assert _results(out) == _results(reference)


def test_merge_refuses_incomplete_or_mismatched(tmp_path: Path) -> None:
    part = _run(tmp_path / "p0", shard=(0, 2))
    with pytest.raises(ValueError, match="predictions are missing"):
        merge([part], tmp_path / "m", report=False)
    other = run_comparison(
        ["bfs"], SUITES, tmp_path / "p1", n=N, shard=(1, 2), progress=False, report=False
    )
    with pytest.raises(ValueError, match="settings differ.*agents"):
        merge([part, other], tmp_path / "m2", report=False)


def test_resume_after_a_torn_write(reference: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_text((reference / "config.json").read_text())
    rows = read_predictions(reference)
    with PredictionWriter(out) as writer:  # three complete chunks (gzip members) ...
        for part in (rows[:4], rows[4:8], rows[8:11]):
            writer.write(part)
    whole = (out / PREDICTIONS).stat().st_size
    with PredictionWriter(out) as writer:
        writer.write(rows[11:15])
    data = (out / PREDICTIONS).read_bytes()
    (out / PREDICTIONS).write_bytes(data[:-7])  # ... and a fourth cut short: killed mid-write
    assert complete_length(out / PREDICTIONS) == whole
    assert [r["index"] for r in read_predictions(out)] == [r["index"] for r in rows[:11]]
    calls: list[int] = []
    original = runner._run_chunk

    def counting(chunk: runner.Chunk) -> list[dict]:
        calls.append(len(chunk.indices))
        return original(chunk)

    runner_patch = pytest.MonkeyPatch()
    runner_patch.setattr(runner, "_run_chunk", counting)
    try:
        _run(out)
    finally:
        runner_patch.undo()
    assert sum(calls) == ROWS - 11, "finished rows are not recomputed"
    assert _rows(out) == _rows(reference)
    assert _results(out) == _results(reference)


def test_resume_after_interruption(
    reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    original, calls = runner._run_chunk, []

    def dying(chunk: runner.Chunk) -> list[dict]:
        if len(calls) == 3:
            raise KeyboardInterrupt
        calls.append(chunk)
        return original(chunk)

    monkeypatch.setattr(runner, "_run_chunk", dying)
    with pytest.raises(KeyboardInterrupt):
        _run(out)
    assert len(read_predictions(out)) == sum(len(c.indices) for c in calls) > 0
    monkeypatch.setattr(runner, "_run_chunk", original)
    _run(out)
    assert _rows(out) == _rows(reference)
    assert _results(out) == _results(reference)


def test_resume_refuses_other_settings(reference: Path, tmp_path: Path) -> None:
    out = _run(tmp_path / "run", shard="0/2")
    with pytest.raises(ValueError, match="other settings.*seed"):
        _run(out, shard="0/2", seed=1)


def test_plan_chunks_shards_partition_the_work() -> None:
    ns = {"tiny_a": 7, "tiny_b": 5}
    full = {(c.agent, c.suite, i) for c in plan_chunks(AGENTS, SUITES, ns) for i in c.indices}
    parts = [
        {(c.agent, c.suite, i) for c in plan_chunks(AGENTS, SUITES, ns, (k, 3)) for i in c.indices}
        for k in range(3)
    ]
    assert set().union(*parts) == full and sum(map(len, parts)) == len(full) == 2 * 12
    assert plan_chunks(AGENTS, SUITES, ns, done=full) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"agents": ["nope"]}, "unknown agent 'nope'; known: .*astar"),
        ({"suites": ["nope"]}, "unknown suite or group 'nope'; suites: .*in_distribution"),
        ({"shard": "2/2"}, "0 <= i < k"),
        ({"shard": "x"}, "i/k"),
        ({"workers": 0}, "workers must be >= 1"),
    ],
)
def test_errors_name_what_is_allowed(tmp_path: Path, kwargs: dict, match: str) -> None:
    args = {
        "agents": AGENTS,
        "suites": SUITES,
        "out_dir": tmp_path / "x",
        "n": 2,
        "progress": False,
    }
    with pytest.raises(ValueError, match=match):
        run_comparison(**{**args, **kwargs})


def test_results_from_compact_rows_equal_results_from_decoded_rows(reference: Path) -> None:
    from agents.harness.report import compute_results
    from agents.harness.run_folder import iter_predictions, load_config
    from agents.harness.suites import build_suites

    config = load_config(reference)
    data = build_suites(SUITES, config["n"], config["seed"])
    datasets = {k: v.dataset for k, v in data.items()}
    raw = compute_results(config, iter_predictions(reference, decode=False), datasets)
    decoded = compute_results(config, iter_predictions(reference), datasets)
    assert raw == decoded and raw["gallery"], "the gallery decodes its trajectories on demand"

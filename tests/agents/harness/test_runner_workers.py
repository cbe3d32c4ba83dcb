"""The runner with agents that hold a model: built once per worker, spawn when asked, torch
threads split between workers; and the chunk function other backends call."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.harness import runner
from agents.harness.run_folder import read_predictions
from agents.harness.runner import Chunk, run_comparison, solve_chunk, threads_per_worker
from agents.harness.suites import Suite, build_suites
from agents.registry import AGENTS, register_agent

SUITES = [Suite("tiny_a", "dfs", (4, 4)), Suite("tiny_b", "dfs", (5, 5))]


@pytest.fixture
def probes():
    saved = (dict(AGENTS._entry_points), dict(AGENTS._loaded))
    register_agent("probe", "tests.agents.harness.probe_agents:ProbeAgent")
    register_agent("spawn_probe", "tests.agents.harness.probe_agents:SpawnProbeAgent")
    yield
    AGENTS._entry_points, AGENTS._loaded = saved


def _extras(out: Path, agent: str) -> list[dict]:
    return [r["trajectory"]["extra"] for r in read_predictions(out) if r["agent"] == agent]


def test_inline_run_builds_each_agent_once(probes, tmp_path: Path) -> None:
    out = run_comparison(["probe"], SUITES, tmp_path / "run", n=12, chunk_size=3,
                         progress=False, report=False)  # fmt: skip
    extras = _extras(out, "probe")
    assert len(extras) == 24 and {e["builds"] for e in extras} == {1}, "built once, not per chunk"


def test_spawned_workers_build_each_agent_once(probes, tmp_path: Path) -> None:
    out = run_comparison(["spawn_probe", "probe"], SUITES, tmp_path / "run", n=12, workers=2,
                         chunk_size=3, progress=False, report=False)  # fmt: skip
    spawned, plain = _extras(out, "spawn_probe"), _extras(out, "probe")
    assert len(spawned) == len(plain) == 24
    assert not any(e["pytest_loaded"] for e in spawned + plain), "workers were forked, not spawned"
    builds: dict[int, set] = {}
    for e in spawned + plain:  # the probes share a per-process build counter
        builds.setdefault(e["pid"], set()).add(e["builds"])
    assert all(b <= {1, 2} for b in builds.values()), f"built per chunk, not per worker: {builds}"


@pytest.mark.slow
def test_spawned_workers_split_torch_threads(probes, tmp_path: Path) -> None:
    out = run_comparison(["spawn_probe:use_torch=true"], SUITES, tmp_path / "run", n=12,
                         workers=2, chunk_size=3, progress=False, report=False)  # fmt: skip
    extras = _extras(out, "spawn_probe:use_torch=true")
    assert len(extras) == 24 and not any(e["pytest_loaded"] for e in extras)
    assert {e["torch_threads"] for e in extras} == {threads_per_worker(2)}


def test_a_worker_limits_torch_threads_once_torch_is_loaded() -> None:
    import torch

    before = torch.get_num_threads()
    try:
        runner._limit_torch_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_forked_workers_when_no_agent_asks_for_spawn(probes, tmp_path: Path) -> None:
    out = run_comparison(["probe"], SUITES, tmp_path / "run", n=8, workers=2, chunk_size=2,
                         progress=False, report=False)  # fmt: skip
    extras = _extras(out, "probe")
    assert all(e["pytest_loaded"] for e in extras) and {e["builds"] for e in extras} == {1}


def test_threads_per_worker_never_oversubscribes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "cores", lambda: 16)
    assert [threads_per_worker(w) for w in (1, 2, 3, 16, 40)] == [16, 8, 5, 1, 1]


def test_solve_chunk_is_a_pure_unit_of_work() -> None:
    data = build_suites(SUITES, {"tiny_a": 6, "tiny_b": 6}, seed=0)
    agent = runner.build_agent("random_fork", seed=0)
    chunk = Chunk("random_fork", "tiny_b", (4, 1, 5))
    rows = solve_chunk(agent, chunk, data["tiny_b"])
    again = solve_chunk(runner.build_agent("random_fork", seed=0), chunk, data["tiny_b"])
    assert [r["index"] for r in rows] == [4, 1, 5]
    strip = lambda rs: [(r["trajectory"]["cells"], r["metrics"]["exact"]) for r in rs]  # noqa: E731
    assert strip(rows) == strip(again)
    assert rows[0]["origin"] == list(data["tiny_b"].dataset[4].origin)

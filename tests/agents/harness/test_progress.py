"""Time left from cost (:class:`agents.harness.progress.CostEstimator`), not from task count.

A 64x64 task costs ~1000x a 5x5 one and the runner runs the large suites first, so the
count-based estimate said hours where minutes were left; the cost estimate stays within 2x.
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path
from typing import Any

import pytest

from agents.harness import progress as progress_mod
from agents.harness.progress import (
    ONE_SIZE_EXPONENT,
    CostEstimator,
    LogProgress,
    Unit,
    count_left,
)
from agents.harness.runner import run_comparison
from agents.harness.suites import Suite

AGENT_FACTORS = {"a": 1.0, "b": 4.0, "c": 2.0}
SIZES = (64, 48, 32, 24, 16, 11, 8, 5)  # large first, as runner.plan_chunks orders them
TASKS, CHUNK = 1000, 50  # 20 chunks per (agent, suite), as in a default run


def workload(seed: int) -> list[tuple[Unit, float]]:
    """``(unit, true seconds)`` in run order: cost per task ~ cells**1.5 x agent factor, noisy."""
    rng = random.Random(seed)
    out = []
    for size in SIZES:
        for agent, factor in AGENT_FACTORS.items():
            for _ in range(TASKS // CHUNK):
                unit = Unit((agent, f"s{size}"), CHUNK, size * size)
                cost = 1e-6 * CHUNK * (size * size) ** 1.5 * factor * rng.lognormvariate(0, 0.3)
                out.append((unit, cost))
    return out


def checkpoints(work: list[tuple[Unit, float]]) -> list[tuple[int, float]]:
    """``(units done, true seconds left)`` the first time 10%, 20%, ... 90% of the cost is done."""
    total, spent, out, goals = sum(c for _, c in work), 0.0, [], [k / 10 for k in range(1, 10)]
    for i, (_, cost) in enumerate(work, 1):
        spent += cost
        while goals and spent >= goals[0] * total:
            goals.pop(0)
            out.append((i, total - spent))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cost_estimate_is_within_2x_after_each_tenth_of_the_work(seed: int) -> None:
    work = workload(seed)
    marks = dict(checkpoints(work))
    est = CostEstimator(u for u, _ in work)
    assert math.isnan(est.seconds_left())
    ratios = []
    for i, (unit, cost) in enumerate(work, 1):
        est.done(unit, cost)
        if i in marks:
            ratios.append(est.seconds_left() / marks[i])
    assert len(ratios) == 9
    assert all(0.5 <= r <= 2.0 for r in ratios), ratios
    assert est.seconds_left() == 0.0


def test_the_count_based_estimate_fails_the_same_check() -> None:
    """The old estimate on the same workload: hours too many early on (the test can fail)."""
    work = workload(0)
    marks = dict(checkpoints(work))
    total_tasks, spent, n, ratios = sum(u.tasks for u, _ in work), 0.0, 0, []
    for i, (unit, cost) in enumerate(work, 1):
        spent, n = spent + cost, n + unit.tasks
        if i in marks:
            ratios.append(count_left(n, total_tasks, spent) / marks[i])
    assert len(ratios) == 9 and all(r > 2.0 for r in ratios), ratios
    assert ratios[-1] > 10.0  # after 90% of the cost: more than tenfold the time truly left


def test_predictions_per_key_power_law_and_unknown_agents() -> None:
    small, big = Unit(("a", "s4"), 10, 16), Unit(("a", "s8"), 10, 64)
    other = Unit(("b", "s8"), 10, 64)
    est = CostEstimator([small, small, big, other])
    est.done(small, 2.0)
    assert est.predict(small) == pytest.approx(2.0)  # same key: its cost per task-cell
    one_size = 2.0 * 4**ONE_SIZE_EXPONENT  # one size only: the default exponent
    assert est.predict(big) == pytest.approx(one_size)
    assert est.predict(other) == pytest.approx(one_size)  # no data for b: the other agents'
    assert est.seconds_left() == pytest.approx(2.0 + 2 * one_size)
    est.done(big, 64.0)  # 4x the cells, 32x the cost: exponent 2.5
    assert est.predict(Unit(("a", "s16"), 10, 256)) == pytest.approx(64.0 * 4**2.5)
    steep = CostEstimator([])
    steep.done(Unit(("a", "x"), 1, 4), 1.0)
    steep.done(Unit(("a", "y"), 1, 8), 100.0)  # exponent ~6.6: clamped to 3
    assert steep.predict(Unit(("a", "z"), 1, 16)) == pytest.approx(
        math.exp(math.log(10.0) + 3 * math.log(16) - 3 * math.log(32) / 2)
    )


def test_workers_divide_the_time_left_but_not_below_the_largest_unit() -> None:
    units = [Unit(("a", "s"), 10, 16)] * 5 + [Unit(("a", "big"), 10, 1600)]
    est = CostEstimator(units, workers=4)
    est.done(units[0], 4.0)
    big = 4.0 * 100**ONE_SIZE_EXPONENT  # 100x the cells
    assert est.seconds_left() == pytest.approx(big)  # more than (4 * 4 + big) / 4
    est.done(units[-1], 400.0)
    assert est.seconds_left() == pytest.approx(4 * 4.0 / 4)  # 4 small units on 4 workers
    est.done(units[1], 4.0)
    est.done(units[2], 4.0)
    assert est.seconds_left() == pytest.approx(4.0)  # 2 left: never below one unit


def test_log_line_shows_the_given_time_left() -> None:
    stream, now = io.StringIO(), [0.0]
    bar = LogProgress(100, "compare", "task", stream, every=0.0, clock=lambda: now[0])
    now[0] = 5.0
    bar.set_left(3723.0)
    bar.update(1)  # count-based would say ~8:15
    assert "~1:02:03 left" in stream.getvalue()


def test_a_real_run_shows_the_estimators_time_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream, seen = io.StringIO(), []
    monkeypatch.setattr(
        progress_mod,
        "progress",
        lambda total, desc, unit: LogProgress(total, desc, unit, stream, 0),
    )
    real_done = CostEstimator.done

    def done(self: CostEstimator, unit: Unit, seconds: float) -> None:
        seen.append((unit, seconds))
        real_done(self, unit, seconds)

    monkeypatch.setattr(CostEstimator, "done", done)
    monkeypatch.setattr(
        CostEstimator, "seconds_left", lambda self: 3723.0 + sum(self.left.values())
    )
    suites = [Suite("p_small", "dfs", (4, 4)), Suite("p_big", "dfs", (6, 6))]
    kw: dict[str, Any] = {"n": 6, "chunk_size": 3, "report": False}
    run_comparison(["bfs"], suites, tmp_path / "run", **kw)
    lines = stream.getvalue().splitlines()
    # bfs and the random_fork baseline, 2 suites, 2 chunks each: 8 chunks, big suite first
    assert [u.key[1] for u, _ in seen] == ["p_big"] * 4 + ["p_small"] * 4
    assert {(u.tasks, u.cells) for u, _ in seen} == {(3, 36), (3, 16)}
    assert all(s >= 0 for _, s in seen)
    assert len(lines) == 9  # a line per chunk (every=0) and the last one
    for k, line in enumerate(lines[:7]):
        assert f"~1:02:{3 + 7 - k:02d} left" in line  # 3723 + units still left
    assert "left" not in lines[-1]


def test_the_terminal_bar_shows_the_given_time_left_not_tqdms() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    bar = progress_mod.progress(100, "compare", "task", stream=stream)
    assert isinstance(bar, progress_mod.TqdmProgress)
    bar.update(10)
    bar.set_left(3723.0)
    bar.set_postfix_str("bfs on size_4", refresh=True)
    bar.close()
    last = stream.getvalue().split("\r")[-1]
    assert "10/100" in last and "~1:02:03 left, bfs on size_4" in last
    assert "<" not in last  # no count-based {remaining}

"""The Ray backend: on a local Ray instance, chunks give the rows a local run gives."""

from __future__ import annotations

import os
from typing import Any

import pytest

from agents.harness import runner
from agents.harness.ray_backend import iter_chunks_ray, run_chunks_ray
from agents.harness.suites import Suite, build_suites

_INIT: dict[str, Any] = {}


def square_chunk(chunk: tuple[int, ...]) -> list[dict[str, int]]:
    """A trivial chunk: one record per number, with the worker's init value and pid."""
    return [
        {
            "x": x,
            "y": x * x + _INIT.get("offset", 0),
            "inits": _INIT.get("calls", 0),
            "pid": os.getpid(),
        }
        for x in chunk
    ]


def init_offset(offset: int) -> None:
    _INIT["offset"] = offset
    _INIT["calls"] = _INIT.get("calls", 0) + 1


def failing_chunk(chunk: tuple[int, ...]) -> list:
    raise RuntimeError(f"chunk {chunk} failed on purpose")


@pytest.fixture(scope="module")
def local_ray() -> Any:
    try:
        import ray
    except ImportError:
        pytest.fail("ray is not installed: pip install -e '.[test]' (the test extra includes ray)")
    yield ray
    ray.shutdown()


@pytest.fixture
def running(local_ray: Any) -> Any:
    """A local one-CPU instance, started here (again, if a test stopped it)."""
    if not local_ray.is_initialized():
        local_ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    return local_ray


def test_starts_and_stops_its_own_local_instance(local_ray: Any) -> None:
    if local_ray.is_initialized():
        local_ray.shutdown()
    rows = run_chunks_ray([(1, 2), (3,)], square_chunk, num_cpus=1)
    assert [r["x"] for r in rows] == [1, 2, 3] and not local_ray.is_initialized()


def test_trivial_chunks_in_order_with_one_init_per_worker(running: Any) -> None:
    chunks = [tuple(range(i, i + 3)) for i in range(0, 30, 3)]
    rows = run_chunks_ray(
        chunks, square_chunk, init_fn=init_offset, init_args=(7,), max_in_flight=3
    )
    assert [r["x"] for r in rows] == list(range(30))
    assert all(r["y"] == r["x"] ** 2 + 7 for r in rows)
    assert {r["pid"] for r in rows} != {os.getpid()}  # ran in Ray workers, not here
    assert {r["inits"] for r in rows} == {1}  # init ran once in the (single) worker
    # a new run re-initializes the worker with its own arguments
    again = run_chunks_ray(chunks[:2], square_chunk, init_fn=init_offset, init_args=(100,))
    assert [r["y"] for r in again] == [x * x + 100 for x in range(6)]
    assert running.is_initialized()  # an instance it did not start is left running


def test_iter_yields_every_chunk_once(running: Any) -> None:
    chunks = [(i,) for i in range(7)]
    seen = sorted(i for i, _ in iter_chunks_ray(chunks, square_chunk, max_in_flight=2))
    assert seen == list(range(7))


def test_a_failing_chunk_raises(running: Any) -> None:
    with pytest.raises(Exception, match="failed on purpose"):
        run_chunks_ray([(1,), (2,)], failing_chunk)


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if "seconds" not in k}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def test_search_agent_chunks_equal_the_local_run(running: Any) -> None:
    suites = [Suite("ray_a", "dfs", (4, 4)), Suite("ray_b", "prim", (5, 5))]
    ns = {s.name: 12 for s in suites}
    data = build_suites(suites, ns, seed=3)
    agents = ["bfs", "random_fork", "mcts:simulations=5"]
    chunks = runner.plan_chunks(agents, suites, ns, chunk_size=5)
    try:
        runner._init_worker(data, 3)
        local = [r for c in chunks for r in runner._run_chunk(c)]
    finally:
        runner._WORKER.clear()
    remote = run_chunks_ray(
        chunks, runner._run_chunk, init_fn=runner._init_worker, init_args=(data, 3)
    )
    assert len(remote) == len(local) == len(agents) * 24
    assert _strip(remote) == _strip(local)
    assert not all(r["metrics"]["exact"] for r in remote)  # random_fork fails somewhere: real work

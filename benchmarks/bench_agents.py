"""Benchmark: ``bfs`` and ``astar`` against maze-dataset's ``find_shortest_path``, per task.

Builds one suite (default: 1,000 tasks, dfs mazes 10x10, random origin and target, seed 0) with
:mod:`maze_env.dataset`, then times, in this one process and on the very same tasks:

* maze-dataset: ``LatticeMaze.find_shortest_path(origin, target)`` per task (the maze objects are
  built before timing);
* ours: ``agent.solve_batch(tasks)`` (the harness's path) and ``agent.solve(task)`` in a loop,
  for ``bfs`` and ``astar``.

Each solver runs ``--repeats`` times, round-robin (so all see the same stretches of machine
load); the table reports the best and the median per task, and the speed-up of our best over
maze-dataset's best. Every path length is checked against
maze-dataset's. Installs nothing: run it where maze-dataset is installed (without it, only our
figures are printed)::

    PYTHONPATH=. .venv-peers/bin/python benchmarks/bench_agents.py [--quick] [--n 1000]

Timings on a shared machine are noisy; the best of several repeats is the steadier figure.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.registry import make_agent  # noqa: E402
from maze_env import Task  # noqa: E402
from maze_env.dataset import DatasetConfig, MazeDataset  # noqa: E402


def timeit(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn``."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def maze_dataset_solver(tasks: list[Task]) -> tuple[Callable[[], list[int]], str] | None:
    """A closure running maze-dataset's ``find_shortest_path`` on every task, or None if absent."""
    try:
        from maze_dataset import LatticeMaze
    except ImportError:
        return None
    from importlib.metadata import version

    mazes = [LatticeMaze(connection_list=t.maze.connections.copy()) for t in tasks]
    pairs = [(t.origin, t.target) for t in tasks]

    def run() -> list[int]:
        return [len(m.find_shortest_path(o, t)) - 1 for m, (o, t) in zip(mazes, pairs, strict=True)]

    return run, version("maze-dataset")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="tasks in the suite (default 1000)")
    parser.add_argument("--size", type=int, default=10, help="maze side in cells (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed (default 0)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per solver (default 5)")
    parser.add_argument("--quick", action="store_true", help="200 tasks, 2 repeats (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats = min(args.n, 200), 2

    config = DatasetConfig(generator="dfs", shape=(args.size, args.size), n=args.n, seed=args.seed)
    tasks = list(MazeDataset.from_config(config))
    n = len(tasks)
    solvers: dict[str, Callable[[], object]] = {}
    reference = maze_dataset_solver(tasks)
    ref_lengths = None
    if reference is not None:
        run, version = reference
        ref_lengths = run()  # warm-up, and the reference lengths
        solvers[f"maze-dataset {version} find_shortest_path"] = run

    for spec in ("bfs", "astar"):
        agent = make_agent(spec)
        for trajs in (agent.solve_batch(tasks), [agent.solve(t) for t in tasks]):  # warm-up
            lengths = [len(t.cells) - 1 for t in trajs]
            if ref_lengths is not None and lengths != ref_lengths:
                bad = sum(a != b for a, b in zip(lengths, ref_lengths, strict=True))
                print(
                    f"ERROR: {spec} path lengths differ from maze-dataset's on {bad} tasks",
                    file=sys.stderr,
                )
                return 1
        solvers[f"{spec} solve_batch"] = lambda a=agent: a.solve_batch(tasks)
        solvers[f"{spec} solve (loop)"] = lambda a=agent: [a.solve(t) for t in tasks]

    # Round-robin repeats: every solver sees the same stretches of machine load.
    times: dict[str, list[float]] = {name: [] for name in solvers}
    for _ in range(args.repeats):
        for name, fn in solvers.items():
            times[name] += timeit(fn, 1)
    rows = list(times.items())

    ref_best = min(rows[0][1]) if reference is not None else None
    print(f"{n} tasks, dfs {args.size}x{args.size}, seed {args.seed}, {args.repeats} repeats; "
          f"Python {platform.python_version()} on {platform.machine()} ({platform.node()})")  # fmt: skip
    print()
    print("| solver | best µs/task | median µs/task | speed-up vs maze-dataset (best) |")
    print("| --- | ---: | ---: | ---: |")
    for name, times in rows:
        best, median = min(times) / n * 1e6, statistics.median(times) / n * 1e6
        speedup = "-" if ref_best is None else f"{ref_best / min(times):.0f}x"
        print(f"| {name} | {best:.1f} | {median:.1f} | {speedup} |")
    if reference is None:
        print(
            "\nmaze-dataset is not installed here: only our figures (run in .venv-peers to compare)."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

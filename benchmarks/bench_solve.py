"""Benchmark: shortest paths, ours (single and batched) against maze-dataset's ``find_shortest_path``.

Generates N dfs mazes (default 2,000 at 10x10, seed 0) with random origin and target, then times
in this one process, on the very same tasks:

* maze-dataset: ``LatticeMaze.find_shortest_path(origin, target)`` per task (maze objects built
  before timing);
* ours: :func:`maze_env.solve.shortest_path` per task; :func:`batch_shortest_paths` (lists of
  cells, as the single form returns); :func:`batch_shortest_path_arrays` (the array form);
  :func:`batch_bfs_distances` (a full distance map per maze).

Every path length is checked against maze-dataset's. Each timing is repeated ``--repeats`` times;
the table gives the best and median microseconds per task and the speed-up of our best over
maze-dataset's best. Installs nothing; without maze-dataset only our figures are printed::

    PYTHONPATH=. .venv-peers/bin/python benchmarks/bench_solve.py [--quick]

Timings on a shared machine are noisy; the best of several repeats is the steadier figure.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maze_env import generate_batch  # noqa: E402
from maze_env.solve import (  # noqa: E402
    batch_bfs_distances,
    batch_shortest_path_arrays,
    batch_shortest_paths,
    shortest_path,
)


def timeit(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn``, after one untimed warm-up call."""
    fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def peer(
    conns: np.ndarray, origins: list, targets: list
) -> tuple[Callable[[], list[int]], str] | None:
    """maze-dataset's solver over the tasks, or None if it is not importable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from maze_dataset import LatticeMaze
    except ImportError:
        return None
    from importlib.metadata import version

    mazes = [LatticeMaze(connection_list=c.copy()) for c in conns]

    def run() -> list[int]:
        return [
            len(m.find_shortest_path(o, t)) - 1
            for m, o, t in zip(mazes, origins, targets, strict=True)
        ]

    return run, version("maze-dataset")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="tasks (default 2000)")
    parser.add_argument("--size", type=int, default=10, help="maze side in cells (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per solver (default 5)")
    parser.add_argument("--quick", action="store_true", help="300 tasks, 2 repeats (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats = min(args.n, 300), 2

    shape = (args.size, args.size)
    batch = generate_batch("dfs", shape, args.n, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    origins_arr = rng.integers(0, args.size, size=(args.n, 2))
    targets_arr = rng.integers(0, args.size, size=(args.n, 2))
    origins = [tuple(o) for o in origins_arr.tolist()]
    targets = [tuple(t) for t in targets_arr.tolist()]
    mazes = list(batch)

    # warm up (numba kernels compile or load from the on-disk cache)
    shortest_path(mazes[0], origins[0], targets[0])
    batch_shortest_paths(batch[:2], origins_arr[:2], targets_arr[:2])
    batch_bfs_distances(batch[:2], origins_arr[:2])

    ours: dict[str, Callable[[], object]] = {
        "ours `shortest_path` (one call per task)": lambda: [
            shortest_path(m, o, t) for m, o, t in zip(mazes, origins, targets, strict=True)
        ],
        "ours `batch_shortest_paths` (lists)": lambda: batch_shortest_paths(
            batch, origins_arr, targets_arr
        ),
        "ours `batch_shortest_path_arrays`": lambda: batch_shortest_path_arrays(
            batch, origins_arr, targets_arr
        ),
        "ours `batch_bfs_distances` (full map)": lambda: batch_bfs_distances(batch, origins_arr),
    }
    lengths = [len(p) - 1 for p in batch_shortest_paths(batch, origins_arr, targets_arr)]
    rows: list[tuple[str, list[float]]] = []
    reference = peer(batch.connections, origins, targets)
    peer_version = None
    if reference is not None:
        run, peer_version = reference
        if run() != lengths:
            print("ERROR: path lengths differ from maze-dataset's", file=sys.stderr)
            return 1
        rows.append(
            (f"maze-dataset {peer_version} `find_shortest_path`", timeit(run, args.repeats))
        )
    for name, fn in ours.items():
        rows.append((name, timeit(fn, args.repeats)))

    print(f"## Shortest paths: {args.n} dfs tasks at {args.size}x{args.size}, random endpoints\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}; "
        f"best and median of {args.repeats} repeats; shared machine, timings noisy\n"
    )
    print("| solver | best µs/task | median µs/task | tasks/s | speed-up vs maze-dataset |")
    print("| --- | ---: | ---: | ---: | ---: |")
    base = min(rows[0][1]) if reference is not None else None
    for name, times in rows:
        best, med = min(times) / args.n * 1e6, statistics.median(times) / args.n * 1e6
        ratio = f"{base / min(times):,.0f}x" if base is not None else "n/a"
        print(f"| {name} | {best:,.2f} | {med:,.2f} | {args.n / min(times):,.0f} | {ratio} |")
    if reference is None:
        print("\n(maze-dataset not importable here: no peer figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: maze generation throughput and memory, against maze-dataset in the same process.

Measures, on one core (the kernels are single-threaded; ``n_workers=1``):

* every registered generator at 10x10 through ``generate_batch`` (goal: > 50,000 mazes/s each);
* ``dfs`` at 10x10 and 40x40 against maze-dataset's ``LatticeMazeGenerators.gen_dfs``
  (goal: at least 100x);
* ``wilson`` at 32x32 against ``LatticeMazeGenerators.gen_wilson`` (goal: at least 1,000x; only a
  few peer mazes are timed, they are slow);
* the memory of one million 10x10 ``dfs`` mazes as a ``MazeBatch`` (goal: < 1 GiB), as the
  array's size and as the growth of the process's peak resident memory while generating them.

Rates are mazes per CPU second of this process (``time.process_time``), the best of
``--repeats`` timings: on a shared machine CPU time is steadier than wall time, and it is what one
core delivers. Figures still vary from run to run when other jobs share the machine. maze-dataset
is timed when ``import maze_dataset`` works (maze-dataset 1.4.2 needs ``muutils==0.8.12``); else
ours alone, with a note. Installs nothing::

    PYTHONPATH=. .venv-peers/bin/python benchmarks/bench_generation.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maze_env.generators import GENERATORS, generate_batch  # noqa: E402

GOAL_RATE = 50_000
GOAL_DFS_RATIO = 100
GOAL_WILSON_RATIO = 1_000
GOAL_MEMORY = 1 << 30


def best_rate(fn: Callable[[], object], n: int, repeats: int) -> float:
    """The best of ``repeats`` rates ``n / cpu_seconds(fn())``."""
    best = 0.0
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        dt = time.process_time() - t0
        best = max(best, n / max(dt, 1e-9))
    return best


def ours_rate(name: str, shape: tuple[int, int], n: int, repeats: int) -> float:
    """Mazes per CPU second of ``generate_batch(name, shape, n)`` (after a warm-up call)."""
    generate_batch(name, shape, 8, seed=0)  # compile or load the numba cache
    return best_rate(lambda: generate_batch(name, shape, n, seed=1), n, repeats)


def peer() -> tuple[Any, str] | None:
    """maze-dataset's ``LatticeMazeGenerators`` and its version, or None if it does not import."""
    try:
        from maze_dataset.generation.generators import LatticeMazeGenerators
    except Exception:  # noqa: BLE001  (ImportError, or muutils version clashes raising others)
        return None
    try:
        v = version("maze-dataset")
    except PackageNotFoundError:
        v = "?"
    return LatticeMazeGenerators, v


def peer_rate(fn: Callable[[], object], n: int) -> float:
    """Mazes per CPU second of ``n`` calls of ``fn`` (one maze each), after one warm-up call."""
    fn()
    t0 = time.process_time()
    for _ in range(n):
        fn()
    return n / max(time.process_time() - t0, 1e-9)


def peak_rss_bytes() -> int:
    """The process's peak resident memory so far (``ru_maxrss``: KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def memory_row(n: int) -> dict[str, Any]:
    before = peak_rss_bytes()
    t0 = time.perf_counter()
    batch = generate_batch("dfs", (10, 10), n, seed=0)
    seconds = time.perf_counter() - t0
    grown = peak_rss_bytes() - before
    row = {
        "what": f"memory: {n:,} dfs mazes 10x10 as a MazeBatch",
        "nbytes": batch.nbytes,
        "peak_rss_growth": grown,
        "wall_seconds": seconds,
        "goal": f"< {GOAL_MEMORY / 2**30:.0f} GiB",
        "met": batch.nbytes < GOAL_MEMORY and grown < GOAL_MEMORY,
    }
    del batch
    return row


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer mazes and repeats (a smoke run, ~1 min)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="timings per generator, the best is kept (default 5)"
    )
    parser.add_argument(
        "--json", type=Path, default=None, metavar="PATH", help="also write the results as JSON"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    repeats = 2 if quick else args.repeats
    n_small = 20_000 if quick else 100_000
    n_memory = 1_000_000
    peer_dfs = {(10, 10): 100 if quick else 500, (40, 40): 5 if quick else 30}
    peer_wilson = 1 if quick else 3

    reference = peer()
    rows: list[dict[str, Any]] = []

    for name in GENERATORS:
        rate = ours_rate(name, (10, 10), n_small, repeats)
        rows.append({"what": f"{name} 10x10", "ours": rate, "peer": None, "ratio": None,
                     "goal": f"> {GOAL_RATE:,}/s", "met": rate > GOAL_RATE})  # fmt: skip
        print(f"  {name:20s} 10x10 {rate:>12,.0f} mazes/s", file=sys.stderr)

    comparisons = [
        ("dfs", (10, 10), n_small, "gen_dfs", peer_dfs[(10, 10)], GOAL_DFS_RATIO),
        ("dfs", (40, 40), max(n_small // 10, 1000), "gen_dfs", peer_dfs[(40, 40)], GOAL_DFS_RATIO),
        (
            "wilson",
            (32, 32),
            max(n_small // 20, 1000),
            "gen_wilson",
            peer_wilson,
            GOAL_WILSON_RATIO,
        ),
    ]
    for name, shape, n, peer_name, n_peer, goal in comparisons:
        rate = ours_rate(name, shape, n, repeats)
        theirs = None
        if reference is not None:
            fn = getattr(reference[0], peer_name)
            theirs = peer_rate(lambda fn=fn, shape=shape: fn(shape), n_peer)
        ratio = None if theirs is None else rate / theirs
        rows.append({"what": f"{name} {shape[0]}x{shape[1]} vs {peer_name}", "ours": rate, "peer": theirs,
                     "ratio": ratio, "goal": f">= {goal:,}x", "met": None if ratio is None else ratio >= goal})  # fmt: skip
        print(
            f"  {name:20s} {shape[0]}x{shape[1]} {rate:>12,.0f} mazes/s; peer {fmt_rate(theirs)}",
            file=sys.stderr,
        )

    memory = memory_row(n_memory)

    print("# Generation benchmark\n")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"python {platform.python_version()}, numba {version('numba')}, numpy {version('numpy')}, "
          f"{os.cpu_count()} CPUs, load average {load:.2f} at the end (a shared machine: figures are noisy)")  # fmt: skip
    if reference is None:
        print("\nmaze-dataset is not importable here: our figures only, no ratios.")
    else:
        print(f"\npeer: maze-dataset {reference[1]}, timed in this process")
    print(
        f"\nrates: mazes per CPU second, best of {repeats} (ours) / mean over a few calls (peer)\n"
    )
    print("| benchmark | ours (mazes/s) | maze-dataset (mazes/s) | ratio | goal | met |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    for r in rows:
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:,.0f}x"
        met = "?" if r["met"] is None else ("yes" if r["met"] else "NO")
        print(
            f"| {r['what']} | {fmt_rate(r['ours'])} | {fmt_rate(r['peer'])} | {ratio} | {r['goal']} | {met} |"
        )
    print(f"\n{memory['what']}: array {memory['nbytes'] / 2**20:,.0f} MiB, peak RSS growth "
          f"{memory['peak_rss_growth'] / 2**20:,.0f} MiB, generated in {memory['wall_seconds']:.1f} s wall; "
          f"goal {memory['goal']}: {'yes' if memory['met'] else 'NO'}")  # fmt: skip

    if args.json is not None:
        payload = {
            "python": platform.python_version(),
            "numba": version("numba"),
            "maze_dataset": None if reference is None else reference[1],
            "cpus": os.cpu_count(),
            "load_average": load,
            "quick": quick,
            "repeats": repeats,
            "rows": rows,
            "memory": memory,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

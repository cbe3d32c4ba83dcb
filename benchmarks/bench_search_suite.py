"""Benchmark: one agent's ``solve_batch`` on the first N tasks of a built-in suite, one thread.

Prints the wall seconds, each trajectory's length (cells) and the model rows asked for. Used for
the MCTS-with-a-model figures in docs/BENCHMARKS.md ("Wave 4: trunks, and a search that stops
when it can no longer be exact")::

    .venv/bin/python benchmarks/bench_search_suite.py size_32 5 \\
        "mcts:simulations=10,prior=checkpoints/transformer_grid6,root=gumbel,steps_per_cell=1"
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suite", help="a built-in suite name, e.g. size_32")
    ap.add_argument("n", type=int, help="tasks (the suite's first N, run seed 0)")
    ap.add_argument("agent", help="an agent spec")
    args = ap.parse_args()
    import torch

    from agents.harness.suites import builtin_suites
    from agents.malloc import keep_freed_memory
    from agents.registry import make_agent
    from maze_env.dataset import MazeDataset

    torch.set_num_threads(1)
    keep_freed_memory()  # as the mazebench command does
    suites = builtin_suites()
    if args.suite not in suites:
        raise SystemExit(f"unknown suite {args.suite!r}; built-in: {', '.join(sorted(suites))}")
    ds = MazeDataset.from_config(suites[args.suite].dataset_config(n=args.n, seed=0))
    tasks = [ds[i] for i in range(args.n)]
    agent = make_agent(args.agent)
    t0 = time.perf_counter()
    trajs = agent.solve_batch(tasks)
    print(
        f"{time.perf_counter() - t0:.1f} s; cells {[len(t.cells) for t in trajs]}; "
        f"model rows {sum(t.forward_passes for t in trajs)}"
    )


if __name__ == "__main__":
    main()

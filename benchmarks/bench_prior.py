"""Benchmark: MCTS with a learned prior (the transformer, or the RL policy) on 6x6 dfs tasks.

Times ``mcts:prior=CKPT,simulations=S,root=gumbel`` solving ``--n`` fresh dfs 6x6 tasks in one
batch (as a harness chunk does), after one warm-up batch of 2 tasks (numba compilation, model
load excluded), and prints seconds, ms per task, the number of ``prior_fn`` calls and rows, and
exact-path accuracy. Single-threaded torch. Run pinned to one core::

    taskset -c 1 env OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/bench_prior.py [--n 100] [--simulations 30] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.harness.metrics import compute_metrics  # noqa: E402
from agents.search.mcts import MCTSAgent  # noqa: E402
from maze_env.dataset import DatasetConfig, MazeDataset  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ckpt", default="checkpoints/transformer_grid6_learned")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--simulations", type=int, default=30)
    ap.add_argument("--shape", default="6x6")
    ap.add_argument("--seed", type=int, default=123)
    ap.add_argument("--profile", action="store_true", help="print the top cProfile entries")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tasks = list(MazeDataset.from_config(
        DatasetConfig(generator="dfs", shape=args.shape, n=args.n, seed=args.seed)
    ))  # fmt: skip
    agent = MCTSAgent(prior=args.ckpt, simulations=args.simulations, root="gumbel")
    calls = {"n": 0, "rows": 0}
    inner = agent.config.prior_fn

    def counted(t, c, p):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        calls["rows"] += len(t)
        return inner(t, c, p)

    agent.config = dataclasses.replace(agent.config, prior_fn=counted)
    agent.solve_batch(tasks[:2])  # warm-up
    calls.update(n=0, rows=0)
    prof = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    trajs = agent.solve_batch(tasks)
    if prof:
        prof.disable()
    dt = time.perf_counter() - t0
    exact = sum(compute_metrics(t, tr).exact for t, tr in zip(tasks, trajs, strict=True))
    print(
        f"{agent.name} on {args.n} dfs {args.shape} tasks: {dt:.2f} s "
        f"({1000 * dt / args.n:.1f} ms/task), prior_fn calls {calls['n']}, rows {calls['rows']}, "
        f"exact {exact}/{args.n}"
    )
    if prof:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()

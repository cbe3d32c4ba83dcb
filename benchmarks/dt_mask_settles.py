"""When does the graph deep-thinking net's thresholded mask stop changing? (how much a stop on a
stable mask could save over ``n_iter=auto``)::

    .venv/bin/python benchmarks/dt_mask_settles.py SIDE N CHECKPOINT
    .venv/bin/python benchmarks/dt_mask_settles.py 32 20 checkpoints/deepthinking_graph_s2

Prints the iterations ``n_iter=auto`` runs, the last iteration (checked every 20) at which any
cell of a maze's mask changed (mean, p90, max over the first N tasks of the ``size_SIDE``
suite), and the reached rate of the full run. One thread.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from agents.deepthinking.agent import DeepThinkingAgent, walk_mask
from agents.deepthinking.model import encode_grids
from agents.harness.suites import build_suites, builtin_suites

EVERY = 20
"""Iterations between two looks at the mask."""


def main(side: int, n: int, ckpt: str) -> str:
    torch.set_num_threads(1)
    agent = DeepThinkingAgent(ckpt=ckpt)
    suite = builtin_suites()[f"size_{side}"]
    tasks = list(build_suites([suite], {suite.name: n}, 0)[suite.name].dataset)
    full = agent.iters_for((side, side))
    x = encode_grids(
        np.stack([t.maze.connections for t in tasks]),
        np.array([t.origin for t in tasks]),
        np.array([t.target for t in tasks]),
    )
    last_change, prev, t0 = np.zeros(n, int), None, time.perf_counter()
    with torch.inference_mode():
        for i, logits in agent.net.iterate(torch.from_numpy(x), [*range(EVERY, full, EVERY), full]):
            mask = (logits[:, 1::2, 1::2] > 0).numpy()
            if prev is not None:
                last_change[(mask != prev).any(axis=(1, 2))] = i
            prev = mask
    scores = logits[:, 1::2, 1::2].numpy()
    reached = [
        walk_mask(t.maze.open_moves(), s, t.origin, t.target)[1] == "target"
        for t, s in zip(tasks, scores, strict=True)
    ]
    return (
        f"size {side}x{side}, n={n}, n_iter=auto {full} iterations "
        f"({time.perf_counter() - t0:.1f} s); last mask change: mean {last_change.mean():.0f}, "
        f"p90 {np.percentile(last_change, 90):.0f}, max {last_change.max()}; "
        f"reached {np.mean(reached):.2f}"
    )


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    print(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]))

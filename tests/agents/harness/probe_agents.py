"""Agents for the runner's tests: they report, in each trajectory's ``extra``, the process they
ran in and how many times an agent was built there."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from agents.base import BaseAgent, Trajectory
from maze_env import Task
from maze_env.solve import shortest_path

BUILDS: dict[int, int] = {}
"""Agents built in this process, by pid."""


class ProbeAgent(BaseAgent):
    """Solves by BFS; ``extra`` = pid, builds in this process, whether pytest is loaded (a forked
    worker inherits it, a spawned one does not), torch's thread count if torch is loaded."""

    name = "probe"

    def __init__(self, *, seed: int = 0, use_torch: bool = False) -> None:
        BUILDS[os.getpid()] = BUILDS.get(os.getpid(), 0) + 1
        if use_torch:
            import torch  # noqa: F401  (a torch agent imports torch when built)
        self.seed = seed

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        torch = sys.modules.get("torch")
        extra = {
            "pid": os.getpid(),
            "builds": BUILDS[os.getpid()],
            "pytest_loaded": "pytest" in sys.modules,
            "torch_threads": torch.get_num_threads() if torch is not None else None,
        }
        return [
            Trajectory.from_cells(shortest_path(t.maze, t.origin, t.target), extra=extra)
            for t in tasks
        ]

    def solve(self, task: Task) -> Trajectory:
        return self.solve_batch([task])[0]


class SpawnProbeAgent(ProbeAgent):
    """A probe that asks for spawned workers, as torch agents do."""

    start_method = "spawn"

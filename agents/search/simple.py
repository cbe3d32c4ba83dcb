"""``dfs`` and ``greedy``: searches that find a path, not necessarily the shortest.

Both run the pure functions of :mod:`agents.search.graph` on the maze's neighbour function and
return the path they found (not the order in which they explored); ``nodes_expanded`` counts the
exploration, ``extra["nodes_generated"]`` the frontier pushes.
"""

from __future__ import annotations

import time

from agents.base import BaseAgent, Trajectory
from agents.registry import register_agent
from agents.search.common import format_name, make_trajectory
from agents.search.graph import (
    HeuristicFn,
    SearchResult,
    depth_first_search,
    greedy_best_first,
    manhattan,
    maze_neighbors_fn,
)
from maze_env import Task


def _trajectory(task: Task, result: SearchResult, t0: float) -> Trajectory:
    return make_trajectory(
        result.path or (task.origin,),
        nodes_expanded=result.nodes_expanded,
        seconds=time.perf_counter() - t0,
        gave_up=not result.found,
        extra={"nodes_generated": result.nodes_generated},
    )


class DFSAgent(BaseAgent):
    """Depth-first search, neighbours in action order (up, right, down, left); no parameters.

    The trajectory is the branch of the DFS tree that reaches the target: a valid simple path,
    often longer than the shortest in mazes with loops (in a perfect maze it is the unique path,
    found after exploring dead ends, which ``nodes_expanded`` counts).
    """

    name = "dfs"

    def solve(self, task: Task) -> Trajectory:
        t0 = time.perf_counter()
        result = depth_first_search(
            task.origin, task.target, neighbors_fn=maze_neighbors_fn(task.maze)
        )
        return _trajectory(task, result, t0)


class GreedyAgent(BaseAgent):
    """Greedy best-first search on the heuristic alone (Manhattan distance by default).

    Args:
        heuristic_fn: ``h(cell, target) -> float``; ``None`` is :func:`~agents.search.graph.manhattan`.
    """

    def __init__(self, *, heuristic_fn: HeuristicFn | None = None) -> None:
        if heuristic_fn is not None and not callable(heuristic_fn):
            raise ValueError(
                f"heuristic_fn must be a callable h(cell, target) -> float or None, got {heuristic_fn!r}"
            )
        self.heuristic_fn = heuristic_fn or manhattan
        self.name = format_name("greedy", {"heuristic_fn": heuristic_fn}, {"heuristic_fn": None})

    def solve(self, task: Task) -> Trajectory:
        t0 = time.perf_counter()
        result = greedy_best_first(
            task.origin,
            task.target,
            neighbors_fn=maze_neighbors_fn(task.maze),
            heuristic_fn=self.heuristic_fn,
        )
        return _trajectory(task, result, t0)


@register_agent("dfs")
def make_dfs() -> DFSAgent:
    """``dfs``: no parameters."""
    return DFSAgent()


@register_agent("greedy")
def make_greedy(*, heuristic_fn: HeuristicFn | None = None) -> GreedyAgent:
    """``greedy``: ``heuristic_fn`` (default Manhattan)."""
    return GreedyAgent(heuristic_fn=heuristic_fn)

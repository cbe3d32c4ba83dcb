"""``astar``: A* with the Manhattan heuristic (or any ``heuristic_fn``), binary heap.

With the default heuristic the agent runs the numba kernel of :mod:`agents.search._kernels`
(batched in ``solve_batch``); with a custom ``heuristic_fn`` it runs the pure function
:func:`agents.search.graph.a_star`. Both order the frontier by ``(f, h, insertion order)``: lowest
``f = g + h``, then nearest to the target by the heuristic, then first generated; and they return
identical paths and counters for the Manhattan heuristic.

``record_expanded=true`` (off by default) also records the expanded cells in expansion order as
``Trajectory.extra["expanded_cells"]`` (``[[row, col], ...]``; ``mazebench watch`` shades them):
it runs the pure :func:`~agents.search.graph.a_star` (same path and counters), never the kernel.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

from agents.base import BaseAgent, Trajectory
from agents.registry import register_agent
from agents.search import _kernels
from agents.search.common import (
    format_name,
    group_by_shape,
    make_trajectory,
    stack_tasks,
    tiny_batch,
    trajectories_from_arrays,
)
from agents.search.graph import HeuristicFn, a_star, maze_neighbors_fn
from maze_env import Maze, Task


@functools.cache
def warm_up() -> None:
    """Compile (or load) the A* kernel once per process, outside any timing."""
    conn, _, _ = tiny_batch()
    _kernels.run_batch_astar(*tiny_batch())
    _kernels.run_single_astar(Maze(conn[0]).connections, (0, 0), (0, 0))  # read-only, as in Maze


class AStarAgent(BaseAgent):
    """A* search; optimal for any admissible ``heuristic_fn``.

    Args:
        heuristic_fn: ``h(cell, target) -> float``; ``None`` (default) is the Manhattan distance,
            run by a numba kernel. ``Trajectory.extra["nodes_generated"]`` counts frontier pushes.
        record_expanded: also record the expanded cells, in expansion order, as
            ``extra["expanded_cells"]`` (``[[row, col], ...]``, ``nodes_expanded`` long). Runs the
            pure-Python search (slower; same path and counters); the name is unchanged.
    """

    def __init__(
        self, *, heuristic_fn: HeuristicFn | None = None, record_expanded: bool = False
    ) -> None:
        if heuristic_fn is not None and not callable(heuristic_fn):
            raise ValueError(
                f"heuristic_fn must be a callable h(cell, target) -> float or None, got {heuristic_fn!r}"
            )
        if not isinstance(record_expanded, bool):
            raise ValueError(f"record_expanded must be true or false, got {record_expanded!r}")
        self.heuristic_fn = heuristic_fn
        self.record_expanded = record_expanded
        self.name = format_name("astar", {"heuristic_fn": heuristic_fn}, {"heuristic_fn": None})

    def solve(self, task: Task) -> Trajectory:
        if self.record_expanded:
            return self._solve_recording(task)
        if self.heuristic_fn is None and _kernels.fits(*task.maze.shape):
            warm_up()
            t0 = time.perf_counter()
            path, expanded, generated = _kernels.run_single_astar(
                task.maze.connections, task.origin, task.target
            )
            return make_trajectory(
                [(r, c) for r, c in path.tolist()] or (task.origin,),
                nodes_expanded=expanded,
                seconds=time.perf_counter() - t0,
                gave_up=len(path) == 0,
                extra={"nodes_generated": generated},
            )
        t0 = time.perf_counter()
        kwargs = {} if self.heuristic_fn is None else {"heuristic_fn": self.heuristic_fn}
        result = a_star(
            task.origin, task.target, neighbors_fn=maze_neighbors_fn(task.maze), **kwargs
        )
        return make_trajectory(
            result.path or (task.origin,),
            nodes_expanded=result.nodes_expanded,
            seconds=time.perf_counter() - t0,
            gave_up=not result.found,
            extra={"nodes_generated": result.nodes_generated},
        )

    def _solve_recording(self, task: Task) -> Trajectory:
        """:func:`a_star` with a neighbour function that notes each cell it is asked about: A*
        asks once per expansion, in expansion order."""
        t0 = time.perf_counter()
        neighbors = maze_neighbors_fn(task.maze)
        order: list[list[int]] = []

        def noting(cell: tuple[int, int]) -> list[tuple[int, int]]:
            order.append([cell[0], cell[1]])
            return neighbors(cell)

        kwargs = {} if self.heuristic_fn is None else {"heuristic_fn": self.heuristic_fn}
        result = a_star(task.origin, task.target, neighbors_fn=noting, **kwargs)
        return make_trajectory(
            result.path or (task.origin,),
            nodes_expanded=result.nodes_expanded,
            seconds=time.perf_counter() - t0,
            gave_up=not result.found,
            extra={"nodes_generated": result.nodes_generated, "expanded_cells": order},
        )

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        if self.heuristic_fn is not None or self.record_expanded:
            return [self.solve(t) for t in tasks]
        warm_up()
        out: list[Trajectory | None] = [None] * len(tasks)
        for shape, idx in group_by_shape(tasks).items():
            if not _kernels.fits(*shape):
                for i in idx:
                    out[i] = self.solve(tasks[i])
                continue
            t0 = time.perf_counter()
            group = [tasks[i] for i in idx]
            paths, lengths, expanded, generated = _kernels.run_batch_astar(*stack_tasks(group))
            trajs = trajectories_from_arrays(
                group,
                paths,
                lengths,
                expanded,
                time.perf_counter() - t0,
                {"nodes_generated": generated},
            )
            for i, traj in zip(idx, trajs, strict=False):
                out[i] = traj
        return out  # type: ignore[return-value]


@register_agent("astar")
def make_astar(
    *, heuristic_fn: HeuristicFn | None = None, record_expanded: bool = False
) -> AStarAgent:
    """``astar``: ``heuristic_fn`` (default Manhattan), ``record_expanded`` (default false)."""
    return AStarAgent(heuristic_fn=heuristic_fn, record_expanded=record_expanded)

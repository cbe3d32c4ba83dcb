"""``bfs``: the optimal reference agent, a thin agent over :mod:`maze_env.solve`.

Breadth-first search has one home, :mod:`maze_env.solve` (numba kernels). This agent returns its
canonical shortest path (ties broken from the origin by the first move in action order that stays
on a shortest path) and counts, as ``nodes_expanded``, the cells a breadth-first search from the
origin expands before it reaches the target's layer: ``|{c : d(origin, c) < d(origin, target)}|``
(all reachable cells when the target is unreachable). That count does not depend on queue order,
so :meth:`BFSAgent.solve` and :meth:`BFSAgent.solve_batch` agree exactly.

``record_expanded=true`` (off by default) also records those cells, in the order the search
expands them, as ``Trajectory.extra["expanded_cells"]`` (``[[row, col], ...]``; ``mazebench watch``
shades them): one more BFS per task, outside the kernels the default path runs.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

import numpy as np

from agents.base import BaseAgent, Trajectory
from agents.registry import register_agent
from agents.search.common import (
    group_by_shape,
    stack_tasks,
    tiny_batch,
    trajectories_from_arrays,
)
from maze_env import Task
from maze_env.solve import _search_kernel, batch_bfs_search, bfs_kernel


@functools.cache
def warm_up() -> None:
    """Compile (or load) the solve kernels once per process, outside any timing."""
    conn, origins, targets = tiny_batch()
    batch_bfs_search(conn, origins, targets)
    conn[0].setflags(write=False)  # a Maze's connections are read-only: compile that signature
    _search_kernel(conn[0], 0, 0, 0, 0)


class BFSAgent(BaseAgent):
    """Breadth-first search: always a shortest path (the reference every metric compares to).

    Both ``solve`` and ``solve_batch`` run one BFS per task from the origin
    (:func:`maze_env.solve.bfs_search`); ``solve_batch`` groups tasks by maze shape and runs each
    group through one numba call; ``seconds`` of each trajectory is its share of its group's wall
    time.

    Args:
        record_expanded: also record the expanded cells in expansion order as
            ``extra["expanded_cells"]`` (see :func:`expanded_cells`; not timed, and the path and
            counters are unchanged). The name stays ``bfs``.
    """

    name = "bfs"

    def __init__(self, *, record_expanded: bool = False) -> None:
        if not isinstance(record_expanded, bool):
            raise ValueError(f"record_expanded must be true or false, got {record_expanded!r}")
        self.record_expanded = record_expanded

    def solve(self, task: Task) -> Trajectory:
        traj = self._solve(task)
        if self.record_expanded:
            traj.extra["expanded_cells"] = expanded_cells(task)
        return traj

    def _solve(self, task: Task) -> Trajectory:
        warm_up()
        t0 = time.perf_counter()
        (orow, ocol), (trow, tcol) = task.origin, task.target  # a Task's cells are checked
        v = _search_kernel(task.maze.connections, orow, ocol, trow, tcol).tolist()
        n = len(v) // 3  # v: [expanded, row, col, ..., row, col, action, ..., action]
        cells = tuple(zip(v[1 : 2 * n + 1 : 2], v[2 : 2 * n + 1 : 2], strict=True))
        return Trajectory(
            cells=cells or (task.origin,),
            actions=tuple(v[2 * n + 1 :]),
            nodes_expanded=v[0],
            seconds=time.perf_counter() - t0,
            gave_up=n == 0,
        )

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        if self.record_expanded:
            return [self.solve(t) for t in tasks]
        warm_up()
        out: list[Trajectory | None] = [None] * len(tasks)
        for idx in group_by_shape(tasks).values():
            t0 = time.perf_counter()
            group = [tasks[i] for i in idx]
            paths, lengths, expanded = batch_bfs_search(*stack_tasks(group))
            trajs = trajectories_from_arrays(
                group, paths, lengths, expanded, time.perf_counter() - t0
            )
            for i, traj in zip(idx, trajs, strict=False):
                out[i] = traj
        return out  # type: ignore[return-value]


def expanded_cells(task: Task) -> list[list[int]]:
    """The cells a BFS from the origin expands before the target's layer, in expansion order.

    Returns:
        ``[[row, col], ...]``: the ``nodes_expanded`` cells of :class:`BFSAgent`'s trajectory
        (``d(origin, c) < d(origin, target)``; every reachable cell if the target is not), in
        the order of the search's queue (distance, then discovery in action order).
    """
    rows, cols = task.maze.shape
    (orow, ocol), (trow, tcol) = task.origin, task.target
    dist = np.full((rows, cols), -1, dtype=np.int32)
    queue = np.empty(rows * cols, dtype=np.int32)
    n = bfs_kernel(task.maze.connections, orow, ocol, dist, queue, trow * cols + tcol)
    order = queue[:n]
    d_target = dist[trow, tcol]
    if d_target >= 0:
        order = order[dist.ravel()[order] < d_target]
    return [[int(f) // cols, int(f) % cols] for f in order.tolist()]


@register_agent("bfs")
def make_bfs(*, record_expanded: bool = False) -> BFSAgent:
    """``bfs``: ``record_expanded`` (default false: record only the count)."""
    return BFSAgent(record_expanded=record_expanded)

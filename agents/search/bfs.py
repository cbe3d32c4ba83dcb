"""``bfs``: the optimal reference agent, a thin agent over :mod:`maze_env.solve`.

Breadth-first search has one home, :mod:`maze_env.solve` (numba kernels). This agent returns its
canonical shortest path (ties broken from the origin by the first move in action order that stays
on a shortest path) and counts, as ``nodes_expanded``, the cells a breadth-first search from the
origin expands before it reaches the target's layer: ``|{c : d(origin, c) < d(origin, target)}|``
(all reachable cells when the target is unreachable). That count does not depend on queue order,
so :meth:`BFSAgent.solve` and :meth:`BFSAgent.solve_batch` agree exactly.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence

import numpy as np

from agents.base import BaseAgent, Trajectory, register_agent
from agents.search.common import (
    group_by_shape,
    make_trajectory,
    stack_tasks,
    tiny_batch,
    trajectories_from_arrays,
)
from maze_env import Maze, Task
from maze_env.solve import (
    batch_bfs_distances,
    batch_shortest_path_arrays,
    bfs_distances,
    shortest_path,
)


@functools.cache
def warm_up() -> None:
    """Compile (or load) the solve kernels once per process, outside any timing."""
    conn, origins, targets = tiny_batch()
    batch_shortest_path_arrays(conn, origins, targets)
    batch_bfs_distances(conn, origins)
    shortest_path(Maze(conn[0]), (0, 0), (0, 0))
    bfs_distances(Maze(conn[0]), (0, 0))


class BFSAgent(BaseAgent):
    """Breadth-first search: always a shortest path (the reference every metric compares to).

    Takes no parameters. ``solve_batch`` groups tasks by maze shape and runs each group through
    one numba call; ``seconds`` of each trajectory is its share of its group's wall time.
    """

    name = "bfs"

    def solve(self, task: Task) -> Trajectory:
        warm_up()
        t0 = time.perf_counter()
        path = shortest_path(task.maze, task.origin, task.target)
        dist = bfs_distances(task.maze, task.origin)
        d_target = dist[task.target]
        expanded = (
            int(np.count_nonzero((dist >= 0) & (dist < d_target)))
            if path
            else int(np.count_nonzero(dist >= 0))
        )
        return make_trajectory(
            path or (task.origin,),
            nodes_expanded=expanded,
            seconds=time.perf_counter() - t0,
            gave_up=path is None,
        )

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        warm_up()
        out: list[Trajectory | None] = [None] * len(tasks)
        for idx in group_by_shape(tasks).values():
            t0 = time.perf_counter()
            group = [tasks[i] for i in idx]
            conn, origins, targets = stack_tasks(group)
            paths, lengths = batch_shortest_path_arrays(conn, origins, targets)
            dist = batch_bfs_distances(conn, origins)
            n = len(group)
            d_target = dist[np.arange(n), targets[:, 0], targets[:, 1]]
            limit = np.where(d_target < 0, np.iinfo(np.int32).max, d_target)
            expanded = ((dist >= 0) & (dist < limit[:, None, None])).sum(axis=(1, 2))
            trajs = trajectories_from_arrays(
                group, paths, lengths, expanded, time.perf_counter() - t0
            )
            for i, traj in zip(idx, trajs, strict=False):
                out[i] = traj
        return out  # type: ignore[return-value]


@register_agent("bfs")
def make_bfs() -> BFSAgent:
    """``bfs``: no parameters."""
    return BFSAgent()

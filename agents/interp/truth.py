"""Ground truth for probes: what is true of each task, per cell and per path step.

Every array is over the ``n`` tasks of one suite, which share one maze shape ``(R, C)`` (a probe's
rows must be comparable). Sides and moves are in action order: 0 up, 1 right, 2 down, 3 left.
Distances are in moves (BFS on the maze graph).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from maze_env import Task
from maze_env.solve import shortest_path, task_distances
from maze_env.types import ACTION_DELTAS

TARGETS = ("passage", "on_path", "distance", "target_cell", "move_ahead")
"""What a probe can be asked for (``inspect.json`` ``probes[].target``)."""


@dataclass(frozen=True)
class Truth:
    """The ground truth of ``n`` same-shaped tasks.

    Attributes:
        shape: ``(R, C)`` cells.
        open: ``bool[n, R, C, 4]``: the cell's side is a passage (up, right, down, left).
        inside: ``bool[R, C, 4]``: the side leads to a cell of the grid (border sides never do;
            they are always closed, so a probe is not scored on them).
        dist: ``int32[n, R, C]``: moves from each cell to the target.
        on_path: ``bool[n, R, C]``: the cell lies on a shortest origin-to-target path.
        origin, target: ``int64[n, 2]`` cells.
        paths: per task ``int64[m_i + 1, 2]``: the canonical shortest path (origin first).
        moves: per task ``int64[m_i]``: its moves (actions).
    """

    shape: tuple[int, int]
    open: np.ndarray
    inside: np.ndarray
    dist: np.ndarray
    on_path: np.ndarray
    origin: np.ndarray
    target: np.ndarray
    paths: list[np.ndarray]
    moves: list[np.ndarray]

    @property
    def n(self) -> int:
        return len(self.paths)

    def sides_code(self) -> np.ndarray:
        """``int64[n, R, C]``: the open sides as a 4-bit number (1 up, 2 right, 4 down, 8 left),
        the code of the grid scheme's cell tokens."""
        return (self.open.astype(np.int64) * (1 << np.arange(4))).sum(-1)

    def passages(self) -> np.ndarray:
        """``bool[n, P]``: each inner passage open (``P = R (C - 1) + (R - 1) C``: every cell's
        right side but the last column's, then every cell's down side but the last row's), the
        whole maze as one vector per task."""
        R, C = self.shape
        right = self.open[:, :, : C - 1, 1].reshape(self.n, -1)
        down = self.open[:, : R - 1, :, 2].reshape(self.n, -1)
        return np.concatenate([right, down], axis=1)

    def target_cells(self) -> np.ndarray:
        """``bool[n, R * C]``: one-hot of each task's target cell (raster order)."""
        R, C = self.shape
        out = np.zeros((self.n, R * C), dtype=bool)
        out[np.arange(self.n), self.target[:, 0] * C + self.target[:, 1]] = True
        return out

    def cell_types(self) -> np.ndarray:
        """``int64[n, R, C]``: a cell's local input, 0..63: its sides code plus 16 if it is the
        origin and 32 if it is the target (what a grid-scheme cell token says, and what a
        recurrent net's input window at the cell shows)."""
        t = self.sides_code()
        idx = np.arange(self.n)
        t[idx, self.origin[:, 0], self.origin[:, 1]] += 16
        t[idx, self.target[:, 0], self.target[:, 1]] += 32
        return t


def check_tasks(tasks: Sequence[Task]) -> tuple[int, int]:
    """The tasks' common shape; ``ValueError`` for no tasks, mixed shapes or origin == target."""
    if not tasks:
        raise ValueError("no tasks to inspect (the suite is empty; raise --n)")
    shapes = {t.maze.shape for t in tasks}
    if len(shapes) > 1:
        raise ValueError(
            f"inspect needs one maze shape per suite (probe rows must be comparable), got {sorted(shapes)}"
        )
    for i, t in enumerate(tasks):
        if t.origin == t.target:
            raise ValueError(f"task {i}: origin == target {t.origin}; there is no path to probe")
    return next(iter(shapes))


def truth_of(tasks: Sequence[Task]) -> Truth:
    """:class:`Truth` of ``tasks`` (one shape, every target reachable, origin != target)."""
    shape = check_tasks(tasks)
    R, C = shape
    n = len(tasks)
    opened = np.stack([t.maze.open_moves() for t in tasks])
    dist = np.zeros((n, R, C), dtype=np.int32)
    on_path = np.zeros((n, R, C), dtype=bool)
    paths, moves = [], []
    for i, t in enumerate(tasks):
        to_o, to_t = task_distances(t)
        length = int(to_t[t.origin])
        if length < 0 or (to_t < 0).any():
            raise ValueError(f"task {i}: not every cell reaches the target (inspect needs connected mazes)")
        dist[i] = to_t
        on_path[i] = to_o + to_t == length
        cells = np.asarray(shortest_path(t.maze, t.origin, t.target), dtype=np.int64)
        paths.append(cells)
        moves.append(moves_of(cells))
    inside = np.ones((R, C, 4), dtype=bool)
    inside[0, :, 0] = inside[:, -1, 1] = inside[-1, :, 2] = inside[:, 0, 3] = False
    return Truth(
        shape=(R, C), open=opened, inside=inside, dist=dist, on_path=on_path,
        origin=np.array([t.origin for t in tasks], dtype=np.int64),
        target=np.array([t.target for t in tasks], dtype=np.int64), paths=paths, moves=moves,
    )  # fmt: skip


def moves_of(cells: np.ndarray) -> np.ndarray:
    """``int64[m]`` actions of a path ``int[m + 1, 2]`` of single moves."""
    d = np.diff(np.asarray(cells, dtype=np.int64), axis=0)
    hit = (d[:, None, :] == ACTION_DELTAS[None]).all(-1)  # [m, 4]
    if len(d) and not hit.any(1).all():
        raise ValueError("a path step is not a single move")
    return hit.argmax(1).astype(np.int64)

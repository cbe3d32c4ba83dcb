"""One implementation of every metric, applied to every agent: judging, per-task metrics, aggregates.

Judging (:func:`judge_trajectory`) replays a trajectory against the maze with the env's rules.
Each move ``cells[i] -> cells[i + 1]`` is classified as legal (a passage between adjacent cells)
or invalid: ``"wall"`` (adjacent, no passage, including bumping into a wall that leaves the cell
unchanged: ``"stay"``), ``"diagonal"`` (a corner jump), ``"jump"`` (farther), ``"outside"`` (a cell
off the grid); a trajectory not starting at the origin is invalid from the ``"start"``. The
sequence is first cut at its first arrival at the target (the episode ends there). The **judged
path** is the longest valid prefix: the first invalid move ends the trajectory for judging.

All distances come from :mod:`maze_env.solve` (the one home of BFS). With several shortest paths
(mazes with loops), "the optimal path" is the shortest path sharing the most cells with the
judged path (:func:`best_reference_path`); ties, and the case of no shared cell, fall to the first
move in action order, which is ``maze_env.solve.shortest_path``'s canonical path.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from agents.base import Trajectory
from agents.search.graph import maze_neighbors_fn
from maze_env import Maze, Task
from maze_env.placement import Placement, parse_placement
from maze_env.solve import forks, task_distances
from maze_env.types import ACTION_OF_DELTA as _DELTA_ACTION  # the one home of this map
from maze_env.types import Coord

Z_95 = 1.959963984540054
"""The standard normal quantile for two-sided 95% intervals."""


@dataclass(frozen=True)
class Judgement:
    """A trajectory replayed against its maze (see the module docstring).

    Attributes:
        path: the judged path: the valid prefix, cut at the first arrival at the target.
        reached: the judged path ends at the target.
        n_steps: moves in the trajectory (after cutting at the target).
        n_valid_steps: those moves that are individually legal (counted past the first invalid;
            a wrong start is not a move: it shows in ``first_invalid_step``/``invalid_kind`` only).
        first_invalid_step: index ``i`` of the first invalid move ``cells[i] -> cells[i+1]``
            (``0`` with kind ``"start"`` if the trajectory does not begin at the origin); ``None``.
        invalid_kind: ``"start"``, ``"stay"``, ``"wall"``, ``"diagonal"``, ``"jump"``,
            ``"outside"``, or ``None``.
        corner_jumps: diagonal moves among all ``n_steps`` moves.
    """

    path: tuple[Coord, ...]
    reached: bool
    n_steps: int
    n_valid_steps: int
    first_invalid_step: int | None
    invalid_kind: str | None
    corner_jumps: int


def classify_move(maze: Maze, a: Coord, b: Coord) -> str:
    """``"ok"`` for a move through a passage; else why it is invalid (see :class:`Judgement`)."""
    return _classify(maze.open_moves().tolist(), maze.shape, a, b)


def _classify(moves: list, shape: tuple[int, int], a: Coord, b: Coord) -> str:
    rows, cols = shape
    if not (0 <= a[0] < rows and 0 <= a[1] < cols and 0 <= b[0] < rows and 0 <= b[1] < cols):
        return "outside"
    dr, dc = b[0] - a[0], b[1] - a[1]
    action = _DELTA_ACTION.get((dr, dc))
    if action is not None:
        return "ok" if moves[a[0]][a[1]][action] else "wall"
    if dr == 0 and dc == 0:
        return "stay"
    return "diagonal" if abs(dr) == 1 and abs(dc) == 1 else "jump"


def judge_trajectory(task: Task, trajectory: Trajectory | Sequence[Coord]) -> Judgement:
    """Replay ``trajectory`` on ``task.maze``: the judged path, validity and corner jumps.

    Definitions are in :class:`Judgement`. Accepts a :class:`Trajectory` or a sequence of cells.
    """
    cells = [(int(r), int(c)) for r, c in getattr(trajectory, "cells", trajectory)]
    if task.target in cells:
        cells = cells[: cells.index(task.target) + 1]
    moves, shape = task.maze.open_moves().tolist(), task.maze.shape
    kinds = [_classify(moves, shape, a, b) for a, b in zip(cells, cells[1:], strict=False)]
    n_valid = sum(k == "ok" for k in kinds)
    corner = sum(k == "diagonal" for k in kinds)
    if not cells or cells[0] != task.origin:
        path: tuple[Coord, ...] = (task.origin,)
        first, kind = 0, "start"
    else:
        first = next((i for i, k in enumerate(kinds) if k != "ok"), None)
        kind = None if first is None else kinds[first]
        path = tuple(cells if first is None else cells[: first + 1])
    return Judgement(path, path[-1] == task.target, len(kinds), n_valid, first, kind, corner)


def count_backtracks(path: Sequence[Coord]) -> tuple[int, int]:
    """``(backtracks, revisits)`` of a path.

    A backtrack is a move straight back to the previous cell (``path[i+1] == path[i-1]``); a
    revisit is any move into a cell already on the path (backtracks included).
    """
    back = sum(1 for i in range(1, len(path) - 1) if path[i + 1] == path[i - 1])
    seen, revisits = set(), 0
    for cell in path:
        revisits += cell in seen
        seen.add(cell)
    return back, revisits


def best_reference_path(
    maze: Maze, visited: Iterable[Coord], to_origin: np.ndarray, to_target: np.ndarray
) -> tuple[Coord, ...] | None:
    """The shortest origin-target path sharing the most cells with ``visited``.

    Dynamic programming over the DAG of shortest paths (cells ``c`` with ``d(o, c) + d(c, t) =
    d(o, t)``), from the target outwards; the path is then read from the origin, taking at each
    step the best successor, the first in action order among equals.

    Args:
        maze: the maze.
        visited: cells the agent visited.
        to_origin: ``int32[R, C]`` BFS distances from the origin.
        to_target: ``int32[R, C]`` BFS distances from the target.

    Returns:
        The path (origin and target included), or ``None`` if the target is unreachable.
    """
    origin = tuple(int(v) for v in np.argwhere(to_origin == 0)[0])
    d_star = int(to_target[origin])
    if d_star < 0:
        return None
    on_dag = (to_origin >= 0) & (to_origin + to_target == d_star)
    if np.count_nonzero(on_dag) == d_star + 1:  # one cell per layer: a unique shortest path
        cells = np.argwhere(on_dag)
        order = np.argsort(to_origin[on_dag], kind="stable")
        return tuple((r, c) for r, c in cells[order].tolist())
    weight = set(visited)
    neighbors = maze_neighbors_fn(maze)
    best: dict[Coord, int] = {}
    cells = sorted(map(tuple, np.argwhere(on_dag).tolist()), key=lambda rc: to_target[rc])
    for cell in cells:
        succ = [
            best[nb]
            for nb in neighbors(cell)
            if nb in best and to_target[nb] == to_target[cell] - 1
        ]
        best[cell] = (cell in weight) + (max(succ) if succ else 0)
    path = [origin]
    while to_target[path[-1]] > 0:
        here = path[-1]
        options = [
            nb for nb in neighbors(here) if nb in best and to_target[nb] == to_target[here] - 1
        ]
        path.append(max(options, key=lambda nb: best[nb]))  # max keeps the first of equals
    return tuple(path)


def reference_path(
    task: Task,
    visited: Iterable[Coord] = (),
    distances: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[Coord, ...] | None:
    """The optimal path the metrics judge ``visited`` against: :func:`best_reference_path` of
    ``task`` (with no ``visited``: the canonical shortest path, first move in action order).

    Args:
        task: the task.
        visited: cells the agent visited (the judged path).
        distances: ``(to_origin, to_target)`` from :func:`maze_env.solve.task_distances`, when the
            caller has them already (else computed here).

    Returns:
        The path (origin and target included), or ``None`` if the target is unreachable.
    """
    to_origin, to_target = task_distances(task) if distances is None else distances
    return best_reference_path(task.maze, visited, to_origin, to_target)


def node_overlap(path: Sequence[Coord], reference: Sequence[Coord]) -> float:
    """Shared unique cells / unique cells of ``reference`` (the optimal path), in [0, 1]."""
    ref = set(reference)
    return len(ref & set(path)) / len(ref)


def fork_decisions(
    maze: Maze, path: Sequence[Coord], reference: Sequence[Coord], to_target: np.ndarray
) -> tuple[int, int, int]:
    """``(n_forks, n_decisions, n_correct)`` of ``path`` at the forks of the optimal ``reference``.

    A fork is a cell of ``reference`` other than the target with more than one open move besides
    the one it is entered by (``maze_env.solve.forks``). The agent decides at a fork when its
    judged path visits it and moves on; the decision is the move after its first visit, and it
    is correct when it leads one step closer to the target (``d(next, t) = d(fork, t) - 1``: onto
    some shortest path). Fork accuracy is ``n_correct / n_decisions``; forks never reached, or
    where the judged path ends, are not decisions.
    """
    first_visit: dict[Coord, int] = {}
    for i, cell in enumerate(path):
        first_visit.setdefault(cell, i)
    fork_cells = [reference[i] for i in forks(maze, reference) if i < len(reference) - 1]
    n_decisions = n_correct = 0
    for cell in fork_cells:
        i = first_visit.get(cell)
        if i is None or i + 1 >= len(path):
            continue
        n_decisions += 1
        n_correct += bool(to_target[path[i + 1]] == to_target[cell] - 1)
    return len(fork_cells), n_decisions, n_correct


FAILURE_KINDS = {
    "wrong_turn": "wrong turn at a fork",
    "turned_back": "turned back in a corridor",
    "stopped": "stopped on a shortest path",
    "wall": "crossed a wall",
    "stay": "bumped into a wall",
    "diagonal": "corner jump",
    "jump": "jumped over cells",
    "outside": "left the grid",
    "start": "wrong start",
}
"""A failed task's first error (:func:`failure_kind`) and how the report names it."""


def failure_kind(
    maze: Maze, judged: Judgement, to_target: np.ndarray, exact: bool
) -> str | None:
    """The first error of a failed (not exact) trajectory; ``None`` for an exact one.

    Walking the judged path, the first move that does not bring the agent one step closer to the
    target (``d(next, t) != d(cell, t) - 1``) is ``"wrong_turn"`` when taken at a fork (a cell with
    another open move besides the one it was entered by; at the origin, more than one open move)
    and ``"turned_back"`` otherwise. Without such a move, the first invalid move's kind
    (:class:`Judgement`: ``"wall"``, ``"jump"``...) if there is one, else ``"stopped"``: every
    move was right but the agent stopped (gave up, ran out of moves) before the target. On a maze
    whose target cannot be reached, the invalid kind or ``"stopped"``.
    """
    if exact:
        return None
    path = judged.path
    if int(to_target[path[0]]) >= 0:
        moves = maze.open_moves()
        for i, (a, b) in enumerate(zip(path, path[1:], strict=False)):
            if to_target[b] != to_target[a] - 1:
                degree = int(moves[a].sum())
                return "wrong_turn" if degree > (1 if i == 0 else 2) else "turned_back"
    return judged.invalid_kind or "stopped"


def region_mask(region: np.ndarray | str | Placement, maze: Maze) -> np.ndarray:
    """``bool[R, C]`` from a mask or a placement spec such as ``"region:br:2"``."""
    if isinstance(region, np.ndarray):
        mask = region.astype(bool)
        if mask.shape != maze.shape:
            raise ValueError(
                f"region mask has shape {mask.shape}; it must match the maze, {maze.shape}"
            )
        return mask
    return parse_placement(region).mask(maze.shape, maze)


def region_visits(
    path: Sequence[Coord],
    reached: bool,
    mask: np.ndarray,
    to_origin: np.ndarray,
    to_target: np.ndarray,
) -> tuple[bool, bool]:
    """``(went_to_region, ended_in_region)`` for target-shift suites.

    ``went_to_region``: after leaving the origin, the judged path entered a region cell that lies on
    no shortest origin-target path (a detour into the region; an optimal agent scores False), or it
    ended in the region without reaching the target. ``ended_in_region``: the latter alone.
    """
    d_star = int(to_target[path[0]])
    ended = bool(mask[path[-1]]) and not reached
    detour = any(
        mask[cell] and (d_star < 0 or to_origin[cell] + to_target[cell] != d_star)
        for cell in path[1:]
    )
    return detour or ended, ended


@dataclass(frozen=True)
class TaskMetrics:
    """Every metric of one (agent, task); JSON-serialisable via :meth:`to_dict`.

    Attributes:
        reached: the judged path ends at the target.
        exact: reached with ``path_length == optimal_length`` (so it is a shortest path; with
            loops, any of them).
        optimal_length: shortest-path moves origin to target (``None`` if unreachable).
        path_length: moves in the judged path.
        length_ratio: ``path_length / optimal_length`` when reached (1.0 if both are 0); else None.
        node_overlap: :func:`node_overlap` of the judged path with the best-matching shortest path.
        fork_accuracy: ``n_fork_correct / n_fork_decisions`` (:func:`fork_decisions`); None if no decision.
        n_forks, n_fork_decisions, n_fork_correct: the counts behind ``fork_accuracy``.
        n_steps: moves in the trajectory (cut at the target).
        valid_steps_fraction: individually legal moves / ``n_steps`` (1.0 for no move).
        first_invalid_step, invalid_kind: see :class:`Judgement`.
        backtracks, revisits: :func:`count_backtracks` of the judged path.
        corner_jumps: diagonal moves.
        end_distance: shortest-path moves from the judged path's last cell to the target (None if
            unreachable); 0 when reached.
        went_to_region, ended_in_region: :func:`region_visits` (None without a region).
        gave_up, nodes_expanded, forward_passes, seconds: copied from the trajectory (cost).
        failure_kind: :func:`failure_kind` (None when exact; also None in rows written before
            this field existed).
        cannot_read: the agent could not take the task in at all (its trajectory's
            ``extra["cannot_read"]``: e.g. a token model whose vocabulary or context cannot hold
            the maze); the report shows "cannot read" instead of a rate where every task is so.
    """

    reached: bool
    exact: bool
    optimal_length: int | None
    path_length: int
    length_ratio: float | None
    node_overlap: float | None
    fork_accuracy: float | None
    n_forks: int
    n_fork_decisions: int
    n_fork_correct: int
    n_steps: int
    valid_steps_fraction: float
    first_invalid_step: int | None
    invalid_kind: str | None
    backtracks: int
    revisits: int
    corner_jumps: int
    end_distance: int | None
    went_to_region: bool | None
    ended_in_region: bool | None
    gave_up: bool
    nodes_expanded: int
    forward_passes: int
    seconds: float
    failure_kind: str | None = None
    cannot_read: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TaskMetrics:
        names = {f.name for f in fields(cls)}
        missing = names - set(data) - {"failure_kind", "cannot_read"}
        if missing:
            raise ValueError(f"TaskMetrics.from_dict: missing fields {sorted(missing)}")
        return cls(**{k: data[k] for k in names if k in data})


def compute_metrics(
    task: Task,
    trajectory: Trajectory | Sequence[Coord],
    *,
    region: np.ndarray | str | Placement | None = None,
) -> TaskMetrics:
    """Judge ``trajectory`` on ``task`` and compute every :class:`TaskMetrics` field.

    Args:
        task: the task.
        trajectory: a :class:`Trajectory` (counters are copied) or a sequence of cells.
        region: the training-time target region of a target-shift suite (a ``bool[R, C]`` mask or
            a placement spec such as ``"region:br:2"``); ``None`` leaves the region fields None.
    """
    maze = task.maze
    judged = judge_trajectory(task, trajectory)
    path = judged.path
    to_origin, to_target = task_distances(task)
    d_star = int(to_target[task.origin])
    optimal = d_star if d_star >= 0 else None
    moves = len(path) - 1
    reference = reference_path(task, path, (to_origin, to_target)) if optimal is not None else None
    n_forks, n_dec, n_ok = (
        fork_decisions(maze, path, reference, to_target) if reference else (0, 0, 0)
    )
    back, revisits = count_backtracks(path)
    end = int(to_target[path[-1]])
    went = ended = None
    if region is not None:
        went, ended = region_visits(
            path, judged.reached, region_mask(region, maze), to_origin, to_target
        )
    ratio = None
    if judged.reached and optimal is not None:
        ratio = moves / optimal if optimal > 0 else 1.0
    exact = judged.reached and moves == optimal
    return TaskMetrics(
        reached=judged.reached,
        exact=exact,
        optimal_length=optimal,
        path_length=moves,
        length_ratio=ratio,
        node_overlap=node_overlap(path, reference) if reference else None,
        fork_accuracy=n_ok / n_dec if n_dec else None,
        n_forks=n_forks,
        n_fork_decisions=n_dec,
        n_fork_correct=n_ok,
        n_steps=judged.n_steps,
        valid_steps_fraction=judged.n_valid_steps / judged.n_steps if judged.n_steps else 1.0,
        first_invalid_step=judged.first_invalid_step,
        invalid_kind=judged.invalid_kind,
        backtracks=back,
        revisits=revisits,
        corner_jumps=judged.corner_jumps,
        end_distance=end if end >= 0 else None,
        went_to_region=went,
        ended_in_region=ended,
        gave_up=bool(getattr(trajectory, "gave_up", False)),
        nodes_expanded=int(getattr(trajectory, "nodes_expanded", 0)),
        forward_passes=int(getattr(trajectory, "forward_passes", 0)),
        seconds=float(getattr(trajectory, "seconds", 0.0)),
        failure_kind=failure_kind(maze, judged, to_target, exact),
        cannot_read=bool((getattr(trajectory, "extra", None) or {}).get("cannot_read")),
    )


def wilson_interval(k: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials (Wilson 1927).

    Preferred to the normal approximation because it stays inside [0, 1] and behaves at 0% and
    100%, where agents often sit. Returns ``(nan, nan)`` for ``n == 0``.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (0.0 if k <= 0 else max(0.0, centre - half), 1.0 if k >= n else min(1.0, centre + half))


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, z: float = Z_95
) -> tuple[float, float, float]:
    """``(d, low, high)``: the difference ``d = k2/n2 - k1/n1`` of two independent rates and its
    95% interval by Newcombe's hybrid score method (Newcombe 1998, method 10), built from the two
    :func:`wilson_interval` s: ``low = d - sqrt((p2 - l2)^2 + (u1 - p1)^2)``, ``high = d +
    sqrt((u2 - p2)^2 + (p1 - l1)^2)``. Like Wilson's it behaves at 0% and 100%. ``(nan, nan,
    nan)`` when either ``n`` is 0."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan, math.nan)
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z)
    l2, u2 = wilson_interval(k2, n2, z)
    d = p2 - p1
    return (
        d,
        max(-1.0, d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)),
        min(1.0, d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)),
    )


RATE_FIELDS = (
    "reached", "exact", "gave_up", "invalid", "went_to_region", "ended_in_region", "cannot_read",
)
"""Booleans aggregated as rates with Wilson intervals (``invalid``: some move was invalid)."""

MEAN_FIELDS = (
    "length_ratio", "node_overlap", "fork_accuracy", "valid_steps_fraction", "path_length",
    "optimal_length", "n_steps", "first_invalid_step", "backtracks", "revisits", "corner_jumps",
    "end_distance", "nodes_expanded", "forward_passes", "seconds",
)  # fmt: skip
"""Numbers aggregated as means over the tasks where they are defined (not None)."""


def _rate(values: list[bool]) -> dict[str, Any]:
    n, k = len(values), sum(values)
    low, high = wilson_interval(k, n)
    return {"mean": k / n if n else None, "k": k, "n": n,
            "low": None if n == 0 else low, "high": None if n == 0 else high}  # fmt: skip


def aggregate(metrics: Sequence[TaskMetrics | Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate per-task metrics (of one agent on one suite).

    Returns:
        ``{"n_tasks": N, <rate>: {"mean", "k", "n", "low", "high"}, <mean>: {"mean", "n"},
        "fork_accuracy_pooled": <rate>, "failure_kinds": {kind: count}}``: rates
        (:data:`RATE_FIELDS`) with 95% Wilson intervals over the tasks where they are defined; means (:data:`MEAN_FIELDS`) over the tasks where the
        value is not None (``mean`` is None when there is none); ``fork_accuracy_pooled`` is all
        correct fork decisions over all decisions. ``seconds_total`` sums the wall time.
    """
    rows = [m if isinstance(m, TaskMetrics) else TaskMetrics.from_dict(m) for m in metrics]
    out: dict[str, Any] = {"n_tasks": len(rows)}
    for name in RATE_FIELDS:
        if name == "invalid":
            values = [m.first_invalid_step is not None for m in rows]
        else:
            values = [bool(getattr(m, name)) for m in rows if getattr(m, name) is not None]
        out[name] = _rate(values)
    for name in MEAN_FIELDS:
        values = [float(getattr(m, name)) for m in rows if getattr(m, name) is not None]
        out[name] = {"mean": float(np.mean(values)) if values else None, "n": len(values)}
    decisions = sum(m.n_fork_decisions for m in rows)
    correct = sum(m.n_fork_correct for m in rows)
    out["fork_accuracy_pooled"] = _rate([True] * correct + [False] * (decisions - correct))
    kinds: dict[str, int] = {}
    for m in rows:
        if m.failure_kind is not None:
            kinds[m.failure_kind] = kinds.get(m.failure_kind, 0) + 1
    out["failure_kinds"] = dict(sorted(kinds.items()))
    out["seconds_total"] = float(sum(m.seconds for m in rows))
    return out

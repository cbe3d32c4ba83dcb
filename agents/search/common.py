"""Helpers every search agent shares: names, per-task seeds, trajectories, batching by shape.

Randomised agents never keep a random state between tasks: each task gets its own stream, derived
from the agent's ``seed`` and the task's content (:func:`task_seed`), so a result does not depend on
the order of the tasks, on which other tasks were in the batch, or on how a run was split across
processes.
"""

from __future__ import annotations

import functools
import hashlib
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.base import Trajectory
from maze_env import Task
from maze_env.types import ACTION_OF_DELTA as _ACTION_OF_DELTA  # the one home of these maps
from maze_env.types import ACTION_OF_DELTA_CODE as _ACTION_OF_CODE
from maze_env.types import Coord


def format_name(base: str, params: dict[str, Any], defaults: dict[str, Any]) -> str:
    """``"mcts(simulations=200)"``: the base name plus every parameter that differs from its default.

    Callables are written by their ``__name__`` (``astar(heuristic_fn=zero)``).
    """
    changed = []
    for key, value in params.items():
        if key in defaults and value is defaults[key]:
            continue
        if key in defaults and not callable(value) and value == defaults[key]:
            continue
        shown = getattr(value, "__name__", None) if callable(value) else None
        changed.append(f"{key}={shown or repr(value)}")
    return f"{base}({', '.join(changed)})" if changed else base


def task_seed(seed: int, task: Task) -> int:
    """A 64-bit seed for one task: sha256 of the agent seed, the maze's content hash and the ends.

    Args:
        seed: the agent's ``seed`` parameter (a non-negative int).
        task: the task being solved.

    Returns:
        An int in ``[0, 2**64)``, the same on every machine and in every process.
    """
    check_seed(seed)
    text = f"{int(seed)}|{task.maze.content_hash()}|{task.origin}|{task.target}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def check_seed(seed: Any) -> int:
    """Return ``seed`` as an int, or raise ``ValueError`` unless it is a non-negative int."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


def task_random(seed: int, task: Task) -> random.Random:
    """A private ``random.Random`` for one task (see :func:`task_seed`); never the global one."""
    return random.Random(task_seed(seed, task))


def actions_of(cells: Sequence[Coord]) -> tuple[int, ...]:
    """Action ids between consecutive cells (-1 where two cells are not adjacent)."""
    get = _ACTION_OF_DELTA.get  # a list comprehension over unpacked pairs: the fastest plain form
    return tuple(
        [get((r1 - r0, c1 - c0), -1) for (r0, c0), (r1, c1) in zip(cells, cells[1:], strict=False)]
    )


def make_trajectory(cells: Sequence[Coord], **counters: Any) -> Trajectory:
    """A :class:`Trajectory` over ``cells`` (tuples of ints), with actions derived quickly."""
    cells = tuple(cells)
    return Trajectory(cells=cells, actions=actions_of(cells), **counters)


def group_by_shape(tasks: Sequence[Task]) -> dict[tuple[int, int], list[int]]:
    """Indices of ``tasks`` grouped by maze shape, so each group stacks into one array."""
    groups: dict[tuple[int, int], list[int]] = {}
    for i, task in enumerate(tasks):
        groups.setdefault(task.maze.shape, []).append(i)
    return groups


def stack_tasks(tasks: Sequence[Task]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(conn: bool[N, 2, R, C], origins: int64[N, 2], targets: int64[N, 2])`` of same-shape tasks."""
    conn = np.stack([t.maze.connections for t in tasks])
    origins = np.array([t.origin for t in tasks], dtype=np.int64).reshape(len(tasks), 2)
    targets = np.array([t.target for t in tasks], dtype=np.int64).reshape(len(tasks), 2)
    return conn, origins, targets


def tiny_batch() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A one-cell batch ``(conn, origins, targets)`` with the dtypes of :func:`stack_tasks`.

    Kernels are called on it once per process before timing anything, so the numba compile (or
    cache load) is not billed to the first task's ``seconds``.
    """
    return (
        np.zeros((1, 2, 1, 1), dtype=bool),
        np.zeros((1, 2), np.int64),
        np.zeros((1, 2), np.int64),
    )


@functools.lru_cache(maxsize=64)
def _coords(rows: int, cols: int) -> tuple[tuple[int, int], ...]:
    """Cell tuples by flat index ``r * cols + c`` (shared, so paths reuse the same tuples)."""
    return tuple((r, c) for r in range(rows) for c in range(cols))


def trajectories_from_arrays(
    tasks: Sequence[Task],
    paths: np.ndarray,
    lengths: np.ndarray,
    expanded: np.ndarray,
    seconds: float,
    extra: dict[str, np.ndarray] | None = None,
) -> list[Trajectory]:
    """Turn kernel outputs into trajectories; ``seconds`` is split evenly over the tasks.

    Args:
        tasks: the tasks, in kernel order.
        paths: ``int[N, L, 2]``, path ``i`` at ``paths[i, :lengths[i]]``.
        lengths: ``int[N]``; 0 where the target was unreachable (the trajectory is the origin only,
            with ``gave_up=True``).
        expanded: ``int[N]`` nodes expanded.
        seconds: wall time of the whole batch.
        extra: per-task ``int[N]`` counters for ``Trajectory.extra``.
    """
    per_task = seconds / max(len(tasks), 1)
    lengths = np.asarray(lengths, dtype=np.int64)
    cols = tasks[0].maze.shape[1] if tasks else 1
    coords = _coords(*tasks[0].maze.shape) if tasks else ()
    paths = paths[:, : max(int(lengths.max(initial=0)), 1)].astype(np.int64)  # (N, L, 2), trimmed
    steps = np.arange(paths.shape[1])
    flat = paths[..., 0] * cols + paths[..., 1]  # (N, L) flat cell indices
    cells_flat = list(map(coords.__getitem__, flat[steps < lengths[:, None]].tolist()))
    delta = paths[:, 1:] - paths[:, :-1]  # (N, L-1, 2)
    codes = (delta[..., 0] + 1) * 3 + delta[..., 1] + 1
    actions_flat = _ACTION_OF_CODE[codes[steps[:-1] < lengths[:, None] - 1]].tolist()
    n_list = lengths.tolist()
    cell_ends = np.cumsum(lengths).tolist()
    action_ends = np.cumsum(np.maximum(lengths - 1, 0)).tolist()
    extras = (
        [
            dict(zip(extra, row, strict=True))
            for row in zip(*(v.tolist() for v in extra.values()), strict=True)
        ]
        if extra
        else None
    )
    out = []
    for i, (task, n, n_exp) in enumerate(zip(tasks, n_list, expanded.tolist(), strict=True)):
        c1, a1 = cell_ends[i], action_ends[i]
        out.append(
            Trajectory(
                cells=tuple(cells_flat[c1 - n : c1]) if n else (task.origin,),
                actions=tuple(actions_flat[a1 - n + 1 : a1]) if n else (),
                nodes_expanded=n_exp,
                seconds=per_task,
                gave_up=n == 0,
                extra=extras[i] if extras else {},
            )
        )
    return out


def check_positive(name: str, value: Any, *, allow_none: bool = False) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive int (or None if allowed)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be a positive int{extra}, got {value!r}")

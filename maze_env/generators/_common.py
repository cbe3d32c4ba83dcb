"""Helpers shared by the generator kernels: moves on the lattice, random bits, union-find, checks.

Cells are numbered row-major (``cell = r * cols + c``); directions are in action order
(0 up, 1 right, 2 down, 3 left). Every helper that draws randomness takes the maze's own stream
state (``uint64[1]``, see :mod:`maze_env.rng`), never a global one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from maze_env.rng import next_u64

DR = np.array([-1, 0, 1, 0], dtype=np.int64)
"""``int64[4]``: row offset of each direction (up, right, down, left)."""
DC = np.array([0, 1, 0, -1], dtype=np.int64)
"""``int64[4]``: column offset of each direction (up, right, down, left)."""


@njit(cache=True, inline="always")
def carve(conn: np.ndarray, r: int, c: int, d: int) -> None:
    """Open the passage from ``(r, c)`` in direction ``d`` of ``conn: bool[2, R, C]``."""
    if d == 0:
        conn[0, r - 1, c] = True
    elif d == 1:
        conn[1, r, c] = True
    elif d == 2:
        conn[0, r, c] = True
    else:
        conn[1, r, c - 1] = True


@njit(cache=True, inline="always")
def is_open(conn: np.ndarray, r: int, c: int, d: int) -> bool:
    """Whether the passage from ``(r, c)`` in direction ``d`` is open (``d`` must stay in the grid)."""
    if d == 0:
        return conn[0, r - 1, c]
    if d == 1:
        return conn[1, r, c]
    if d == 2:
        return conn[0, r, c]
    return conn[1, r, c - 1]


@njit(cache=True, inline="always")
def inside(rows: int, cols: int, r: int, c: int) -> bool:
    """Whether ``(r, c)`` is a cell of a ``rows x cols`` grid."""
    return 0 <= r < rows and 0 <= c < cols


@njit(cache=True, inline="always")
def degree(conn: np.ndarray, rows: int, cols: int, r: int, c: int) -> int:
    """The number of open passages at ``(r, c)``."""
    k = 0
    for d in range(4):
        if inside(rows, cols, r + DR[d], c + DC[d]) and is_open(conn, r, c, d):
            k += 1
    return k


@njit(cache=True, inline="always")
def rand_bits2(state: np.ndarray, bits: np.uint64, n_bits: int) -> tuple[int, np.uint64, int]:
    """Two random bits, 32 per 64-bit draw: ``d, bits, n_bits = rand_bits2(state, bits, n_bits)``.

    ``bits`` holds the unused bits and ``n_bits`` how many 2-bit chunks remain; kernels keep them
    in local variables (much faster than an array) and start every maze with ``n_bits = 0`` so
    that each maze depends on its own stream only.

    Returns:
        ``(d, bits, n_bits)``: ``d`` uniform in ``[0, 4)`` and the updated pool.
    """
    if n_bits == 0:
        bits = next_u64(state)
        n_bits = 32
    return np.int64(bits & np.uint64(3)), bits >> np.uint64(2), n_bits - 1


@njit(cache=True)
def neighbor_table(rows: int, cols: int) -> np.ndarray:
    """``int64[R*C, 4]``: the neighbour of each cell in each direction, -1 off the grid."""
    nbr = np.full((rows * cols, 4), -1, dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            for d in range(4):
                if inside(rows, cols, r + DR[d], c + DC[d]):
                    nbr[r * cols + c, d] = (r + DR[d]) * cols + c + DC[d]
    return nbr


@njit(cache=True, inline="always")
def uf_find(parent: np.ndarray, x: int) -> int:
    """Root of ``x`` in the union-find forest ``parent: int64[n]`` (path halving)."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, inline="always")
def edge_cells(e: int, rows: int, cols: int) -> tuple[int, int, int]:
    """Edge index ``e`` as ``(r, c, d)``: the cell above or left of it and direction 2 or 1.

    Edges ``[0, (rows - 1) * cols)`` are the down passages in row-major order, then the
    ``rows * (cols - 1)`` right passages in row-major order.
    """
    n_down = (rows - 1) * cols
    if e < n_down:
        return e // cols, e % cols, 2
    e -= n_down
    return e // (cols - 1), e % (cols - 1), 1


# -- parameter checks (Python side) ---------------------------------------------------------------


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float in ``[0, 1]``, or a ``ValueError`` naming the parameter."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"{name} must be a probability, a float in [0, 1], got {value!r}")
    value = float(value)
    if not (0.0 <= value <= 1.0):  # also rejects nan
        raise ValueError(f"{name} must be a probability, a float in [0, 1], got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed``, else a ``ValueError`` listing them."""
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` if it is a bool, else a ``ValueError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def count_or_fraction(name: str, value: Any, total: int, what: str) -> int | None:
    """maze-dataset's ``int | float | None`` convention: ``None``, a count, or a fraction of ``total``.

    Args:
        name: the parameter's name, for errors.
        value: ``None``; an int ``>= 0`` (a count); or a float in ``[0, 1]`` (a fraction).
        total: what a fraction is a fraction of.
        what: a few words naming ``total``, for errors.

    Returns:
        ``None``, the count, or ``int(value * total)`` (rounded down, as maze-dataset does).
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be None, an int >= 0 or a float in [0, 1], got {value!r}")
    if isinstance(value, (int, np.integer)):
        if value < 0:
            raise ValueError(f"{name} as an int is a count and must be >= 0, got {value}")
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not (0.0 <= value <= 1.0) or math.isnan(value):
            raise ValueError(
                f"{name} as a float is a fraction of {what} and must be in [0, 1], got {value!r}"
            )
        return int(float(value) * total)
    raise ValueError(f"{name} must be None, an int >= 0 or a float in [0, 1], got {value!r}")

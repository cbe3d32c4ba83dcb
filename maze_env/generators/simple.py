"""Fast perfect-maze generators with a visible bias: binary_tree, sidewinder, recursive_division.

Each kernel loops over the mazes of a batch inside numba; maze ``i`` draws only from the stream
``stream_state(key, start + i)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from maze_env.generators import register
from maze_env.generators._common import rand_bits2
from maze_env.rng import rand_below, stream_state
from maze_env.types import Shape


@njit(cache=True)
def _binary_tree_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    for i in range(n):
        state = stream_state(key, start + i)
        bits, n_bits = np.uint64(0), 0
        conn = out[i]
        for c in range(1, cols):
            conn[1, 0, c - 1] = True  # the top row is one corridor
        for r in range(1, rows):
            conn[0, r - 1, 0] = True  # and so is the left column
            for c in range(1, cols):
                b, bits, n_bits = rand_bits2(state, bits, n_bits)
                if b & 1:
                    conn[0, r - 1, c] = True  # up
                else:
                    conn[1, r, c - 1] = True  # left
    return out


@register(
    "binary_tree",
    summary="binary tree: every cell opens up or left at random; open top row and left column",
    guarantee="perfect",
)
def binary_tree(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Binary tree: each cell not in the top row or left column opens its up or its left passage
    with probability 1/2; the top row and the left column are straight corridors. Every path to
    the top-left corner goes only up and left (a strong diagonal bias).

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _binary_tree_kernel(shape[0], shape[1], n, np.uint64(key), start)


@njit(cache=True)
def _sidewinder_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    for i in range(n):
        state = stream_state(key, start + i)
        bits, n_bits = np.uint64(0), 0
        conn = out[i]
        for c in range(cols - 1):
            conn[1, 0, c] = True  # the top row is one corridor
        for r in range(1, rows):
            run_start = 0
            for c in range(cols):
                b = 1
                if c < cols - 1:
                    b, bits, n_bits = rand_bits2(state, bits, n_bits)
                if b & 1:
                    # close the run: one random cell of it opens upwards
                    k = run_start + (rand_below(state, c - run_start + 1) if c > run_start else 0)
                    conn[0, r - 1, k] = True
                    run_start = c + 1
                else:
                    conn[1, r, c] = True
    return out


@register(
    "sidewinder",
    summary="sidewinder: rows of random runs, each run opening upwards once; open top row",
    guarantee="perfect",
)
def sidewinder(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Sidewinder: the top row is a corridor; every other row is cut into runs of random length
    (each cell ends its run with probability 1/2) and each run opens upwards at one random cell.
    Paths to the top row never go down.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _sidewinder_kernel(shape[0], shape[1], n, np.uint64(key), start)


@njit(cache=True, inline="always")
def _put(regions: np.ndarray, k: int, y: int, x: int, h: int, w: int) -> None:
    """Store region ``(row, col, height, width)`` in row ``k`` of ``regions: int64[K, 4]``."""
    regions[k, 0] = y
    regions[k, 1] = x
    regions[k, 2] = h
    regions[k, 3] = w


@njit(cache=True)
def _recursive_division_kernel(
    rows: int, cols: int, n: int, key: np.uint64, start: int
) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    regions = np.empty((2 * n_cells + 1, 4), dtype=np.int64)  # (row, col, height, width)
    for i in range(n):
        state = stream_state(key, start + i)
        conn = out[i]
        conn[0, : rows - 1, :] = True
        conn[1, :, : cols - 1] = True
        _put(regions, 0, 0, 0, rows, cols)
        sp = 1
        while sp > 0:
            sp -= 1
            y, x, h, w = regions[sp, 0], regions[sp, 1], regions[sp, 2], regions[sp, 3]
            if w < 2 or h < 2:
                continue  # a corridor: already a tree
            if w > h:  # a vertical wall between columns wc - 1 and wc, with one gap
                wc = x + 1 + rand_below(state, w - 1)
                gap = y + rand_below(state, h)
                for row in range(y, y + h):
                    if row != gap:
                        conn[1, row, wc - 1] = False
                _put(regions, sp, y, wc, h, x + w - wc)
                _put(regions, sp + 1, y, x, h, wc - x)
            else:  # a horizontal wall between rows wr - 1 and wr, with one gap
                wr = y + 1 + rand_below(state, h - 1)
                gap = x + rand_below(state, w)
                for col in range(x, x + w):
                    if col != gap:
                        conn[0, wr - 1, col] = False
                _put(regions, sp, wr, x, y + h - wr, w)
                _put(regions, sp + 1, y, x, wr - y, w)
            sp += 2
    return out


@register(
    "recursive_division",
    summary="recursive division: split the open field by walls with one gap, recursively; long straight walls",
    guarantee="perfect",
)
def recursive_division(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Recursive division, as maze-dataset's ``gen_recursive_division``: start from the open field;
    split a region wider than tall by a vertical wall (else by a horizontal one) at a random
    position, leave one random gap in it, and recurse on both sides until regions are one cell
    thick.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _recursive_division_kernel(shape[0], shape[1], n, np.uint64(key), start)


__all__ = ["binary_tree", "sidewinder", "recursive_division"]

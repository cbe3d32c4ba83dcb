"""Perfect-maze generators (spanning trees of the grid graph)."""

from __future__ import annotations

import numpy as np
from numba import njit

from maze_env.generators import register
from maze_env.rng import rand_below, stream_state
from maze_env.types import Shape

# neighbour offsets in action order: up, right, down, left
_DR = np.array([-1, 0, 1, 0], dtype=np.int64)
_DC = np.array([0, 1, 0, -1], dtype=np.int64)


@njit(cache=True, inline="always")
def carve(conn: np.ndarray, r: int, c: int, d: int) -> None:
    """Open the passage from (r, c) in direction d (0 up, 1 right, 2 down, 3 left)."""
    if d == 0:
        conn[0, r - 1, c] = True
    elif d == 1:
        conn[1, r, c] = True
    elif d == 2:
        conn[0, r, c] = True
    else:
        conn[1, r, c - 1] = True


@njit(cache=True)
def _dfs_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    stack = np.empty(n_cells, dtype=np.int64)
    cand = np.empty(4, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        visited[:] = False
        first = rand_below(state, n_cells)
        visited[first] = True
        stack[0] = first
        sp = 1
        while sp > 0:
            cell = stack[sp - 1]
            r, c = cell // cols, cell % cols
            k = 0
            for d in range(4):
                nr, nc = r + _DR[d], c + _DC[d]
                if 0 <= nr < rows and 0 <= nc < cols and not visited[nr * cols + nc]:
                    cand[k] = d
                    k += 1
            if k == 0:
                sp -= 1
                continue
            d = cand[rand_below(state, k)]
            nr, nc = r + _DR[d], c + _DC[d]
            carve(out[i], r, c, d)
            visited[nr * cols + nc] = True
            stack[sp] = nr * cols + nc
            sp += 1
    return out


@register("dfs", summary="randomized depth-first search (recursive backtracker): long corridors, few forks", guarantee="perfect")
def dfs(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    return _dfs_kernel(shape[0], shape[1], n, np.uint64(key), start)

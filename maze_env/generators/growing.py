"""Perfect-maze generators that grow one tree cell by cell: prim, hunt_and_kill, growing_tree.

Each kernel loops over the mazes of a batch inside numba; maze ``i`` draws only from the stream
``stream_state(key, start + i)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from maze_env.generators import register
from maze_env.generators._common import DC, DR, carve, check_probability, inside
from maze_env.rng import rand_below, rand_float, stream_state
from maze_env.types import Shape


@njit(cache=True, inline="always")
def _unvisited_dirs(
    visited: np.ndarray, rows: int, cols: int, r: int, c: int, cand: np.ndarray, want: bool
) -> int:
    """Fill ``cand`` with the directions from ``(r, c)`` to cells whose ``visited`` is ``want``."""
    k = 0
    for d in range(4):
        nr, nc = r + DR[d], c + DC[d]
        if inside(rows, cols, nr, nc) and visited[nr * cols + nc] == want:
            cand[k] = d
            k += 1
    return k


@njit(cache=True)
def _prim_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    walls = np.empty(4 * n_cells, dtype=np.int64)  # frontier walls as cell * 4 + direction
    for i in range(n):
        state = stream_state(key, start + i)
        visited[:] = False
        cell = rand_below(state, n_cells)
        visited[cell] = True
        n_walls = 0
        while True:
            r, c = cell // cols, cell % cols
            for d in range(4):
                nr, nc = r + DR[d], c + DC[d]
                if inside(rows, cols, nr, nc) and not visited[nr * cols + nc]:
                    walls[n_walls] = cell * 4 + d
                    n_walls += 1
            cell = -1
            while n_walls > 0 and cell < 0:
                j = rand_below(state, n_walls)
                w = walls[j]
                walls[j] = walls[n_walls - 1]
                n_walls -= 1
                r, c, d = w // 4 // cols, w // 4 % cols, w % 4
                nxt = (r + DR[d]) * cols + c + DC[d]
                if not visited[nxt]:  # a wall whose far side joined meanwhile is dropped
                    carve(out[i], r, c, d)
                    visited[nxt] = True
                    cell = nxt
            if cell < 0:
                break
    return out


@register(
    "prim",
    summary="randomized Prim: a uniformly random frontier wall is opened at each step; short dead ends",
    guarantee="perfect",
)
def prim(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Randomized Prim: grow one tree from a random cell; at each step open a wall drawn uniformly
    from the walls between the tree and the cells outside it.

    maze-dataset's ``gen_prim`` is a dfs with a randomized stack (``dfs(randomized_stack=True)``
    here); this is the textbook algorithm.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _prim_kernel(shape[0], shape[1], n, np.uint64(key), start)


@njit(cache=True)
def _hunt_and_kill_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    row_left = np.empty(rows, dtype=np.int64)  # unvisited cells per row: the hunt skips full ones
    cand = np.empty(4, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        visited[:] = False
        row_left[:] = cols
        cell = rand_below(state, n_cells)
        visited[cell] = True
        row_left[cell // cols] -= 1
        n_visited, hunt_row = 1, 0
        while n_visited < n_cells:
            r, c = cell // cols, cell % cols
            k = _unvisited_dirs(visited, rows, cols, r, c, cand, False)
            if k == 0:
                # hunt: the first unvisited cell (row-major) next to the tree joins it
                while row_left[hunt_row] == 0:
                    hunt_row += 1
                for s in range(hunt_row * cols, n_cells):
                    if visited[s]:
                        continue
                    r, c = s // cols, s % cols
                    k = _unvisited_dirs(visited, rows, cols, r, c, cand, True)
                    if k > 0:
                        break
            d = cand[rand_below(state, k)] if k > 1 else cand[0]
            nr, nc = r + DR[d], c + DC[d]
            carve(out[i], r, c, d)
            # in a walk the new cell is (nr, nc); in a hunt it is (r, c), joined to the tree at (nr, nc)
            new = nr * cols + nc if not visited[nr * cols + nc] else r * cols + c
            visited[new] = True
            row_left[new // cols] -= 1
            n_visited += 1
            cell = new
    return out


@register(
    "hunt_and_kill",
    summary="hunt-and-kill: random walk to unvisited cells; when stuck, restart next to the tree",
    guarantee="perfect",
)
def hunt_and_kill(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Hunt-and-kill: a random walk carves into unvisited cells; when it is stuck, the first
    unvisited cell (row-major) next to the tree is joined to a random visited neighbour and the walk
    goes on from there. Long corridors like dfs, without a stack.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _hunt_and_kill_kernel(shape[0], shape[1], n, np.uint64(key), start)


@njit(cache=True)
def _growing_tree_kernel(
    rows: int, cols: int, n: int, key: np.uint64, start: int, newest_fraction: float
) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    active = np.empty(n_cells, dtype=np.int64)
    cand = np.empty(4, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        visited[:] = False
        active[0] = rand_below(state, n_cells)
        visited[active[0]] = True
        n_active = 1
        while n_active > 0:
            if newest_fraction >= 1.0:
                j = n_active - 1
            elif newest_fraction <= 0.0:
                j = rand_below(state, n_active)
            elif rand_float(state) < newest_fraction:
                j = n_active - 1
            else:
                j = rand_below(state, n_active)
            cell = active[j]
            r, c = cell // cols, cell % cols
            k = _unvisited_dirs(visited, rows, cols, r, c, cand, False)
            if k == 0:
                for t in range(j, n_active - 1):  # keep the order: "newest" is the last one
                    active[t] = active[t + 1]
                n_active -= 1
                continue
            d = cand[rand_below(state, k)] if k > 1 else cand[0]
            nxt = (r + DR[d]) * cols + c + DC[d]
            carve(out[i], r, c, d)
            visited[nxt] = True
            active[n_active] = nxt
            n_active += 1
    return out


@register(
    "growing_tree",
    summary="growing tree: extend the newest active cell (prob. newest_fraction) or a random one",
    guarantee="perfect",
)
def growing_tree(
    shape: Shape, n: int, *, key: int, start: int, newest_fraction: float = 0.5
) -> np.ndarray:
    """Growing tree (Buck, "Mazes for Programmers", 2015): keep a list of active cells; at each
    step take the newest one with probability ``newest_fraction``, else a uniformly random one, and
    carve to a random unvisited neighbour (or retire the cell if it has none).

    Args:
        newest_fraction: in ``[0, 1]``; 1 behaves like dfs (long corridors), 0 like a simplified
            Prim (many short dead ends).

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    f = check_probability("newest_fraction", newest_fraction)
    return _growing_tree_kernel(shape[0], shape[1], n, np.uint64(key), start, f)


__all__ = ["prim", "hunt_and_kill", "growing_tree"]

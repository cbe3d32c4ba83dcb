"""Generators with cycles: percolation, dfs_percolation, braid.

Each kernel loops over the mazes of a batch inside numba; maze ``i`` draws only from the stream
``stream_state(key, start + i)``. Every one is connected (with its default options); what each
guarantees otherwise is in ``GENERATORS[name].guarantee_for(params)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numba import njit

from maze_env.generators import register
from maze_env.generators._common import (
    DC,
    DR,
    carve,
    check_bool,
    check_probability,
    degree,
    edge_cells,
    inside,
    is_open,
    uf_find,
)
from maze_env.generators.perfect import dfs_options, dfs_tree
from maze_env.rng import rand_below, rand_float, stream_state
from maze_env.types import Coord, Shape


@njit(cache=True)
def percolate(conn: np.ndarray, state: np.ndarray, p: float) -> None:
    """Open each interior passage of ``conn: bool[2, R, C]`` independently with probability ``p``.

    Passages already open stay open. One draw per passage (down passages row-major, then right
    ones), none when ``p`` is 0 or 1.
    """
    rows, cols = conn.shape[1], conn.shape[2]
    if p <= 0.0:
        return
    for axis in range(2):
        for r in range(rows - 1 + axis):
            for c in range(cols - axis):
                if p >= 1.0 or rand_float(state) < p:
                    conn[axis, r, c] = True


@njit(cache=True)
def connect_components(
    conn: np.ndarray, state: np.ndarray, parent: np.ndarray, closed: np.ndarray
) -> None:
    """Join the components of ``conn: bool[2, R, C]`` by opening walls in uniformly random order.

    A closed wall is opened when its two cells are in different components (Kruskal over the
    closed walls), so exactly ``components - 1`` walls are opened and the result is connected.

    Args:
        conn: the maze, modified in place.
        state: the maze's stream state.
        parent, closed: scratch ``int64[R*C]`` and ``int64[n_edges]``.
    """
    rows, cols = conn.shape[1], conn.shape[2]
    n_edges = (rows - 1) * cols + rows * (cols - 1)
    for x in range(rows * cols):
        parent[x] = x
    n_comp, n_closed = rows * cols, 0
    for e in range(n_edges):
        r, c, d = edge_cells(e, rows, cols)
        if is_open(conn, r, c, d):
            a, b = uf_find(parent, r * cols + c), uf_find(parent, (r + DR[d]) * cols + c + DC[d])
            if a != b:
                parent[a] = b
                n_comp -= 1
        else:
            closed[n_closed] = e
            n_closed += 1
    for k in range(n_closed):
        if n_comp == 1:
            break
        j = k + rand_below(state, n_closed - k)
        e = closed[j]
        closed[j] = closed[k]
        r, c, d = edge_cells(e, rows, cols)
        a, b = uf_find(parent, r * cols + c), uf_find(parent, (r + DR[d]) * cols + c + DC[d])
        if a != b:
            parent[a] = b
            carve(conn, r, c, d)
            n_comp -= 1


@njit(cache=True)
def _percolation_kernel(
    rows: int, cols: int, n: int, key: np.uint64, start: int, p: float, connect: bool
) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    parent = np.empty(rows * cols, dtype=np.int64)
    closed = np.empty(2 * rows * cols, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        percolate(out[i], state, p)
        if connect:
            connect_components(out[i], state, parent, closed)
    return out


def _percolation_guarantee(params: Mapping[str, Any]) -> str:
    if params.get("connect", True):
        return "connected"
    return "none: each passage is open independently with probability p; cells may be unreachable"


@register(
    "percolation",
    summary="bond percolation: each passage open with probability p, then components joined; cycles",
    guarantee="connected",
    guarantee_fn=_percolation_guarantee,
)
def percolation(
    shape: Shape, n: int, *, key: int, start: int, p: float = 0.4, connect: bool = True
) -> np.ndarray:
    """Bond percolation, as maze-dataset's ``gen_percolation``, made connected.

    Each interior passage is open independently with probability ``p``; then, if ``connect``, the
    components are joined by opening walls between different components in uniformly random order
    (Kruskal over the closed walls: ``components - 1`` extra passages). So ``p=0`` is a Kruskal
    maze and ``p=1`` the open field; above ``p`` = 0.5 (the square lattice's bond threshold)
    little repair is needed.

    Args:
        p: probability in ``[0, 1]`` that a passage is open (maze-dataset's default, 0.4).
        connect: join the components (default). False is maze-dataset's plain percolation,
            which may leave cells unreachable.

    Returns:
        ``bool[n, 2, rows, cols]``; connected when ``connect``.
    """
    p = check_probability("p", p)
    connect = check_bool("connect", connect)
    return _percolation_kernel(shape[0], shape[1], n, np.uint64(key), start, p, connect)


@njit(cache=True)
def _dfs_percolation_kernel(
    rows: int,
    cols: int,
    n: int,
    key: np.uint64,
    start: int,
    p: float,
    first_cell: int,
    n_access: int,
    max_depth: int,
) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    stack = np.empty(n_cells, dtype=np.int64)
    depth = np.empty(n_cells, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        first = first_cell if first_cell >= 0 else rand_below(state, n_cells)
        dfs_tree(out[i], state, first, n_access, max_depth, True, False, visited, stack, depth)
        percolate(out[i], state, p)
    return out


def _dfs_percolation_guarantee(params: Mapping[str, Any]) -> str:
    if params.get("accessible_cells") is None and params.get("max_tree_depth") is None:
        return "connected"
    return (
        "the dfs tree's cells are connected; with accessible_cells or max_tree_depth set, other "
        "cells are reached only through passages percolation opened, and may be unreachable"
    )


@register(
    "dfs_percolation",
    summary="a dfs maze plus extra passages opened with probability p: several paths between cells",
    guarantee="connected",
    guarantee_fn=_dfs_percolation_guarantee,
)
def dfs_percolation(
    shape: Shape,
    n: int,
    *,
    key: int,
    start: int,
    p: float = 0.1,
    accessible_cells: int | float | None = None,
    max_tree_depth: int | float | None = None,
    start_coord: Coord | None = None,
) -> np.ndarray:
    """A :func:`~maze_env.generators.perfect.dfs` maze, then every passage also opened
    independently with probability ``p`` (maze-dataset's ``gen_dfs_percolation``; its default p
    is 0.4, ours 0.1 keeps the maze look with a few loops).

    Args:
        p: probability in ``[0, 1]`` of each extra passage.
        accessible_cells, max_tree_depth, start_coord: passed to the dfs (see ``dfs``).

    Returns:
        ``bool[n, 2, rows, cols]``; connected with the default dfs options.
    """
    p = check_probability("p", p)
    first, n_access, max_depth, _, _ = dfs_options(
        shape,
        accessible_cells=accessible_cells,
        max_tree_depth=max_tree_depth,
        start_coord=start_coord,
    )
    return _dfs_percolation_kernel(
        shape[0], shape[1], n, np.uint64(key), start, p, first, n_access, max_depth
    )


@njit(cache=True)
def _braid_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int, p: float) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    stack = np.empty(n_cells, dtype=np.int64)
    depth = np.empty(n_cells, dtype=np.int64)
    ends = np.empty(n_cells, dtype=np.int64)
    cand = np.empty(4, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        conn = out[i]
        dfs_tree(
            conn,
            state,
            rand_below(state, n_cells),
            n_cells,
            n_cells,
            True,
            False,
            visited,
            stack,
            depth,
        )
        n_ends = 0
        for cell in range(n_cells):
            if degree(conn, rows, cols, cell // cols, cell % cols) == 1:
                ends[n_ends] = cell
                n_ends += 1
        for k in range(n_ends):  # dead ends in uniformly random order (Fisher-Yates as we go)
            j = k + rand_below(state, n_ends - k)
            cell = ends[j]
            ends[j] = ends[k]
            r, c = cell // cols, cell % cols
            if degree(conn, rows, cols, r, c) != 1 or (p < 1.0 and rand_float(state) >= p):
                continue  # already fixed by a neighbour, or kept
            n_cand, n_pref = 0, 0
            for d in range(4):  # closed walls; those leading to another dead end first
                nr, nc = r + DR[d], c + DC[d]
                if inside(rows, cols, nr, nc) and not is_open(conn, r, c, d):
                    if degree(conn, rows, cols, nr, nc) == 1:
                        cand[n_cand] = cand[n_pref]
                        cand[n_pref] = d
                        n_pref += 1
                    else:
                        cand[n_cand] = d
                    n_cand += 1
            if n_cand > 0:
                pick = n_pref if n_pref > 0 else n_cand
                carve(conn, r, c, cand[rand_below(state, pick)])
    return out


@register(
    "braid",
    summary="a dfs maze whose dead ends are opened with probability p (p=1: no dead ends); cycles",
    guarantee="connected",
)
def braid(shape: Shape, n: int, *, key: int, start: int, p: float = 1.0) -> np.ndarray:
    """Braid maze (Buck, "Mazes for Programmers", 2015): a dfs maze, then each dead end, in random
    order and with probability ``p``, is opened through one of its walls, preferring a wall that
    leads to another dead end (removing two at once).

    Args:
        p: probability in ``[0, 1]`` of removing each dead end; with 1 no cell has exactly one
            passage, except the ends of a one-cell-wide grid.

    Returns:
        ``bool[n, 2, rows, cols]``, connected.
    """
    p = check_probability("p", p)
    return _braid_kernel(shape[0], shape[1], n, np.uint64(key), start, p)


__all__ = [
    "percolation",
    "dfs_percolation",
    "braid",
    "percolate",
    "connect_components",
]

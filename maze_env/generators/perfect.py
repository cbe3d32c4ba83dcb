"""Perfect-maze generators (spanning trees of the grid graph): dfs, wilson, aldous_broder, kruskal.

Each kernel loops over the mazes of a batch inside numba; maze ``i`` draws only from the stream
``stream_state(key, start + i)``.
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
    count_or_fraction,
    edge_cells,
    inside,
    neighbor_table,
    uf_find,
)
from maze_env.maze import check_cell
from maze_env.rng import next_u64, rand_below, stream_state
from maze_env.types import Coord, Shape

# -- dfs ------------------------------------------------------------------------------------------


@njit(cache=True)
def dfs_tree(
    conn: np.ndarray,
    state: np.ndarray,
    first: int,
    n_access: int,
    max_depth: int,
    do_forks: bool,
    randomized: bool,
    visited: np.ndarray,
    stack: np.ndarray,
    depth: np.ndarray,
) -> None:
    """Carve one randomized depth-first-search tree into ``conn: bool[2, R, C]`` (all walls).

    Args:
        conn: the maze to carve into, ``bool[2, R, C]``, all False on entry.
        state: the maze's stream state, ``uint64[1]``.
        first: the start cell (row-major index).
        n_access: stop once this many cells are in the tree.
        max_depth: no cell is more than this many passages from ``first`` in the tree.
        do_forks: if False, never return to a cell once left: the tree is a single path.
        randomized: pop a uniformly random stack entry instead of the top (maze-dataset's
            ``randomized_stack``, its ``gen_prim``).
        visited, stack, depth: scratch ``bool[R*C]``, ``int64[R*C]``, ``int64[R*C]``.
    """
    rows, cols = conn.shape[1], conn.shape[2]
    visited[:] = False
    visited[first] = True
    depth[first] = 0
    stack[0] = first
    sp, n_visited = 1, 1
    cand = np.empty(4, dtype=np.int64)
    while sp > 0 and n_visited < n_access:
        if randomized:
            j = rand_below(state, sp)
            cell = stack[j]
            stack[j] = stack[sp - 1]
        else:
            cell = stack[sp - 1]
        sp -= 1
        if depth[cell] >= max_depth:
            continue
        r, c = cell // cols, cell % cols
        k = 0
        for d in range(4):
            nr, nc = r + DR[d], c + DC[d]
            if inside(rows, cols, nr, nc) and not visited[nr * cols + nc]:
                cand[k] = d
                k += 1
        if k == 0:
            continue
        if do_forks and k > 1:
            stack[sp] = cell
            sp += 1
        d = cand[rand_below(state, k)] if k > 1 else cand[0]
        nxt = (r + DR[d]) * cols + c + DC[d]
        carve(conn, r, c, d)
        visited[nxt] = True
        depth[nxt] = depth[cell] + 1
        stack[sp] = nxt
        sp += 1
        n_visited += 1


@njit(cache=True)
def _dfs_kernel(
    rows: int,
    cols: int,
    n: int,
    key: np.uint64,
    start: int,
    first_cell: int,
    n_access: int,
    max_depth: int,
    do_forks: bool,
    randomized: bool,
) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    stack = np.empty(n_cells, dtype=np.int64)
    depth = np.empty(n_cells, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        first = first_cell if first_cell >= 0 else rand_below(state, n_cells)
        dfs_tree(
            out[i], state, first, n_access, max_depth, do_forks, randomized, visited, stack, depth
        )
    return out


def dfs_options(
    shape: Shape,
    *,
    do_forks: Any = True,
    accessible_cells: Any = None,
    max_tree_depth: Any = None,
    randomized_stack: Any = False,
    start_coord: Coord | None = None,
) -> tuple[int, int, int, bool, bool]:
    """Check maze-dataset's ``gen_dfs`` options and turn them into :func:`dfs_tree`'s arguments.

    Returns:
        ``(first_cell, n_access, max_depth, do_forks, randomized)``; ``first_cell`` is -1 for a
        random start cell.
    """
    rows, cols = shape
    n_cells = rows * cols
    do_forks = check_bool("do_forks", do_forks)
    randomized = check_bool("randomized_stack", randomized_stack)
    n_access = count_or_fraction(
        "accessible_cells", accessible_cells, n_cells, "the number of cells"
    )
    depth = count_or_fraction("max_tree_depth", max_tree_depth, rows + cols, "rows + cols")
    # maze-dataset counts tree depth "in two directions" from the start: a cell extends the tree
    # while (its depth + 1) <= max_tree_depth / 2, so no cell lies deeper than max_tree_depth // 2.
    # (maze-dataset 1.4.2 keeps one running counter instead of each cell's depth; since it stopped
    # re-pushing cells with a single unvisited neighbour, that counter overcounts along corridors
    # and its trees come out smaller than this documented bound allows.)
    max_depth = n_cells if depth is None else depth // 2
    first = -1
    if start_coord is not None:
        r, c = check_cell(start_coord, shape, "start_coord")
        first = r * cols + c
    return first, n_cells if n_access is None else n_access, max_depth, do_forks, randomized


def _dfs_guarantee(params: Mapping[str, Any]) -> str:
    if (
        params.get("accessible_cells") is None
        and params.get("max_tree_depth") is None
        and params.get("do_forks", True)
    ):
        return "perfect"
    return (
        "a tree (no cycles) over the cells reached from the start cell; with accessible_cells or "
        "max_tree_depth set, or do_forks=False (a single path), other cells may have no passages"
    )


@register(
    "dfs",
    summary="randomized depth-first search (recursive backtracker): long corridors, few forks",
    guarantee="perfect",
    guarantee_fn=_dfs_guarantee,
)
def dfs(
    shape: Shape,
    n: int,
    *,
    key: int,
    start: int,
    do_forks: bool = True,
    accessible_cells: int | float | None = None,
    max_tree_depth: int | float | None = None,
    randomized_stack: bool = False,
    start_coord: Coord | None = None,
) -> np.ndarray:
    """Randomized depth-first search with maze-dataset's ``gen_dfs`` options.

    Args:
        shape: ``(rows, cols)``.
        n: number of mazes.
        key: stream family (from :func:`maze_env.rng.seed_key`).
        start: stream index of the first maze (not a cell: the start cell is ``start_coord``).
        do_forks: False gives a forkless "hallway": one self-avoiding path that ends where it gets
            stuck; cells off the path have no passages.
        accessible_cells: stop once this many cells are in the tree: an int count, or a float in
            ``[0, 1]`` as a fraction of all cells; None for all. The other cells have no passages.
        max_tree_depth: an int, or a float in ``[0, 1]`` as a fraction of ``rows + cols``; as
            maze-dataset documents it, it counts both ways from the start, so no cell is more than
            ``max_tree_depth // 2`` passages from the start cell (the search fills every branch up
            to that depth; maze-dataset 1.4.2's running counter stops earlier). None: no limit.
        randomized_stack: pop a random stack entry instead of the top (maze-dataset's ``gen_prim``).
        start_coord: the cell the search starts from, ``(row, col)``; None for a uniformly random
            cell (maze-dataset never picks the last row or column; we pick any cell).

    Returns:
        ``bool[n, 2, rows, cols]``; perfect with the defaults (see ``GENERATORS["dfs"]``).
    """
    first, n_access, max_depth, forks, randomized = dfs_options(
        shape,
        do_forks=do_forks,
        accessible_cells=accessible_cells,
        max_tree_depth=max_tree_depth,
        randomized_stack=randomized_stack,
        start_coord=start_coord,
    )
    return _dfs_kernel(
        shape[0], shape[1], n, np.uint64(key), start, first, n_access, max_depth, forks, randomized
    )


# -- random-walk generators: uniform spanning trees -----------------------------------------------

_TWO, _THREE = np.uint64(2), np.uint64(3)


@njit(cache=True)
def _wilson_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    in_tree = np.zeros(n_cells, dtype=np.bool_)
    exit_dir = np.zeros(n_cells, dtype=np.int64)
    nbr = neighbor_table(rows, cols)
    # any root gives the uniform law; a central one makes the walks shortest
    root = (rows // 2) * cols + cols // 2
    for i in range(n):
        state = stream_state(key, start + i)
        bits, n_bits = np.uint64(0), 0
        in_tree[:] = False
        in_tree[root] = True
        for s in range(n_cells):
            # random walk from s until the tree is hit, remembering the last exit of each cell:
            # following the exits from s afterwards gives the loop-erased walk.
            cell = s
            while not in_tree[cell]:
                if n_bits == 0:  # two random bits per step, 32 per draw (inlined: hot loop)
                    bits, n_bits = next_u64(state), 32
                d = np.int64(bits & _THREE)
                bits >>= _TWO
                n_bits -= 1
                if nbr[cell, d] >= 0:  # rejection: uniform among the neighbours in the grid
                    exit_dir[cell] = d
                    cell = nbr[cell, d]
            cell = s
            while not in_tree[cell]:
                d = exit_dir[cell]
                carve(out[i], cell // cols, cell % cols, d)
                in_tree[cell] = True
                cell = nbr[cell, d]
    return out


@register(
    "wilson",
    summary="Wilson's loop-erased random walks: uniform over all spanning trees",
    guarantee="perfect",
)
def wilson(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Wilson's algorithm (Wilson, "Generating random spanning trees more quickly than the cover
    time", STOC 1996): every spanning tree of the grid is equally likely.

    Walks start from each cell in row-major order towards a tree rooted at the central cell; the
    law is uniform for any root and any order of the walks.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _wilson_kernel(shape[0], shape[1], n, np.uint64(key), start)


@njit(cache=True)
def _aldous_broder_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    visited = np.zeros(n_cells, dtype=np.bool_)
    nbr = neighbor_table(rows, cols)
    for i in range(n):
        state = stream_state(key, start + i)
        bits, n_bits = np.uint64(0), 0
        visited[:] = False
        cell = rand_below(state, n_cells)
        visited[cell] = True
        remaining = n_cells - 1
        while remaining > 0:
            if n_bits == 0:  # two random bits per step, 32 per draw (inlined: hot loop)
                bits, n_bits = next_u64(state), 32
            d = np.int64(bits & _THREE)
            bits >>= _TWO
            n_bits -= 1
            nxt = nbr[cell, d]
            if nxt < 0:  # rejection: uniform among the neighbours in the grid
                continue
            if not visited[nxt]:
                carve(out[i], cell // cols, cell % cols, d)
                visited[nxt] = True
                remaining -= 1
            cell = nxt
    return out


@register(
    "aldous_broder",
    summary="Aldous-Broder random walk, first entrances kept: uniform spanning trees (slower than wilson)",
    guarantee="perfect",
)
def aldous_broder(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Aldous-Broder: a random walk from a random cell until every cell is visited; the passage
    of each cell's first entrance is kept. Uniform over spanning trees (Aldous 1990; Broder 1989),
    in the walk's cover time.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _aldous_broder_kernel(shape[0], shape[1], n, np.uint64(key), start)


# -- kruskal --------------------------------------------------------------------------------------


@njit(cache=True)
def _kruskal_kernel(rows: int, cols: int, n: int, key: np.uint64, start: int) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    n_cells = rows * cols
    n_edges = (rows - 1) * cols + rows * (cols - 1)
    order = np.empty(n_edges, dtype=np.int64)
    parent = np.empty(n_cells, dtype=np.int64)
    for i in range(n):
        state = stream_state(key, start + i)
        for e in range(n_edges):
            order[e] = e
        for x in range(n_cells):
            parent[x] = x
        joined = 0
        # lazy Fisher-Yates: draw the next edge of a uniform random order only while needed
        for k in range(n_edges):
            if joined == n_cells - 1:
                break
            j = k + rand_below(state, n_edges - k)
            e = order[j]
            order[j] = order[k]
            r, c, d = edge_cells(e, rows, cols)
            a = uf_find(parent, r * cols + c)
            b = uf_find(parent, (r + DR[d]) * cols + c + DC[d])
            if a != b:
                parent[a] = b
                carve(out[i], r, c, d)
                joined += 1
    return out


@register(
    "kruskal",
    summary="randomized Kruskal: passages in random order, kept when they join two trees",
    guarantee="perfect",
)
def kruskal(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """Randomized Kruskal: every wall in uniformly random order is opened if the cells on its two
    sides are not yet connected (union-find). Many short dead ends.

    Returns:
        ``bool[n, 2, rows, cols]``, perfect.
    """
    return _kruskal_kernel(shape[0], shape[1], n, np.uint64(key), start)


__all__ = ["dfs", "dfs_options", "dfs_tree", "wilson", "aldous_broder", "kruskal"]

"""Solving mazes exactly: BFS distances, shortest paths, their number, forks and dead ends.

Every function takes a :class:`~maze_env.maze.Maze` (or, for the batched forms, a
:class:`~maze_env.maze.MazeBatch` or a ``bool[N, 2, R, C]`` array) and cells as ``(row, col)``.
The work happens in numba kernels over the ``connections`` array (compiled once, cached on disk),
so single calls cost microseconds and batches never run a Python loop per maze.

Tie-breaking is deterministic: where several shortest paths exist, :func:`shortest_path` walks
from the origin and, at every step, takes the first move in action order (up, right, down, left)
that stays on a shortest path; :func:`all_shortest_paths` lists paths in that same order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from maze_env.maze import Maze, MazeBatch, Task, check_cell, dead_end_cells
from maze_env.types import ACTION_DELTAS, Coord

__all__ = [
    "all_shortest_paths",
    "batch_bfs_distances",
    "batch_bfs_search",
    "batch_shortest_path_arrays",
    "batch_shortest_paths",
    "bfs_kernel",
    "bfs_distances",
    "bfs_search",
    "count_shortest_paths",
    "dead_ends",
    "forks",
    "move_kernel",
    "shortest_path",
]

_DELTAS = [(int(dr), int(dc)) for dr, dc in ACTION_DELTAS]
_OVERFLOW = np.int64(1) << np.int64(61)  # counts beyond this are recomputed with Python ints

# --------------------------------------------------------------------------------------------
# numba kernels over conn: bool[2, R, C] (conn[0]: down passages, conn[1]: right passages)
# --------------------------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _step(conn, r, c, a):  # type: ignore[no-untyped-def]
    """The cell reached by action ``a`` (up, right, down, left) from (r, c), or (-1, -1)."""
    rows, cols = conn.shape[1], conn.shape[2]
    if a == 0:
        if r > 0 and conn[0, r - 1, c]:
            return r - 1, c
    elif a == 1:
        if c + 1 < cols and conn[1, r, c]:
            return r, c + 1
    elif a == 2:
        if r + 1 < rows and conn[0, r, c]:
            return r + 1, c
    elif c > 0 and conn[1, r, c - 1]:
        return r, c - 1
    return -1, -1


@numba.njit(cache=True)
def _bfs(conn, sr, sc, dist, queue, stop):  # type: ignore[no-untyped-def]
    """Fill ``dist`` (int32[R, C], preset to -1) with BFS distances from (sr, sc).

    ``queue`` is int32[R*C] scratch. Stops once flat cell ``stop`` is reached (-1: never).
    Returns the number of cells visited, in BFS order at ``queue[:n]``.
    """
    cols = conn.shape[2]
    dist[sr, sc] = 0
    queue[0] = sr * cols + sc
    head, tail = 0, 1
    if queue[0] == stop:
        return 1
    while head < tail:
        cell = queue[head]
        head += 1
        r, c = cell // cols, cell % cols
        d = dist[r, c] + 1
        for a in range(4):
            nr, nc = _step(conn, r, c, a)
            if nr >= 0 and dist[nr, nc] < 0:
                dist[nr, nc] = d
                queue[tail] = nr * cols + nc
                tail += 1
                if nr * cols + nc == stop:
                    return tail
    return tail


move_kernel = _step
"""The move rule, for other numba kernels: ``move_kernel(conn, r, c, action) -> (r', c')``, or
``(-1, -1)`` where a wall (or the grid's edge) blocks the move."""

bfs_kernel = _bfs
"""The project's one BFS, for other numba kernels (the env's distance tables use it):
``bfs_kernel(conn: bool[2, R, C], sr, sc, dist: int[R, C] preset to -1, queue: int[R*C], stop)``
fills ``dist`` with moves from ``(sr, sc)``; ``stop`` is a flat cell to stop at (-1: never)."""


@numba.njit(cache=True)
def _walk(conn, dist_to_target, orow, ocol, out):  # type: ignore[no-untyped-def]
    """Write a shortest path from the origin into ``out`` (int32[L, 2]) following distances to
    the target downhill, first move in action order. Returns its length (0 if unreachable)."""
    d = dist_to_target[orow, ocol]
    if d < 0:
        return 0
    r, c = orow, ocol
    out[0, 0], out[0, 1] = r, c
    for i in range(1, d + 1):
        for a in range(4):
            nr, nc = _step(conn, r, c, a)
            if nr >= 0 and dist_to_target[nr, nc] == d - i:
                r, c = nr, nc
                break
        out[i, 0], out[i, 1] = r, c
    return d + 1


@numba.njit(cache=True)
def _path_kernel(conn, orow, ocol, trow, tcol):  # type: ignore[no-untyped-def]
    """A shortest path as a flat ``int64[2 * length]`` (row, col, row, col, ...); empty if none."""
    rows, cols = conn.shape[1], conn.shape[2]
    dist = np.full((rows, cols), -1, dtype=np.int32)
    queue = np.empty(rows * cols, dtype=np.int32)
    _bfs(conn, trow, tcol, dist, queue, orow * cols + ocol)
    out = np.empty((max(dist[orow, ocol] + 1, 0), 2), dtype=np.int32)
    n = _walk(conn, dist, orow, ocol, out)
    return out[:n].ravel()


@numba.njit(cache=True)
def _count_kernel(conn, orow, ocol, trow, tcol):  # type: ignore[no-untyped-def]
    """Number of shortest paths, or -1 if it exceeds 2**61 (the caller then counts exactly)."""
    rows, cols = conn.shape[1], conn.shape[2]
    dist = np.full((rows, cols), -1, dtype=np.int32)
    queue = np.empty(rows * cols, dtype=np.int32)
    n = _bfs(conn, orow, ocol, dist, queue, trow * cols + tcol)
    if dist[trow, tcol] < 0:
        return 0
    count = np.zeros((rows, cols), dtype=np.int64)
    count[orow, ocol] = 1
    for i in range(1, n):
        r, c = queue[i] // cols, queue[i] % cols
        total = np.int64(0)
        for a in range(4):
            nr, nc = _step(conn, r, c, a)
            if nr >= 0 and dist[nr, nc] == dist[r, c] - 1:
                total += count[nr, nc]
        if total > _OVERFLOW:
            return -1
        count[r, c] = total
    return count[trow, tcol]


@numba.njit(cache=True)
def _batch_bfs_kernel(conns, sources, out):  # type: ignore[no-untyped-def]
    rows, cols = conns.shape[2], conns.shape[3]
    queue = np.empty(rows * cols, dtype=np.int32)
    for i in range(conns.shape[0]):
        _bfs(conns[i], sources[i, 0], sources[i, 1], out[i], queue, -1)


@numba.njit(cache=True)
def _batch_path_kernel(conns, origins, targets, out, lengths):  # type: ignore[no-untyped-def]
    rows, cols = conns.shape[2], conns.shape[3]
    dist = np.empty((rows, cols), dtype=np.int32)
    queue = np.empty(rows * cols, dtype=np.int32)
    for i in range(conns.shape[0]):
        dist[:] = -1
        orow, ocol = origins[i, 0], origins[i, 1]
        _bfs(conns[i], targets[i, 0], targets[i, 1], dist, queue, orow * cols + ocol)
        lengths[i] = _walk(conns[i], dist, orow, ocol, out[i])


@numba.njit(cache=True)
def _search(conn, orow, ocol, trow, tcol, dist, queue, mark, out, actions):  # type: ignore[no-untyped-def]
    """One BFS from the origin: the canonical shortest path and the cells nearer than the target.

    ``dist`` (int32[R, C], preset to -1), ``queue`` (int32[R*C]) and ``mark`` (bool[R, C], preset
    to False) are scratch. Writes the path that :func:`_walk` gives (first move in action order
    that stays on a shortest path) into ``out`` (int[L, 2]) and its actions into ``actions``
    (int[L - 1]). Returns ``(length, nearer)``: the path length (0 if unreachable) and
    ``|{c : d(origin, c) < d(origin, target)}|`` (every reachable cell if unreachable).
    """
    cols = conn.shape[2]
    n = _bfs(conn, orow, ocol, dist, queue, trow * cols + tcol)
    d = dist[trow, tcol]
    if d < 0:
        return 0, n
    # queue[:n] holds every cell nearer than the target (BFS stops within the target's layer),
    # in non-decreasing distance order, then some of the target's layer, the target last.
    nearer = n
    while nearer > 0 and dist[queue[nearer - 1] // cols, queue[nearer - 1] % cols] == d:
        nearer -= 1
    # Mark the cells on some shortest path: those that reach the target by steps one layer
    # further each, found from the target back (queue reused as the stack; only they are pushed).
    mark[trow, tcol] = True
    queue[0] = trow * cols + tcol
    top = 1
    while top > 0:
        top -= 1
        r, c = queue[top] // cols, queue[top] % cols
        if dist[r, c] > 0:
            for a in range(4):
                nr, nc = _step(conn, r, c, a)
                if nr >= 0 and dist[nr, nc] == dist[r, c] - 1 and not mark[nr, nc]:
                    mark[nr, nc] = True
                    queue[top] = nr * cols + nc
                    top += 1
    # Walk from the origin: the first move in action order onto a marked cell one layer further.
    # (A neighbour is one step nearer the target exactly when it is marked and one layer further
    # from the origin, so this is the path of :func:`_walk` over distances to the target.)
    r, c = orow, ocol
    out[0, 0], out[0, 1] = r, c
    for i in range(1, d + 1):
        for a in range(4):
            nr, nc = _step(conn, r, c, a)
            if nr >= 0 and dist[nr, nc] == i and mark[nr, nc]:
                r, c = nr, nc
                actions[i - 1] = a
                break
        out[i, 0], out[i, 1] = r, c
    return d + 1, nearer


@numba.njit(cache=True)
def _search_kernel(conn, orow, ocol, trow, tcol):  # type: ignore[no-untyped-def]
    """:func:`_search` on one maze, packed into one ``int64`` array (one array to box is cheaper):
    ``[nearer, row_0, col_0, ..., row_{L-1}, col_{L-1}, action_0, ..., action_{L-2}]``, so that
    ``L = len // 3`` (0 if the target is unreachable). Empty if a cell lies outside the grid."""
    rows, cols = conn.shape[1], conn.shape[2]
    if not (0 <= orow < rows and 0 <= ocol < cols and 0 <= trow < rows and 0 <= tcol < cols):
        return np.empty(0, dtype=np.int64)
    m = rows * cols
    dist = np.full((rows, cols), -1, dtype=np.int32)
    queue = np.empty(m, dtype=np.int32)
    mark = np.zeros((rows, cols), dtype=np.bool_)
    buf = np.empty(4 * m + 1, dtype=np.int64)  # [nearer | path (m, 2) | actions (m)]
    path = buf[1 : 2 * m + 1].reshape((m, 2))
    n, nearer = _search(conn, orow, ocol, trow, tcol, dist, queue, mark, path, buf[2 * m + 1 :])
    buf[0] = nearer
    n_actions = max(n - 1, 0)
    for i in range(n_actions):  # close the gap (a forward copy: the target lies before the source)
        buf[2 * n + 1 + i] = buf[2 * m + 1 + i]
    return buf[: 2 * n + 1 + n_actions]


@numba.njit(cache=True)
def _batch_search_kernel(conns, origins, targets, out, lengths, nearer):  # type: ignore[no-untyped-def]
    rows, cols = conns.shape[2], conns.shape[3]
    dist = np.empty((rows, cols), dtype=np.int32)
    queue = np.empty(rows * cols, dtype=np.int32)
    mark = np.empty((rows, cols), dtype=np.bool_)
    actions = np.empty(rows * cols, dtype=np.int64)
    for i in range(conns.shape[0]):
        dist[:] = -1
        mark[:] = False
        lengths[i], nearer[i] = _search(
            conns[i], origins[i, 0], origins[i, 1], targets[i, 0], targets[i, 1],
            dist, queue, mark, out[i], actions,
        )  # fmt: skip


@numba.njit(cache=True)
def _forks_kernel(conn, cells):  # type: ignore[no-untyped-def]
    """``(indices, inside)``: the ``i`` where ``cells[i]`` (int64[L, 2]) has more than one open
    neighbour other than ``cells[i - 1]``; ``inside`` is False (and ``indices`` empty) if some
    cell lies outside the grid."""
    rows, cols = conn.shape[1], conn.shape[2]
    out = np.empty(cells.shape[0], dtype=np.int64)
    for i in range(cells.shape[0]):
        if not (0 <= cells[i, 0] < rows and 0 <= cells[i, 1] < cols):
            return out[:0], False
    k = 0
    pr, pc = -1, -1
    for i in range(cells.shape[0]):
        r, c = cells[i, 0], cells[i, 1]
        n = 0
        for a in range(4):
            nr, nc = _step(conn, r, c, a)
            if nr >= 0 and not (nr == pr and nc == pc):
                n += 1
        if n > 1:
            out[k] = i
            k += 1
        pr, pc = r, c
    return out[:k], True


# --------------------------------------------------------------------------------------------
# single maze
# --------------------------------------------------------------------------------------------


def _cell(maze: Maze, cell: Sequence[int], what: str) -> Coord:
    return check_cell(cell, maze.shape, what)


def bfs_distances(maze: Maze, source: Coord) -> np.ndarray:
    """Moves from ``source`` to every cell.

    Args:
        maze: the maze.
        source: ``(row, col)`` inside the maze.

    Returns:
        ``int32[R, C]``: the BFS distance of each cell, ``-1`` where it is unreachable.
    """
    r, c = _cell(maze, source, "source")
    rows, cols = maze.shape
    dist = np.full((rows, cols), -1, dtype=np.int32)
    _bfs(maze.connections, r, c, dist, np.empty(rows * cols, dtype=np.int32), -1)
    return dist


def task_distances(task: Task) -> tuple[np.ndarray, np.ndarray]:
    """``(to_origin, to_target)``: :func:`bfs_distances` from the task's origin and from its target.

    Returns:
        Two ``int32[R, C]`` arrays, ``-1`` where a cell is unreachable; ``to_target[origin]`` is
        the length of a shortest path (``-1``: none).
    """
    return bfs_distances(task.maze, task.origin), bfs_distances(task.maze, task.target)


def shortest_path(maze: Maze, origin: Coord, target: Coord) -> list[Coord] | None:
    """A shortest path from ``origin`` to ``target``, both included; ``None`` if unreachable.

    In a perfect maze it is the unique path. Otherwise ties are broken from the origin by the
    first move in action order (up, right, down, left) that stays on a shortest path.
    ``origin == target`` gives ``[origin]``.
    """
    o = _cell(maze, origin, "origin")
    t = _cell(maze, target, "target")
    v = _path_kernel(maze.connections, o[0], o[1], t[0], t[1]).tolist()
    return list(zip(v[0::2], v[1::2], strict=True)) if v else None


def bfs_search(
    maze: Maze, origin: Coord, target: Coord
) -> tuple[list[Coord] | None, list[int], int]:
    """One breadth-first search from ``origin``: :func:`shortest_path` and what the search cost.

    Returns:
        ``(path, actions, nearer)``: ``path`` is :func:`shortest_path`'s path (``None`` if the
        target is unreachable), ``actions`` the action ids along it (``[]`` if none), and
        ``nearer`` the number of cells strictly nearer to the origin than the target is,
        ``|{c : d(origin, c) < d(origin, target)}|`` (every reachable cell, the origin included,
        when the target is unreachable): the cells a BFS expands before the target's layer.
    """
    o = _cell(maze, origin, "origin")
    t = _cell(maze, target, "target")
    v = _search_kernel(maze.connections, o[0], o[1], t[0], t[1]).tolist()
    n = len(v) // 3
    path = list(zip(v[1 : 2 * n + 1 : 2], v[2 : 2 * n + 1 : 2], strict=True)) if n else None
    return path, v[2 * n + 1 :], v[0]


def count_shortest_paths(maze: Maze, origin: Coord, target: Coord) -> int:
    """The number of distinct shortest paths from ``origin`` to ``target`` (0 if unreachable).

    Exact at any size (a Python int: an open 40x40 field has about 2.7e22).
    """
    o = _cell(maze, origin, "origin")
    t = _cell(maze, target, "target")
    n = int(_count_kernel(maze.connections, o[0], o[1], t[0], t[1]))
    return n if n >= 0 else _count_exact(maze, o, t)


def _count_exact(maze: Maze, origin: Coord, target: Coord) -> int:
    """Path counting with Python ints, for counts beyond int64 (rare; open fields > ~30x30)."""
    dist = bfs_distances(maze, origin)
    count: dict[Coord, int] = {origin: 1}
    cells = np.argwhere((dist > 0) & (dist <= dist[target]))
    order = np.argsort(dist[cells[:, 0], cells[:, 1]], kind="stable")
    for r, c in cells[order].tolist():
        d = dist[r, c]
        count[(r, c)] = sum(count.get(nb, 0) for nb in maze.neighbors((r, c)) if dist[nb] == d - 1)
    return count.get(target, 0)


def all_shortest_paths(
    maze: Maze, origin: Coord, target: Coord, limit: int = 1000, *, truncate: bool = False
) -> list[list[Coord]]:
    """Every shortest path from ``origin`` to ``target``, in action order (see module docstring).

    Args:
        maze: the maze.
        origin: first cell of every path.
        target: last cell of every path.
        limit: the most paths to return.
        truncate: what to do when there are more than ``limit`` paths: ``False`` (default) raises
            ``ValueError``; ``True`` returns the first ``limit`` of them.

    Returns:
        The paths (each a list of cells, both ends included); ``[]`` if the target is unreachable.

    Raises:
        ValueError: if there are more than ``limit`` shortest paths and ``truncate`` is False.
    """
    o = _cell(maze, origin, "origin")
    t = _cell(maze, target, "target")
    if limit < 1:
        raise ValueError(f"limit must be a positive int, got {limit!r}")
    total = count_shortest_paths(maze, o, t)
    if total > limit and not truncate:
        raise ValueError(
            f"{total} shortest paths from {o} to {t} exceed limit={limit}; pass a larger limit, "
            "truncate=True for the first `limit` of them, or use count_shortest_paths"
        )
    if total == 0:
        return []
    to_target = bfs_distances(maze, t)
    moves = maze.open_moves()

    def downhill(r: int, c: int) -> list[Coord]:  # next cells on a shortest path, reversed
        d = to_target[r, c] - 1
        nexts = [(r + dr, c + dc) for a, (dr, dc) in enumerate(_DELTAS) if moves[r, c, a]]
        return [cell for cell in nexts if to_target[cell] == d][::-1]

    if o == t:
        return [[o]]
    paths: list[list[Coord]] = []
    prefix, pending = [o], [downhill(*o)]  # pending[k]: untried next cells after prefix[k]
    while pending and len(paths) < limit:  # iterative DFS: paths may be longer than the stack
        if not pending[-1]:
            pending.pop()
            prefix.pop()
            continue
        cell = pending[-1].pop()
        if cell == t:
            paths.append([*prefix, cell])
        else:
            prefix.append(cell)
            pending.append(downhill(*cell))
    return paths


def forks(maze: Maze, path: Sequence[Coord]) -> list[int]:
    """Indices of the decision points of ``path``.

    Index ``i`` is a fork when cell ``path[i]`` has more than one neighbour other than
    ``path[i - 1]`` (for ``i == 0``: more than one neighbour). The last cell qualifies by the same
    rule; callers that judge the move made at a fork skip ``len(path) - 1`` (no move follows it).

    Raises:
        ValueError: if a cell lies outside the maze.
    """
    try:
        cells = np.asarray(path)
    except (TypeError, ValueError):  # ragged or not array-like: checked cell by cell below
        cells = None
    if cells is not None and cells.dtype.kind in "biu" and cells.ndim == 2 and cells.shape[1] == 2:
        out, inside = _forks_kernel(maze.connections, cells.astype(np.int64, copy=False))
        if inside:
            return out.tolist()
    # Anything else (floats, a cell outside the maze, ...): check_cell on every cell, as it raises.
    checked = [_cell(maze, cell, f"path[{i}]") for i, cell in enumerate(path)]
    out, _ = _forks_kernel(maze.connections, np.array(checked, dtype=np.int64).reshape(-1, 2))
    return out.tolist()


def dead_ends(maze: Maze) -> list[Coord]:
    """Cells with exactly one passage, in row-major order (isolated cells are not dead ends)."""
    return [(r, c) for r, c in np.argwhere(dead_end_cells(maze.connections)).tolist()]


# --------------------------------------------------------------------------------------------
# batches
# --------------------------------------------------------------------------------------------


def _batch_conn(mazes: MazeBatch | np.ndarray) -> np.ndarray:
    conn = mazes.connections if isinstance(mazes, MazeBatch) else np.asarray(mazes)
    if conn.dtype != np.bool_ or conn.ndim != 4 or conn.shape[1] != 2:
        raise ValueError(
            f"mazes must be a MazeBatch or a bool[N, 2, R, C] array, got {conn.dtype}{list(conn.shape)}"
        )
    return np.ascontiguousarray(conn)


def _batch_cells(
    cells: np.ndarray | Sequence[Coord], n: int, shape: tuple[int, int], what: str
) -> np.ndarray:
    arr = np.asarray(cells, dtype=np.int64)
    if arr.shape != (n, 2):
        raise ValueError(
            f"{what} must be int[N, 2] with N={n} (one (row, col) per maze), got {list(arr.shape)}"
        )
    bad = (arr[:, 0] < 0) | (arr[:, 0] >= shape[0]) | (arr[:, 1] < 0) | (arr[:, 1] >= shape[1])
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(
            f"{what}[{i}] = {tuple(arr[i].tolist())} is outside the {shape[0]}x{shape[1]} grid"
        )
    return np.ascontiguousarray(arr.astype(np.int32))


def batch_bfs_distances(
    mazes: MazeBatch | np.ndarray, sources: np.ndarray | Sequence[Coord]
) -> np.ndarray:
    """BFS distances for ``N`` mazes at once.

    Args:
        mazes: a :class:`MazeBatch` or ``bool[N, 2, R, C]``.
        sources: ``int[N, 2]``, one source cell per maze.

    Returns:
        ``int32[N, R, C]``, ``-1`` where unreachable.
    """
    conn = _batch_conn(mazes)
    n, _, rows, cols = conn.shape
    src = _batch_cells(sources, n, (rows, cols), "sources")
    out = np.full((n, rows, cols), -1, dtype=np.int32)
    _batch_bfs_kernel(conn, src, out)
    return out


def batch_shortest_path_arrays(
    mazes: MazeBatch | np.ndarray,
    origins: np.ndarray | Sequence[Coord],
    targets: np.ndarray | Sequence[Coord],
) -> tuple[np.ndarray, np.ndarray]:
    """Shortest paths for ``N`` mazes as arrays (the allocation-free form for hot code).

    Returns:
        ``(paths, lengths)``: ``paths`` is ``int32[N, L, 2]`` with ``L = R * C``, path ``i`` being
        ``paths[i, :lengths[i]]``; ``lengths`` is ``int32[N]``, 0 where the target is unreachable.
        Ties are broken as in :func:`shortest_path`.
    """
    conn = _batch_conn(mazes)
    n, _, rows, cols = conn.shape
    o = _batch_cells(origins, n, (rows, cols), "origins")
    t = _batch_cells(targets, n, (rows, cols), "targets")
    paths = np.zeros((n, rows * cols, 2), dtype=np.int32)
    lengths = np.zeros(n, dtype=np.int32)
    _batch_path_kernel(conn, o, t, paths, lengths)
    return paths, lengths


def batch_bfs_search(
    mazes: MazeBatch | np.ndarray,
    origins: np.ndarray | Sequence[Coord],
    targets: np.ndarray | Sequence[Coord],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`bfs_search` for ``N`` mazes, as arrays (one BFS per maze).

    Returns:
        ``(paths, lengths, nearer)``: ``paths`` and ``lengths`` exactly as
        :func:`batch_shortest_path_arrays` gives them; ``nearer`` is ``int64[N]``, each maze's
        ``nearer`` count of :func:`bfs_search`.
    """
    conn = _batch_conn(mazes)
    n, _, rows, cols = conn.shape
    o = _batch_cells(origins, n, (rows, cols), "origins")
    t = _batch_cells(targets, n, (rows, cols), "targets")
    paths = np.zeros((n, rows * cols, 2), dtype=np.int32)
    lengths = np.zeros(n, dtype=np.int32)
    nearer = np.zeros(n, dtype=np.int64)
    _batch_search_kernel(conn, o, t, paths, lengths, nearer)
    return paths, lengths, nearer


def batch_shortest_paths(
    mazes: MazeBatch | np.ndarray,
    origins: np.ndarray | Sequence[Coord],
    targets: np.ndarray | Sequence[Coord],
) -> list[list[Coord] | None]:
    """:func:`shortest_path` for ``N`` mazes: ``N`` paths (``None`` where unreachable)."""
    paths, lengths = batch_shortest_path_arrays(mazes, origins, targets)
    v = paths[np.arange(paths.shape[1]) < lengths[:, None]].ravel().tolist()  # valid cells
    cells = list(zip(v[0::2], v[1::2], strict=True))
    out: list[list[Coord] | None] = []
    start = 0
    for n in lengths.tolist():
        out.append(cells[start : start + n] if n else None)
        start += n
    return out

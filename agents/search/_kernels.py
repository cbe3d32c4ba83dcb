"""numba kernels: A* with the Manhattan heuristic over many mazes at once.

The kernel mirrors :func:`agents.search.graph.a_star` with :func:`~agents.search.graph.manhattan`
exactly: same neighbour order (up, right, down, left), same frontier order ``(f, h, n)``, same
stale-entry rule, so it returns the same path and the same counters (the tests compare them on
thousands of tasks). The frontier key packs ``(f, h, n)`` into one int64 (bit widths from the maze
shape), which orders exactly as the tuple does.
"""

from __future__ import annotations

import numba
import numpy as np


def key_bits(rows: int, cols: int) -> tuple[int, int, int]:
    """Bit widths ``(f, h, n)`` of the packed frontier key for a ``rows x cols`` maze."""
    n = rows * cols
    return (n + rows + cols).bit_length(), (rows + cols).bit_length(), (4 * n + 1).bit_length()


def fits(rows: int, cols: int) -> bool:
    """True if the packed key fits in 63 bits (any maze up to about 2000 x 2000)."""
    return sum(key_bits(rows, cols)) <= 63


@numba.njit(cache=True, inline="always")
def _push(heap, size, key):  # type: ignore[no-untyped-def]
    i = size
    heap[i] = key
    while i > 0:
        p = (i - 1) >> 1
        if heap[p] <= heap[i]:
            break
        heap[p], heap[i] = heap[i], heap[p]
        i = p
    return size + 1


@numba.njit(cache=True, inline="always")
def _pop(heap, size):  # type: ignore[no-untyped-def]
    top = heap[0]
    size -= 1
    heap[0] = heap[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and heap[left + 1] < heap[left]:
            child = left + 1
        if heap[i] <= heap[child]:
            break
        heap[i], heap[child] = heap[child], heap[i]
        i = child
    return top, size


@numba.njit(cache=True)
def _astar_one(
    conn, orow, ocol, trow, tcol, h_shift, f_shift, out, heap, node_of, g_of, best_g, parent
):  # type: ignore[no-untyped-def]
    """A* on one maze; writes the path into ``out`` and returns ``(length, expanded, generated)``."""
    rows, cols = conn.shape[1], conn.shape[2]
    n_mask = (np.int64(1) << h_shift) - 1
    best_g[:] = -1
    start, goal = orow * cols + ocol, trow * cols + tcol
    h0 = abs(orow - trow) + abs(ocol - tcol)
    best_g[start] = 0
    parent[start] = -1
    node_of[0], g_of[0] = start, 0
    size = _push(heap, 0, (np.int64(h0) << f_shift) | (np.int64(h0) << h_shift) | 0)
    counter, expanded = 1, 0
    while size > 0:
        key, size = _pop(heap, size)
        entry = key & n_mask
        node, g = node_of[entry], g_of[entry]
        if g > best_g[node]:
            continue
        if node == goal:
            length = g + 1
            cell = goal
            for i in range(length - 1, -1, -1):
                out[i, 0], out[i, 1] = cell // cols, cell % cols
                cell = parent[cell]
            return length, expanded, counter
        expanded += 1
        r, c = node // cols, node % cols
        for a in range(4):
            nr, nc = -1, -1
            if a == 0 and r > 0 and conn[0, r - 1, c]:
                nr, nc = r - 1, c
            elif a == 1 and c + 1 < cols and conn[1, r, c]:
                nr, nc = r, c + 1
            elif a == 2 and r + 1 < rows and conn[0, r, c]:
                nr, nc = r + 1, c
            elif a == 3 and c > 0 and conn[1, r, c - 1]:
                nr, nc = r, c - 1
            if nr < 0:
                continue
            nb = nr * cols + nc
            g_nb = g + 1
            if best_g[nb] < 0 or g_nb < best_g[nb]:
                best_g[nb] = g_nb
                parent[nb] = node
                h = abs(nr - trow) + abs(nc - tcol)
                node_of[counter], g_of[counter] = nb, g_nb
                key = (np.int64(g_nb + h) << f_shift) | (np.int64(h) << h_shift) | counter
                size = _push(heap, size, key)
                counter += 1
    return 0, expanded, counter


@numba.njit(cache=True)
def batch_astar(conns, origins, targets, h_shift, f_shift, paths, lengths, expanded, generated):  # type: ignore[no-untyped-def]
    """A* (Manhattan) on ``N`` mazes ``conns: bool[N, 2, R, C]``.

    Writes path ``i`` into ``paths[i, :lengths[i]]`` (``int32[N, R*C, 2]``; length 0 where the
    target is unreachable) and the counters into ``expanded`` / ``generated`` (``int64[N]``).
    """
    rows, cols = conns.shape[2], conns.shape[3]
    n = rows * cols
    cap = 4 * n + 1
    heap = np.empty(cap, dtype=np.int64)
    node_of = np.empty(cap, dtype=np.int64)
    g_of = np.empty(cap, dtype=np.int64)
    best_g = np.empty(n, dtype=np.int64)
    parent = np.empty(n, dtype=np.int64)
    for i in range(conns.shape[0]):
        length, n_exp, n_gen = _astar_one(
            conns[i], origins[i, 0], origins[i, 1], targets[i, 0], targets[i, 1],
            h_shift, f_shift, paths[i], heap, node_of, g_of, best_g, parent,
        )  # fmt: skip
        lengths[i], expanded[i], generated[i] = length, n_exp, n_gen


@numba.njit(cache=True)
def astar_single(conn, orow, ocol, trow, tcol, h_shift, f_shift):  # type: ignore[no-untyped-def]
    """A* (Manhattan) on one maze: ``(path int64[L, 2], expanded, generated)``, ``L = 0`` if unreachable."""
    n = conn.shape[1] * conn.shape[2]
    cap = 4 * n + 1
    out = np.empty((n, 2), dtype=np.int64)
    heap, node_of, g_of = np.empty(cap, np.int64), np.empty(cap, np.int64), np.empty(cap, np.int64)
    best_g, parent = np.empty(n, np.int64), np.empty(n, np.int64)
    length, n_exp, n_gen = _astar_one(
        conn, orow, ocol, trow, tcol, h_shift, f_shift, out, heap, node_of, g_of, best_g, parent
    )
    return out[:length], n_exp, n_gen


def run_single_astar(
    conn: np.ndarray, origin: tuple[int, int], target: tuple[int, int]
) -> tuple[np.ndarray, int, int]:
    """Run :func:`astar_single` on ``conn: bool[2, R, C]``; returns ``(path, expanded, generated)``."""
    _, bits_h, bits_n = key_bits(conn.shape[1], conn.shape[2])
    path, n_exp, n_gen = astar_single(
        conn, origin[0], origin[1], target[0], target[1], bits_n, bits_n + bits_h
    )
    return path, int(n_exp), int(n_gen)


def run_batch_astar(
    conn: np.ndarray, origins: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Run :func:`batch_astar`; returns ``(paths int32[N, R*C, 2], lengths, expanded, generated)``."""
    n_tasks, _, rows, cols = conn.shape
    _, bits_h, bits_n = key_bits(rows, cols)
    paths = np.zeros((n_tasks, rows * cols, 2), dtype=np.int32)
    lengths = np.zeros(n_tasks, dtype=np.int64)
    expanded = np.zeros(n_tasks, dtype=np.int64)
    generated = np.zeros(n_tasks, dtype=np.int64)
    batch_astar(
        np.ascontiguousarray(conn), np.ascontiguousarray(origins, dtype=np.int64),
        np.ascontiguousarray(targets, dtype=np.int64), bits_n, bits_n + bits_h,
        paths, lengths, expanded, generated,
    )  # fmt: skip
    return paths, lengths, expanded, generated

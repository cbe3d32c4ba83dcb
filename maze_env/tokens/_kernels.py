"""The numba kernel behind :meth:`Vocabulary.encode_arrays`: whole id rows in one pass per maze.

Edge slots are as in :func:`maze_env.tokens.schemes.edge_mask`: slot ``(r*C + c)*2`` is the edge
from ``(r, c)`` to its right, ``+1`` the one below. With random keys, the listed slots are ordered
by key (an insertion sort: stable, so equal to ``argsort`` on distinct keys) and slot ``s`` is
written second cell first when ``flip_keys[s] < 0.5``: exactly the draws of
:func:`~maze_env.tokens.schemes.order_edges`, so ``tokenize`` and the vocabulary agree.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _listed_slots(conn, walls, slots):  # type: ignore[no-untyped-def]
    """Write the listed edge slots of one maze (``conn`` ``[2, R, C]``) into ``slots``; count."""
    rows, cols = conn.shape[1], conn.shape[2]
    m = 0
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols and conn[1, r, c] != walls:
                slots[m] = (r * cols + c) * 2
                m += 1
            if r + 1 < rows and conn[0, r, c] != walls:
                slots[m] = (r * cols + c) * 2 + 1
                m += 1
    return m


@numba.njit(cache=True)
def count_edges(conns, walls):  # type: ignore[no-untyped-def]
    """``int64[N]``: the number of listed edges of each maze."""
    slots = np.empty(conns.shape[2] * conns.shape[3] * 2, dtype=np.int64)
    out = np.empty(conns.shape[0], dtype=np.int64)
    for i in range(conns.shape[0]):
        out[i] = _listed_slots(conns[i], walls, slots)
    return out


@numba.njit(cache=True)
def _put(out, i, p, cell_tok, cell):  # type: ignore[no-untyped-def]
    for j in range(cell_tok.shape[1]):
        out[i, p + j] = cell_tok[cell, j]
    return p + cell_tok.shape[1]


@numba.njit(cache=True)
def encode_rows(  # type: ignore[no-untyped-def]
    out, conns, walls, keys, shuffle, ends, path_flat, path_off, path_len, cell_tok, specials
):
    """Fill ``out`` (``int32[N, T]``, pre-filled with padding) with one sequence per maze.

    Args:
        out: the output rows.
        conns: ``bool[N, 2, R, C]``.
        walls: list walls instead of passages.
        keys: ``float64[N, 2, K]`` draws (order keys, flip keys) when ``shuffle``.
        shuffle: random order and direction; else sorted, smaller cell first.
        ends: ``int64[N, 2]`` flat origin and target cells (``r * C + c``).
        path_flat: ``int64[P]`` flat path cells of all mazes, concatenated.
        path_off: ``int64[N]`` where each maze's path starts in ``path_flat``.
        path_len: ``int64[N]`` path lengths; ``-1``: a prompt (no path, no ``<PATH_END>``).
        cell_tok: ``int32[R * C, W]`` the token ids of each flat cell.
        specials: ids of ``<ADJLIST_START> <--> ; <ADJLIST_END> <ORIGIN_START> <ORIGIN_END>
            <TARGET_START> <TARGET_END> <PATH_START> <PATH_END>`` (``<-->`` or ``<XX>``).
    """
    cols = conns.shape[3]
    slots = np.empty(conns.shape[2] * cols * 2, dtype=np.int64)
    kbuf = np.empty(slots.shape[0], dtype=np.float64)
    for i in range(conns.shape[0]):
        m = _listed_slots(conns[i], walls, slots)
        if shuffle:
            for a in range(m):  # insertion sort of (key, slot) by key
                s = slots[a]
                key = keys[i, 0, s]
                b = a - 1
                while b >= 0 and kbuf[b] > key:
                    kbuf[b + 1] = kbuf[b]
                    slots[b + 1] = slots[b]
                    b -= 1
                kbuf[b + 1] = key
                slots[b + 1] = s
        out[i, 0] = specials[0]
        p = 1
        for k in range(m):
            s = slots[k]
            first = s // 2
            second = first + 1 if s % 2 == 0 else first + cols
            if shuffle and keys[i, 1, s] < 0.5:
                first, second = second, first
            p = _put(out, i, p, cell_tok, first)
            out[i, p] = specials[1]
            p = _put(out, i, p + 1, cell_tok, second)
            out[i, p] = specials[2]
            p += 1
        out[i, p], out[i, p + 1] = specials[3], specials[4]
        p = _put(out, i, p + 2, cell_tok, ends[i, 0])
        out[i, p], out[i, p + 1] = specials[5], specials[6]
        p = _put(out, i, p + 2, cell_tok, ends[i, 1])
        out[i, p], out[i, p + 1] = specials[7], specials[8]
        p += 2
        if path_len[i] >= 0:
            for k in range(path_len[i]):
                p = _put(out, i, p, cell_tok, path_flat[path_off[i] + k])
            out[i, p] = specials[9]

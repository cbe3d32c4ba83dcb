"""The VIN extractor's max-plus fixed point by a Dijkstra sweep (numba), for inference.

:class:`agents.rl.extractors.MazeVIN` iterates ``v <- max(floor, max_a [open_a] (v[nb_a] - k))``.
With every cost ``k > 0`` (a softplus) its fixed point is, per cell ``c``, the largest
``floor[u] - (k along a path from c to u, u excluded)`` over all cells ``u``: a shortest-path
problem with non-negative cell weights, which a Dijkstra sweep from all cells at once (largest
value first) solves in ``O(N log N)`` instead of up to ``N`` sweeps of the whole grid. Every value
is made with the same float32 operations as the iteration (``v[u] - k[c]``, then the larger of
that and the floor), so the result equals the iterated fixed point (tested).
"""

from __future__ import annotations

import heapq

import numba
import numpy as np

_DR = (-1, 0, 1, 0)
_DC = (0, 1, 0, -1)


@numba.njit(cache=True)
def _sweep(floor: np.ndarray, k: np.ndarray, opened: np.ndarray, out: np.ndarray) -> None:
    rows, cols = floor.shape
    dr = np.array(_DR)
    dc = np.array(_DC)
    for r in range(rows):
        for c in range(cols):
            out[r, c] = floor[r, c]
    heap = [(np.float32(0.0), 0)]
    heap.pop()
    for r in range(rows):
        for c in range(cols):
            heapq.heappush(heap, (-out[r, c], r * cols + c))
    while len(heap) > 0:
        neg, cell = heapq.heappop(heap)
        r, c = cell // cols, cell % cols
        if -neg != out[r, c]:
            continue  # stale entry
        for a in range(4):
            nr, nc = r + dr[a], c + dc[a]
            # c' = (nr, nc) reads u = (r, c) when c' has an open move back towards u
            if nr < 0 or nr >= rows or nc < 0 or nc >= cols or not opened[(a + 2) % 4, nr, nc]:
                continue
            cand = np.float32(out[r, c] - k[nr, nc])
            if cand > out[nr, nc]:
                out[nr, nc] = cand
                heapq.heappush(heap, (-cand, nr * cols + nc))


def maxplus_fixed_point(floor: np.ndarray, k: np.ndarray, opened: np.ndarray) -> np.ndarray:
    """The fixed point of the VIN's iteration for a batch.

    Args:
        floor: ``float32[B, R, C]`` the values' floor (the reward map, or -1e4 off the peak).
        k: ``float32[B, R, C]`` the cost of leaving each cell (> 0).
        opened: ``bool[B, 4, R, C]`` open moves up, right, down, left.

    Returns:
        ``float32[B, R, C]``.
    """
    floor = np.ascontiguousarray(floor, dtype=np.float32)
    k = np.ascontiguousarray(k, dtype=np.float32)
    opened = np.ascontiguousarray(opened, dtype=np.bool_)
    out = np.empty_like(floor)
    for b in range(floor.shape[0]):
        _sweep(floor[b], k[b], opened[b], out[b])
    return out

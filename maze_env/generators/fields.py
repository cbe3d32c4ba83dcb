"""Open fields: open_field (no walls) and open_field_obstacle (one obstacle to walk around).

Each kernel loops over the mazes of a batch inside numba; maze ``i`` draws only from the stream
``stream_state(key, start + i)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from maze_env.generators import register
from maze_env.generators._common import check_choice
from maze_env.rng import rand_below, stream_state
from maze_env.types import Shape


@register(
    "open_field", summary="every interior passage open: no walls at all", guarantee="connected"
)
def open_field(shape: Shape, n: int, *, key: int, start: int) -> np.ndarray:
    """The open field: every interior passage open (deterministic: seeds do not matter).

    Returns:
        ``bool[n, 2, rows, cols]``, connected.
    """
    rows, cols = shape
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    out[:, 0, : rows - 1, :] = True
    out[:, 1, :, : cols - 1] = True
    return out


_OBSTACLES = ("segment", "block")


@njit(cache=True)
def _wall_box(conn: np.ndarray, state: np.ndarray, r0: int, c0: int, bh: int, bw: int) -> None:
    """Wall the outline of the ``bh x bw`` box of cells at ``(r0, c0)``, but for one random door.

    The outline's passages to the outside are numbered top, bottom, left, right (each side in
    order, sides on the grid's border have none); door ``k`` is drawn uniformly among them.
    """
    rows, cols = conn.shape[1], conn.shape[2]
    sides = (r0 > 0, r0 + bh < rows, c0 > 0, c0 + bw < cols)  # top, bottom, left, right
    lengths = (bw, bw, bh, bh)
    n_out = 0
    for s in range(4):
        n_out += lengths[s] if sides[s] else 0
    door = rand_below(state, n_out)
    for s in range(4):
        if not sides[s]:
            continue
        if s < 2:  # a row of down passages, above (top) or below (bottom) the box
            r = r0 - 1 if s == 0 else r0 + bh - 1
            conn[0, r, c0 : c0 + bw] = False
            if 0 <= door < bw:
                conn[0, r, c0 + door] = True
        else:  # a column of right passages, left or right of the box
            c = c0 - 1 if s == 2 else c0 + bw - 1
            conn[1, r0 : r0 + bh, c] = False
            if 0 <= door < bh:
                conn[1, r0 + door, c] = True
        door -= lengths[s]


@njit(cache=True)
def _obstacle_kernel(
    rows: int, cols: int, n: int, key: np.uint64, start: int, block: bool, size: float
) -> np.ndarray:
    out = np.zeros((n, 2, rows, cols), dtype=np.bool_)
    out[:, 0, : rows - 1, :] = True
    out[:, 1, :, : cols - 1] = True
    if rows < 2 or cols < 2:
        return out  # no room for an obstacle that keeps a one-cell-wide grid connected
    for i in range(n):
        state = stream_state(key, start + i)
        conn = out[i]
        if block:
            bh = min(max(int(size * rows + 0.5), 1), rows - 1)
            bw = min(max(int(size * cols + 0.5), 1), cols - 1)
            r0, c0 = rand_below(state, rows - bh + 1), rand_below(state, cols - bw + 1)
            _wall_box(conn, state, r0, c0, bh, bw)
        elif rand_below(state, 2) == 0:  # a horizontal wall across part of one row boundary
            length = min(max(int(size * cols + 0.5), 1), cols - 1)
            wr, c0 = 1 + rand_below(state, rows - 1), rand_below(state, cols - length + 1)
            conn[0, wr - 1, c0 : c0 + length] = False
        else:  # a vertical wall across part of one column boundary
            length = min(max(int(size * rows + 0.5), 1), rows - 1)
            wc, r0 = 1 + rand_below(state, cols - 1), rand_below(state, rows - length + 1)
            conn[1, r0 : r0 + length, wc - 1] = False
    return out


@register(
    "open_field_obstacle",
    summary="an open field with one obstacle: a straight wall segment or a walled box with one door",
    guarantee="connected",
)
def open_field_obstacle(
    shape: Shape, n: int, *, key: int, start: int, kind: str = "segment", size: float = 0.5
) -> np.ndarray:
    """An open field with one obstacle to walk around (the seed's generalization example).

    ``kind="segment"``: one straight wall, horizontal or vertical with probability 1/2, along a
    random row (column) boundary at a random offset, ``round(size * side)`` cells long but always
    at least one cell short of the side, so the field stays connected.
    ``kind="block"``: the outline of a random ``round(size * rows) x round(size * cols)`` box of
    cells (at most ``rows - 1`` by ``cols - 1``) is walled, its inside stays open, and one
    uniformly random passage of the outline is left as a door, so every cell stays reachable.
    Grids one cell wide or tall get the open field (any wall there would cut them).

    Args:
        kind: ``"segment"`` or ``"block"``.
        size: in ``(0, 1]``: the obstacle's extent as a fraction of the grid's side.

    Returns:
        ``bool[n, 2, rows, cols]``, connected.
    """
    check_choice("kind", kind, _OBSTACLES)
    if isinstance(size, (bool, np.bool_)) or not isinstance(
        size, (int, float, np.integer, np.floating)
    ):
        raise ValueError(f"size must be a float in (0, 1], got {size!r}")
    if not (0.0 < float(size) <= 1.0) or math.isnan(float(size)):
        raise ValueError(f"size must be a float in (0, 1], got {size!r}")
    return _obstacle_kernel(
        shape[0], shape[1], n, np.uint64(key), start, kind == "block", float(size)
    )


__all__ = ["open_field", "open_field_obstacle"]

"""Shared aliases and the action enum: the one home for names every part of the project uses.

The action <-> delta maps live here and nowhere else: :data:`ACTION_DELTAS` (action -> move) and
its inverses :data:`ACTION_OF_DELTA` (dict) and :data:`ACTION_OF_DELTA_CODE` (array).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

Coord = tuple[int, int]
"""A cell as ``(row, col)``; origin top-left, rows grow downwards."""

Shape = tuple[int, int]
"""A maze shape as ``(rows, cols)`` in cells."""


class Action(IntEnum):
    """The four moves, in the env's ``Discrete(4)`` order (clockwise from up)."""

    UP = 0
    RIGHT = 1
    DOWN = 2
    LEFT = 3


ACTION_DELTAS: np.ndarray = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)], dtype=np.int64)
"""``[4, 2]`` int64: ``(d_row, d_col)`` of each :class:`Action`, indexed by its value."""


ACTION_OF_DELTA: dict[tuple[int, int], int] = {
    (int(dr), int(dc)): action for action, (dr, dc) in enumerate(ACTION_DELTAS.tolist())
}
"""``(d_row, d_col) -> action id`` (plain ints): the inverse of :data:`ACTION_DELTAS`. A delta
that is not one move (a stay, a diagonal, a jump) is missing: use ``.get(delta, -1)``."""

ACTION_OF_DELTA_CODE: np.ndarray = np.full(9, -1, dtype=np.int64)
"""``int64[9]``: the action of a move by its code ``3 * (d_row + 1) + (d_col + 1)`` (deltas in
``-1..1``), ``-1`` where the code is not one move; :data:`ACTION_OF_DELTA` as an array, for
vectorised look-ups over whole paths."""
for (_dr, _dc), _action in ACTION_OF_DELTA.items():
    ACTION_OF_DELTA_CODE[3 * (_dr + 1) + (_dc + 1)] = _action
del _dr, _dc, _action


def action_between(a: Coord, b: Coord) -> Action:
    """The action that moves from cell ``a`` to the adjacent cell ``b``.

    Raises:
        ValueError: if ``b`` is not one of the four neighbours of ``a``.
    """
    action = ACTION_OF_DELTA.get((b[0] - a[0], b[1] - a[1]))
    if action is None:
        raise ValueError(f"cells {a} and {b} are not adjacent: no single action moves between them")
    return Action(action)

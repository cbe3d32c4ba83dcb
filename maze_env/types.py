"""Shared aliases and the action enum: the one home for names every part of the project uses."""

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


def action_between(a: Coord, b: Coord) -> Action:
    """The action that moves from cell ``a`` to the adjacent cell ``b``.

    Raises:
        ValueError: if ``b`` is not one of the four neighbours of ``a``.
    """
    delta = (b[0] - a[0], b[1] - a[1])
    for action in Action:
        if tuple(ACTION_DELTAS[action]) == delta:
            return action
    raise ValueError(f"cells {a} and {b} are not adjacent: no single action moves between them")

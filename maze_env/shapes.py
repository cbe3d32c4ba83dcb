"""Shape arguments: the one parser of maze shapes, for the command line, configs and the env.

:func:`parse_shape` reads one shape from text (``"6x6"``, ``"6,10"``, ``"7"``) or a value (``7``,
``(6, 10)``, ``[6, 10]``); :func:`parse_shapes` reads the env's ``shape`` argument, which may list
several shapes. Both validate through :func:`maze_env.generators.check_shape`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from maze_env.generators import check_shape
from maze_env.types import Shape

__all__ = ["parse_shape", "parse_shapes"]

_TEXT = re.compile(r"\s*(\d+)\s*(?:[x,]\s*(\d+)\s*)?")
_TEXT_HELP = "shape must look like 6x6, 6,6 (rows x cols) or 6 (a square)"


def parse_shape(shape: Any) -> Shape:
    """One shape as ``(rows, cols)``.

    Args:
        shape: ``"ROWSxCOLS"`` or ``"ROWS,COLS"`` (case and spaces ignored), ``"N"`` or an int
            ``N`` (an ``N x N`` square), or a ``(rows, cols)`` pair.

    Raises:
        ValueError: naming the accepted forms, or :func:`check_shape`'s limits.
    """
    if isinstance(shape, str):
        match = _TEXT.fullmatch(shape.lower())
        if match is None:
            raise ValueError(f"{_TEXT_HELP}, got {shape!r}")
        rows, cols = match.groups()
        return check_shape((int(rows), int(cols if cols is not None else rows)))
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return check_shape((shape, shape))
    return check_shape(shape)


def parse_shapes(shape: Any) -> tuple[Shape, ...]:
    """The env's ``shape`` argument as a tuple of distinct shapes, in order.

    Accepts ``(rows, cols)`` (a pair of ints is always one shape), an int (a square), a ``range``
    of square sizes (``range(3, 5)`` is 3x3 and 4x4, never the shape 3x4), or a list of shapes
    (pairs or ints). Text is not accepted here: the env takes
    Python values (text forms are for the command line and config files, :func:`parse_shape`).
    """
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return (parse_shape(shape),)
    is_pair = (
        isinstance(shape, Sequence) and not isinstance(shape, (str, range)) and len(shape) == 2
    )
    if is_pair and all(isinstance(v, (int, np.integer)) for v in shape):
        return (check_shape(shape),)
    if not isinstance(shape, (range, Sequence)) or isinstance(shape, str) or len(shape) == 0:
        raise ValueError(
            "shape must be (rows, cols), an int, a range of square sizes or a list of shapes, "
            f"got {shape!r}"
        )
    if any(isinstance(s, (range, str)) for s in shape):
        raise ValueError(f"a list of shapes holds pairs or ints, not ranges or text, got {shape!r}")
    return tuple(dict.fromkeys(parse_shapes(s)[0] for s in shape))

"""Where origins and targets go: one parser and sampler shared by datasets, the env and suites.

A placement is written as a short string:

==================  =======================================================================
``random``          any cell, uniformly
``cell:R,C``        one fixed cell; negative indices count from the end (``cell:-1,-1``)
``corner``          one of the four corner cells, uniformly; ``corner:tl|tr|bl|br`` fixes one
``region:br:K``     the K x K block of cells in a corner (``tl``, ``tr``, ``bl`` or ``br``)
``outside:br:K``    every cell *not* in that block (the held-out complement of ``region``)
``dead_end``        a dead end (a cell with one passage); falls back to ``random`` if none
==================  =======================================================================

Corner- and region-based placements are size-independent: ``region:br:2`` is the bottom-right
2x2 block of a 6x6 maze and of a 16x16 one, which is what goal-misgeneralization experiments need.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from maze_env.maze import Maze, dead_end_cells
from maze_env.types import Coord, Shape

CORNERS = ("tl", "tr", "bl", "br")
KINDS = ("random", "cell", "corner", "region", "outside", "dead_end")
_HELP = "allowed: random, cell:R,C, corner, corner:tl|tr|bl|br, region:CORNER:K, outside:CORNER:K, dead_end"


@dataclass(frozen=True)
class Placement:
    """A parsed placement spec; build with :func:`parse_placement`."""

    kind: str
    corner: str | None = None
    size: int = 1
    cell: Coord | None = None

    @property
    def spec(self) -> str:
        """The canonical string form (``parse_placement(p.spec) == p``)."""
        if self.kind == "cell":
            return f"cell:{self.cell[0]},{self.cell[1]}"  # type: ignore[index]
        if self.kind == "corner":
            return "corner" if self.corner is None else f"corner:{self.corner}"
        if self.kind in ("region", "outside"):
            return f"{self.kind}:{self.corner}:{self.size}"
        return self.kind

    def mask(self, shape: Shape, maze: Maze | None = None) -> np.ndarray:
        """``[rows, cols]`` bool: the cells this placement may choose in a maze of ``shape``.

        ``dead_end`` needs ``maze``; without it (or with no dead ends) every cell is allowed.
        """
        rows, cols = shape
        mask = np.zeros((rows, cols), dtype=bool)
        if self.kind == "random":
            mask[:] = True
        elif self.kind == "cell":
            r, c = self.cell  # type: ignore[misc]
            r, c = (r + rows if r < 0 else r), (c + cols if c < 0 else c)
            if not (0 <= r < rows and 0 <= c < cols):
                raise ValueError(f"placement {self.spec!r} is outside the {rows}x{cols} grid")
            mask[r, c] = True
        elif self.kind == "corner":
            for corner in CORNERS if self.corner is None else (self.corner,):
                mask[_corner_slices(corner, 1, shape)] = True
        elif self.kind in ("region", "outside"):
            mask[_corner_slices(self.corner, self.size, shape)] = True  # type: ignore[arg-type]
            if self.kind == "outside":
                mask = ~mask
        elif self.kind == "dead_end":
            mask[:] = True
            if maze is not None:
                mask = dead_end_mask(maze.connections[None]).reshape(rows, cols)
        return mask

    def contains(self, cell: Coord, shape: Shape) -> bool:
        """True if ``cell`` is one this placement may choose in a maze of ``shape``."""
        return bool(self.mask(shape)[cell[0], cell[1]])

    def sample(self, rng: np.random.Generator, maze: Maze, exclude: Coord | None = None) -> Coord:
        """Draw one cell uniformly from :meth:`mask`, avoiding ``exclude`` when another cell is allowed."""
        mask = self.mask(maze.shape, maze)
        if exclude is not None and mask.sum() > 1:
            mask = mask.copy()
            mask[exclude[0], exclude[1]] = False
        cells = np.flatnonzero(mask)
        if cells.size == 0:
            raise ValueError(
                f"placement {self.spec!r} allows no cell in a {maze.shape[0]}x{maze.shape[1]} maze"
            )
        idx = int(cells[rng.integers(cells.size)])
        return (idx // maze.shape[1], idx % maze.shape[1])


def dead_end_mask(conn: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """``bool[N, R*C]``: the cells the ``dead_end`` placement may choose in each maze.

    The one home of that rule: a maze's dead ends (:func:`maze_env.maze.dead_end_cells`), or,
    where a maze has none, every cell of ``valid``.

    Args:
        conn: ``bool[N, 2, R, C]`` connections (mazes padded to ``R x C`` have no passages outside).
        valid: ``bool[N or 1, R*C]``: the cells inside each maze; default every cell.
    """
    n = conn.shape[0]
    dead = dead_end_cells(conn).reshape(n, -1)
    fallback = np.ones_like(dead) if valid is None else np.broadcast_to(valid, dead.shape)
    return np.where(dead.any(axis=1, keepdims=True), dead, fallback)


def _corner_slices(corner: str, k: int, shape: Shape) -> tuple[slice, slice]:
    rows, cols = shape
    k_r, k_c = min(k, rows), min(k, cols)
    rs = slice(0, k_r) if corner[0] == "t" else slice(rows - k_r, rows)
    cs = slice(0, k_c) if corner[1] == "l" else slice(cols - k_c, cols)
    return rs, cs


def parse_placement(spec: str | Placement | tuple[int, int] | list[int]) -> Placement:
    """Parse a placement string (see the module docstring); a ``(row, col)`` pair means ``cell``."""
    if isinstance(spec, Placement):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return Placement("cell", cell=(int(spec[0]), int(spec[1])))
    if not isinstance(spec, str):
        raise ValueError(f"placement must be a string or a (row, col) pair, got {spec!r}; {_HELP}")
    parts = spec.strip().split(":")
    kind = parts[0]
    try:
        if kind in ("random", "dead_end") and len(parts) == 1:
            return Placement(kind)
        if kind == "cell" and len(parts) == 2:
            r, c = (int(v) for v in parts[1].split(","))
            return Placement("cell", cell=(r, c))
        if kind == "corner" and len(parts) == 1:
            return Placement("corner")
        if kind == "corner" and len(parts) == 2 and parts[1] in CORNERS:
            return Placement("corner", corner=parts[1])
        if kind in ("region", "outside") and len(parts) == 3 and parts[1] in CORNERS:
            k = int(parts[2])
            if k >= 1:
                return Placement(kind, corner=parts[1], size=k)
    except ValueError:
        pass
    raise ValueError(f"bad placement {spec!r}; {_HELP}")

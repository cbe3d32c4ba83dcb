"""The maze data model: :class:`Maze`, :class:`Task` and :class:`MazeBatch`.

A maze is a lattice of ``rows x cols`` cells whose one source of truth is ``connections``, a bool
array of shape ``[2, rows, cols]`` (maze-dataset's convention):

* ``connections[0, r, c]``: a passage between ``(r, c)`` and ``(r + 1, c)`` (down);
* ``connections[1, r, c]``: a passage between ``(r, c)`` and ``(r, c + 1)`` (right).

The last row of ``connections[0]`` and the last column of ``connections[1]`` would lead out of the
grid and must be False.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import overload

import numpy as np

from maze_env.types import ACTION_DELTAS, Coord, Shape

WALL, FREE, ORIGIN, TARGET, PATH = "#", " ", "S", "E", "X"
"""ASCII characters, as maze-dataset's ``as_ascii`` writes them."""


def _check_connections(conn: np.ndarray, *, batched: bool) -> None:
    ndim = 4 if batched else 3
    expected = "[N, 2, rows, cols]" if batched else "[2, rows, cols]"
    if not isinstance(conn, np.ndarray):
        raise TypeError(
            f"connections must be a numpy array of shape {expected}, got {type(conn).__name__}"
        )
    if conn.dtype != np.bool_:
        raise TypeError(
            f"connections must have dtype bool, got {conn.dtype}; convert with .astype(bool) "
            "if the values are 0/1"
        )
    if conn.ndim != ndim or conn.shape[-3] != 2:
        raise ValueError(f"connections must have shape {expected}, got {conn.shape}")
    rows, cols = conn.shape[-2:]
    if rows < 1 or cols < 1:
        raise ValueError(f"a maze needs at least one row and one column, got {rows}x{cols}")
    down_out = conn[..., 0, rows - 1, :]
    right_out = conn[..., 1, :, cols - 1]
    if down_out.any():
        col = int(np.argwhere(down_out)[0][-1])
        raise ValueError(
            f"passage leaves the grid: connections[0, {rows - 1}, {col}] joins the last row to a "
            f"row {rows} that does not exist; the last row of connections[0] must be False"
        )
    if right_out.any():
        row = int(np.argwhere(right_out)[0][-1])
        raise ValueError(
            f"passage leaves the grid: connections[1, {row}, {cols - 1}] joins the last column to "
            f"a column {cols} that does not exist; the last column of connections[1] must be False"
        )


def check_cell(cell: Sequence[int], shape: Shape, what: str = "cell") -> Coord:
    """Return ``cell`` as a ``(row, col)`` tuple of ints, or raise if it is outside ``shape``."""
    try:
        r, c = (int(v) for v in cell)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a (row, col) pair of ints, got {cell!r}") from None
    if not (0 <= r < shape[0] and 0 <= c < shape[1]):
        raise ValueError(
            f"{what} {(r, c)} is outside the {shape[0]}x{shape[1]} grid "
            f"(rows 0..{shape[0] - 1}, cols 0..{shape[1] - 1})"
        )
    return (r, c)


def cell_degrees(conn: np.ndarray) -> np.ndarray:
    """``int8[..., R, C]``: the number of passages at each cell of ``conn: bool[..., 2, R, C]``.

    The one home of the degree count: :meth:`Maze.degrees`, :func:`dead_end_cells` and through
    it the ``dead_end`` placement (:func:`maze_env.placement.dead_end_mask`) all use it.
    """
    conn = np.asarray(conn, dtype=bool)
    down, right = conn[..., 0, :, :], conn[..., 1, :, :]
    deg = down.astype(np.int8) + right
    deg[..., 1:, :] += down[..., :-1, :]
    deg[..., :, 1:] += right[..., :, :-1]
    return deg


def dead_end_cells(conn: np.ndarray) -> np.ndarray:
    """``bool[..., R, C]``: the dead ends (cells with exactly one passage) of ``conn[..., 2, R, C]``."""
    return cell_degrees(conn) == 1


@dataclass(frozen=True, eq=False)
class Maze:
    """An immutable lattice maze over ``connections: bool[2, rows, cols]``.

    Equality and hashing are by content. The array is copied and made read-only on construction,
    and validated (see :meth:`validate`).
    """

    connections: np.ndarray

    def __post_init__(self) -> None:
        conn = (
            np.array(self.connections, copy=True)
            if isinstance(self.connections, np.ndarray)
            else self.connections
        )
        _check_connections(conn, batched=False)
        conn.setflags(write=False)
        object.__setattr__(self, "connections", conn)

    # -- basic properties ---------------------------------------------------------------------
    @property
    def shape(self) -> Shape:
        """``(rows, cols)`` in cells."""
        return (int(self.connections.shape[1]), int(self.connections.shape[2]))

    @property
    def n_cells(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def n_edges(self) -> int:
        """The number of passages."""
        return int(self.connections.sum())

    def validate(self) -> None:
        """Raise ``TypeError``/``ValueError`` naming the problem if the array is not a valid maze."""
        _check_connections(self.connections, batched=False)

    # -- graph ------------------------------------------------------------------------------------
    def has_passage(self, a: Coord, b: Coord) -> bool:
        """True if cells ``a`` and ``b`` are adjacent and joined by a passage."""
        (r0, c0), (r1, c1) = a, b
        rows, cols = self.shape
        if not (0 <= r0 < rows and 0 <= c0 < cols and 0 <= r1 < rows and 0 <= c1 < cols):
            return False
        if c0 == c1 and abs(r0 - r1) == 1:
            return bool(self.connections[0, min(r0, r1), c0])
        if r0 == r1 and abs(c0 - c1) == 1:
            return bool(self.connections[1, r0, min(c0, c1)])
        return False

    def neighbors(self, cell: Coord) -> list[Coord]:
        """Cells reachable from ``cell`` in one move, in action order (up, right, down, left)."""
        r, c = check_cell(cell, self.shape)
        out = []
        for dr, dc in ACTION_DELTAS:
            nb = (r + int(dr), c + int(dc))
            if self.has_passage((r, c), nb):
                out.append(nb)
        return out

    def open_moves(self) -> np.ndarray:
        """``[rows, cols, 4]`` bool: whether each action (up, right, down, left) is open."""
        conn = self.connections
        rows, cols = self.shape
        moves = np.zeros((rows, cols, 4), dtype=bool)
        moves[1:, :, 0] = conn[0, :-1, :]
        moves[:, :, 1] = conn[1]
        moves[:, :, 2] = conn[0]
        moves[:, 1:, 3] = conn[1, :, :-1]
        return moves

    def degrees(self) -> np.ndarray:
        """``[rows, cols]`` int: the number of passages at each cell (:func:`cell_degrees`)."""
        return cell_degrees(self.connections).astype(np.int64)

    def edges(self) -> list[tuple[Coord, Coord]]:
        """Every passage once, as ``((r, c), (r', c'))`` with the first cell above or left, sorted."""
        out: list[tuple[Coord, Coord]] = []
        for r, c in np.argwhere(self.connections[0]):
            out.append(((int(r), int(c)), (int(r) + 1, int(c))))
        for r, c in np.argwhere(self.connections[1]):
            out.append(((int(r), int(c)), (int(r), int(c) + 1)))
        return sorted(out)

    @classmethod
    def from_edges(cls, shape: Shape, edges: Sequence[tuple[Coord, Coord]]) -> Maze:
        """Build a maze of ``shape`` from passages between adjacent cells (either direction)."""
        rows, cols = int(shape[0]), int(shape[1])
        conn = np.zeros((2, rows, cols), dtype=bool)
        for a, b in edges:
            a = check_cell(a, (rows, cols), "edge endpoint")
            b = check_cell(b, (rows, cols), "edge endpoint")
            (r0, c0), (r1, c1) = sorted((a, b))
            if c0 == c1 and r1 - r0 == 1:
                conn[0, r0, c0] = True
            elif r0 == r1 and c1 - c0 == 1:
                conn[1, r0, c0] = True
            else:
                raise ValueError(f"edge {a} <--> {b} joins cells that are not adjacent")
        return cls(conn)

    def reachable(self, cell: Coord) -> np.ndarray:
        """``[rows, cols]`` bool: the cells reachable from ``cell``."""
        start = check_cell(cell, self.shape)
        moves = self.open_moves()
        seen = np.zeros(self.shape, dtype=bool)
        seen[start] = True
        queue = deque([start])
        while queue:
            r, c = queue.popleft()
            for a in range(4):
                if moves[r, c, a]:
                    nr, nc = r + int(ACTION_DELTAS[a, 0]), c + int(ACTION_DELTAS[a, 1])
                    if not seen[nr, nc]:
                        seen[nr, nc] = True
                        queue.append((nr, nc))
        return seen

    def is_connected(self) -> bool:
        """True if every cell can reach every other."""
        return bool(self.reachable((0, 0)).all())

    def is_perfect(self) -> bool:
        """True if the maze is a spanning tree: connected, with exactly ``n_cells - 1`` passages."""
        return self.n_edges == self.n_cells - 1 and self.is_connected()

    # -- pixel grid and ASCII -----------------------------------------------------------------
    def as_grid(self) -> np.ndarray:
        """``[2*rows + 1, 2*cols + 1]`` bool "pixel" grid, True where there is a wall.

        Cell ``(r, c)`` is pixel ``(2r + 1, 2c + 1)``; the passage below it is ``(2r + 2, 2c + 1)``
        and the one to its right ``(2r + 1, 2c + 2)``. Corner pixels are always walls.
        """
        rows, cols = self.shape
        grid = np.ones((2 * rows + 1, 2 * cols + 1), dtype=bool)
        grid[1::2, 1::2] = False
        grid[2:-1:2, 1::2] = ~self.connections[0, :-1, :]
        grid[1::2, 2:-1:2] = ~self.connections[1, :, :-1]
        return grid

    @classmethod
    def from_grid(cls, grid: np.ndarray) -> Maze:
        """Inverse of :meth:`as_grid`: ``grid`` is ``[2r+1, 2c+1]``, truthy where there is a wall."""
        grid = np.asarray(grid).astype(bool)
        if (
            grid.ndim != 2
            or grid.shape[0] % 2 == 0
            or grid.shape[1] % 2 == 0
            or min(grid.shape) < 3
        ):
            raise ValueError(
                f"a pixel grid must be 2-D with odd sides of at least 3 ([2*rows+1, 2*cols+1]), got {grid.shape}"
            )
        if grid[1::2, 1::2].any():
            r, c = np.argwhere(grid[1::2, 1::2])[0]
            raise ValueError(
                f"cell ({r}, {c}) (pixel ({2 * r + 1}, {2 * c + 1})) is a wall; cells must be free"
            )
        rows, cols = grid.shape[0] // 2, grid.shape[1] // 2
        conn = np.zeros((2, rows, cols), dtype=bool)
        conn[0, :-1, :] = ~grid[2:-1:2, 1::2]
        conn[1, :, :-1] = ~grid[1::2, 2:-1:2]
        return cls(conn)

    def to_ascii(
        self,
        origin: Coord | None = None,
        target: Coord | None = None,
        path: Sequence[Coord] | None = None,
    ) -> str:
        """The pixel grid as text: ``#`` wall, space free, ``S`` origin, ``E`` target, ``X`` path."""
        chars = np.where(self.as_grid(), WALL, FREE).astype("<U1")
        cells = list(path or [])
        for a, b in pairwise(cells):
            chars[a[0] + b[0] + 1, a[1] + b[1] + 1] = PATH  # the passage between two path cells
        for r, c in cells:
            chars[2 * r + 1, 2 * c + 1] = PATH
        if origin is not None:
            chars[2 * origin[0] + 1, 2 * origin[1] + 1] = ORIGIN
        if target is not None:
            chars[2 * target[0] + 1, 2 * target[1] + 1] = TARGET
        return "\n".join("".join(row) for row in chars)

    @classmethod
    def from_ascii(cls, text: str) -> Maze:
        """Parse :meth:`to_ascii` output (markers ``S``, ``E``, ``X`` count as free)."""
        lines = [ln for ln in text.strip("\n").splitlines() if ln.strip()]
        width = max(len(ln) for ln in lines) if lines else 0
        unknown = set("".join(lines)) - set(WALL + FREE + ORIGIN + TARGET + PATH)
        if unknown:
            raise ValueError(
                f"unexpected characters {sorted(unknown)} in maze ASCII; allowed: '#', ' ', 'S', 'E', 'X'"
            )
        grid = np.array([[ch == WALL for ch in ln.ljust(width)] for ln in lines], dtype=bool)
        return cls.from_grid(grid)

    # -- identity -------------------------------------------------------------------------------
    def content_hash(self) -> str:
        """Hex sha256 of the shape and connections: stable across machines and releases."""
        h = hashlib.sha256(np.asarray(self.connections.shape, dtype="<i8").tobytes())
        h.update(np.packbits(self.connections).tobytes())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Maze):
            return NotImplemented
        return self.connections.shape == other.connections.shape and bool(
            np.array_equal(self.connections, other.connections)
        )

    def __hash__(self) -> int:
        return hash((self.connections.shape, np.packbits(self.connections).tobytes()))

    def __repr__(self) -> str:
        return f"Maze(shape={self.shape}, n_edges={self.n_edges})"

    def __str__(self) -> str:
        return self.to_ascii()


@dataclass(frozen=True)
class Task:
    """One problem: find a path in ``maze`` from ``origin`` to ``target`` (cells ``(row, col)``)."""

    maze: Maze
    origin: Coord
    target: Coord

    def __post_init__(self) -> None:
        if not isinstance(self.maze, Maze):
            raise TypeError(f"Task.maze must be a Maze, got {type(self.maze).__name__}")
        object.__setattr__(self, "origin", check_cell(self.origin, self.maze.shape, "origin"))
        object.__setattr__(self, "target", check_cell(self.target, self.maze.shape, "target"))

    def to_ascii(self, path: Sequence[Coord] | None = None) -> str:
        return self.maze.to_ascii(self.origin, self.target, path)

    @classmethod
    def from_ascii(cls, text: str) -> Task:
        """Parse ASCII with exactly one ``S`` (origin) and one ``E`` (target)."""
        maze = Maze.from_ascii(text)
        lines = [ln for ln in text.strip("\n").splitlines() if ln.strip()]
        found: dict[str, list[Coord]] = {ORIGIN: [], TARGET: []}
        for pr, ln in enumerate(lines):
            for pc, ch in enumerate(ln):
                if ch in found:
                    found[ch].append((pr // 2, pc // 2))
        for ch, name in ((ORIGIN, "origin"), (TARGET, "target")):
            if len(found[ch]) != 1:
                raise ValueError(
                    f"maze ASCII must mark exactly one {name} with {ch!r}, found {len(found[ch])}"
                )
        return cls(maze, found[ORIGIN][0], found[TARGET][0])


@dataclass(frozen=True, eq=False)
class MazeBatch:
    """``N`` mazes of one shape as one ``connections: bool[N, 2, rows, cols]`` array.

    Indexing with an int gives a :class:`Maze`; with a slice, index array or bool mask, a MazeBatch.
    The array is wrapped, not copied (batches can be large): do not modify it afterwards.
    One million 10x10 mazes take 200 MB.
    """

    connections: np.ndarray

    def __post_init__(self) -> None:
        _check_connections(self.connections, batched=True)

    @classmethod
    def from_mazes(cls, mazes: Sequence[Maze]) -> MazeBatch:
        if not mazes:
            raise ValueError(
                "from_mazes needs at least one maze (the batch's shape comes from them)"
            )
        shapes = {m.shape for m in mazes}
        if len(shapes) != 1:
            raise ValueError(f"all mazes of a batch must share one shape, got {sorted(shapes)}")
        return cls(np.stack([m.connections for m in mazes]))

    @classmethod
    def concatenate(cls, batches: Sequence[MazeBatch]) -> MazeBatch:
        if not batches:
            raise ValueError("concatenate needs at least one MazeBatch")
        return cls(np.concatenate([b.connections for b in batches]))

    @property
    def shape(self) -> Shape:
        """``(rows, cols)`` of every maze."""
        return (int(self.connections.shape[2]), int(self.connections.shape[3]))

    @property
    def nbytes(self) -> int:
        return int(self.connections.nbytes)

    def __len__(self) -> int:
        return int(self.connections.shape[0])

    @overload
    def __getitem__(self, index: int) -> Maze: ...
    @overload
    def __getitem__(self, index: slice | np.ndarray | Sequence[int]) -> MazeBatch: ...
    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        if isinstance(index, (int, np.integer)):
            return Maze(self.connections[int(index)])
        return MazeBatch(self.connections[index])

    def __iter__(self) -> Iterator[Maze]:
        for i in range(len(self)):
            yield self[i]

    def content_hash(self) -> str:
        """Hex sha256 of all mazes in order (the golden hash the tests pin)."""
        h = hashlib.sha256(np.asarray(self.connections.shape, dtype="<i8").tobytes())
        h.update(np.packbits(self.connections).tobytes())
        return h.hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MazeBatch):
            return NotImplemented
        return self.connections.shape == other.connections.shape and bool(
            np.array_equal(self.connections, other.connections)
        )

    def __repr__(self) -> str:
        return f"MazeBatch(n={len(self)}, shape={self.shape})"

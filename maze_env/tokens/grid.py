"""The compact raster schemes ``grid`` and ``grid_cells``: short, size-independent sequences.

A task is its cells in row-major order, one token per cell naming the cell's open sides, with
``<EOL>`` closing every row, then the path::

    c6 o12 <EOL> t3 c9 <EOL> <PATH_START> DOWN LEFT <PATH_END>          (scheme "grid")
    c6 o12 <EOL> t3 c9 <EOL> <PATH_START> row0 col1 row1 col1 row1 col0 <PATH_END>  ("grid_cells")

A cell token is a letter and a 4-bit number: bit 1 up, 2 right, 4 down, 8 left open (action
order), letter ``c`` for a plain cell, ``o`` for the origin, ``t`` the target, ``x`` a cell that is
both. A 6x6 maze is 42 prompt tokens (AOTP: ~150), whatever the number of passages, and the
vocabulary does not grow with the grid for ``grid`` (``grid_cells`` has one token per row and per
column index up to the vocabulary's ``max_shape``). The cell tokens hold every passage twice (each
side from both cells): ``parse`` reports a disagreement.

Path as moves (``grid``) is the shortest form; path as cells (``grid_cells``) tells the model
where it is at every step, at two tokens per step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from maze_env.maze import Maze, MazeBatch, check_cell
from maze_env.tokens.schemes import (
    PADDING,
    PATH_END,
    PATH_START,
    GridScheme,
    check_path,
    get_scheme,
)
from maze_env.tokens.vocab import PathsArg, Vocabulary, check_batch, parse_max_shape
from maze_env.types import ACTION_DELTAS, Coord, Shape

EOL = "<EOL>"
MOVES: tuple[str, ...] = ("UP", "RIGHT", "DOWN", "LEFT")
"""Move tokens, indexed by :class:`~maze_env.types.Action`."""
MARKERS = "cotx"
"""Cell-token letters: plain, origin, target, origin and target."""
GRID_SPECIAL: tuple[str, ...] = (PATH_START, PATH_END, EOL, *MOVES)
"""Vocabulary ids 0..6; cell tokens follow at 7 + 16 * marker + sides."""
CELL_BASE = len(GRID_SPECIAL)
INDEX_BASE = CELL_BASE + 64
"""Id of ``row0`` in a ``grid_cells`` vocabulary (``col0`` follows the ``max_shape[0]`` rows)."""
_CELL_RE = re.compile(r"^([cotx])(\d{1,2})$")
_INDEX_RE = re.compile(r"^(row|col)(\d{1,4})$")


def open_sides(conns: np.ndarray) -> np.ndarray:
    """``int64[N, R, C]`` side bits (1 up, 2 right, 4 down, 8 left) of ``bool[N, 2, R, C]`` mazes."""
    down = conns[:, 0].astype(np.int64)
    right = conns[:, 1].astype(np.int64)
    up = np.zeros_like(down)
    up[:, 1:] = down[:, :-1]
    left = np.zeros_like(right)
    left[:, :, 1:] = right[:, :, :-1]
    return up + 2 * right + 4 * down + 8 * left


def tokenize_grid(
    maze: Maze, origin: Coord, target: Coord, path: Sequence[Coord] | None, scheme: GridScheme
) -> list[str]:
    """:func:`~maze_env.tokens.tokenize` for a :class:`GridScheme` (see the module docs).

    Raises:
        ValueError: a cell outside the maze, or (``grid``) a path step that is not a single move.
    """
    origin = check_cell(origin, maze.shape, "origin")
    target = check_cell(target, maze.shape, "target")
    cells = check_path(path, maze.shape)
    sides = open_sides(maze.connections[None])[0]
    out: list[str] = []
    for r in range(maze.shape[0]):
        for c in range(maze.shape[1]):
            marker = ((r, c) == origin) + 2 * ((r, c) == target)
            out.append(f"{MARKERS[marker]}{sides[r, c]}")
        out.append(EOL)
    out.append(PATH_START)
    if path is None:
        return out
    if scheme.path == "moves":
        out += [MOVES[a] for a in _moves(cells)]
    else:
        for r, c in cells:
            out += [f"row{r}", f"col{c}"]
    out.append(PATH_END)
    return out


def _moves(cells: list[Coord]) -> list[int]:
    out = []
    for i in range(1, len(cells)):
        d = (cells[i][0] - cells[i - 1][0], cells[i][1] - cells[i - 1][1])
        hit = [a for a in range(4) if tuple(ACTION_DELTAS[a]) == d]
        if not hit:
            raise ValueError(
                f"path[{i - 1}] -> path[{i}] ({cells[i - 1]} -> {cells[i]}) is not a single move; "
                "the grid scheme writes the path as moves"
            )
        out.append(hit[0])
    return out


# ------------------------------------------------------------------------------------------------
# parse
# ------------------------------------------------------------------------------------------------


def looks_like_grid(tokens: Sequence[str]) -> bool:
    """True when ``tokens`` hold a grid-scheme token (a cell token or ``<EOL>``)."""
    return any(t == EOL or _CELL_RE.match(t) for t in tokens[:64])


def parse_grid(tokens: Sequence[str], shape: Shape | None, problems: list[str]) -> tuple:
    """Read grid-scheme tokens: ``(maze, origin, target, path)``; problems appended, never raises.

    Path moves are applied from the origin (``None`` origin: the path is not read); path cells
    (``rowR colC`` pairs) are kept as read. ``shape`` overrides the shape read from the raster.
    """
    end = len(tokens)
    while end and tokens[end - 1] == PADDING:
        end -= 1
    tokens = list(tokens[:end])
    try:
        split = tokens.index(PATH_START)
    except ValueError:
        split = len(tokens)
        problems.append(f"no {PATH_START}: the grid is not followed by a path section")
    rows, origins, targets = _read_raster(tokens[:split], problems)
    read_shape = (len(rows), max((len(r) for r in rows), default=0))
    if shape is None:
        shape = read_shape
    elif tuple(shape) != read_shape:
        problems.append(f"the raster is {read_shape[0]}x{read_shape[1]}, not the given {shape}")
    shape = (int(shape[0]), int(shape[1]))
    maze = _build(rows, shape, problems) if min(shape) >= 1 else None
    origin = _endpoint("origin", origins, shape, problems)
    target = _endpoint("target", targets, shape, problems)
    path = None
    if split < len(tokens):
        path = _read_path(tokens[split + 1 :], split + 1, origin, problems)
    return maze, origin, target, path


def _read_raster(tokens: list[str], problems: list[str]) -> tuple[list[list[int]], list, list]:
    rows: list[list[int]] = []
    row: list[int] = []
    origins: list[Coord] = []
    targets: list[Coord] = []
    for i, tok in enumerate(tokens):
        m = _CELL_RE.match(tok)
        if tok == EOL:
            if rows and len(row) != len(rows[0]):
                problems.append(
                    f"token {i}: row {len(rows)} has {len(row)} cells, row 0 has {len(rows[0])}"
                )
            rows.append(row)
            row = []
        elif m and int(m.group(2)) < 16:
            marker = MARKERS.index(m.group(1))
            if marker & 1:
                origins.append((len(rows), len(row)))
            if marker & 2:
                targets.append((len(rows), len(row)))
            row.append(int(m.group(2)))
        else:
            problems.append(f"token {i}: {tok!r} is not a cell token (c|o|t|x with 0..15) or {EOL}")
    if row:
        problems.append(f"the last row ({len(row)} cells) has no {EOL}: truncated?")
        rows.append(row)
    return rows, origins, targets


def _build(rows: list[list[int]], shape: Shape, problems: list[str]) -> Maze:
    sides = np.zeros(shape, dtype=np.int64)
    for r, row in enumerate(rows[: shape[0]]):
        sides[r, : min(len(row), shape[1])] = row[: shape[1]]
    conn = np.zeros((2, *shape), dtype=bool)
    conn[0, :-1] = (sides[:-1] & 4) > 0
    conn[1, :, :-1] = (sides[:, :-1] & 2) > 0
    if (
        (sides[0] & 1).any()
        or (sides[-1] & 4).any()
        or (sides[:, 0] & 8).any()
        or (sides[:, -1] & 2).any()
    ):
        problems.append("a cell on the border is open towards the outside of the grid")
    again = open_sides(conn[None])[0]
    inner = sides.copy()
    inner[0] &= ~1
    inner[-1] &= ~4
    inner[:, 0] &= ~8
    inner[:, -1] &= ~2
    bad = np.argwhere(inner != again)
    if len(bad):
        r, c = (int(v) for v in bad[0])
        problems.append(
            f"{len(bad)} cell(s) disagree with a neighbour about a shared side, first ({r}, {c}); "
            "a passage is read from the upper/left cell"
        )
    return Maze(conn)


def _endpoint(name: str, cells: list[Coord], shape: Shape, problems: list[str]) -> Coord | None:
    if not cells:
        problems.append(f"no {name} cell in the raster")
        return None
    if len(cells) > 1:
        problems.append(f"{len(cells)} {name} cells in the raster; the first is used")
    cell = cells[0]
    if not (cell[0] < shape[0] and cell[1] < shape[1]):
        problems.append(f"{name} {cell} is outside the {shape[0]}x{shape[1]} grid")
        return None
    return cell


def _read_path(
    tokens: list[str], offset: int, origin: Coord | None, problems: list[str]
) -> list[Coord] | None:
    if not tokens:
        return None  # a prompt
    if PATH_END in tokens:
        k = tokens.index(PATH_END)
        if k + 1 < len(tokens):
            problems.append(
                f"token {offset + k + 1}: {len(tokens) - k - 1} token(s) after {PATH_END}"
            )
        tokens = tokens[:k]
    else:
        problems.append(f"sequence ends inside the path section (no {PATH_END}): truncated?")
    if tokens and tokens[0] in MOVES or not tokens:
        return _read_moves(tokens, offset, origin, problems)
    return _read_cells(tokens, offset, problems)


def _read_moves(
    tokens: list[str], offset: int, origin: Coord | None, problems: list[str]
) -> list[Coord] | None:
    if origin is None:
        problems.append("path moves cannot be followed without an origin")
        return None
    path = [origin]
    for i, tok in enumerate(tokens):
        if tok not in MOVES:
            problems.append(f"token {offset + i}: {tok!r} is not a move ({', '.join(MOVES)})")
            continue
        d = ACTION_DELTAS[MOVES.index(tok)]
        path.append((path[-1][0] + int(d[0]), path[-1][1] + int(d[1])))
    return path


def _read_cells(tokens: list[str], offset: int, problems: list[str]) -> list[Coord]:
    path: list[Coord] = []
    row: int | None = None
    for i, tok in enumerate(tokens):
        m = _INDEX_RE.match(tok)
        if m is None:
            problems.append(f"token {offset + i}: {tok!r} is not rowR or colC")
        elif m.group(1) == "row":
            if row is not None:
                problems.append(f"token {offset + i}: two row tokens in a row")
            row = int(m.group(2))
        elif row is None:
            problems.append(f"token {offset + i}: a column token without its row")
        else:
            path.append((row, int(m.group(2))))
            row = None
    if row is not None:
        problems.append("the path ends with a row token and no column")
    return path


# ------------------------------------------------------------------------------------------------
# the vocabulary
# ------------------------------------------------------------------------------------------------


class GridVocabulary(Vocabulary):
    """:class:`Vocabulary` of a grid scheme (``GridVocabulary(max_shape, "grid")``, or
    :func:`~maze_env.tokens.make_vocabulary` for any scheme).

    Ids: ``<PATH_START> <PATH_END> <EOL> UP RIGHT DOWN LEFT`` (0..6), the 64 cell tokens
    (``7 + 16 * marker + sides``, marker in ``c o t x`` order), for ``grid_cells`` ``row0..`` and
    ``col0..`` up to ``max_shape``, and ``<PADDING>`` last. ``grid`` encodes mazes of any size
    (``max_shape`` is not a limit); ``grid_cells`` up to ``max_shape``.
    """

    def __init__(self, max_shape: int | Shape, scheme: str | GridScheme = "grid") -> None:
        sch = get_scheme(scheme)
        if not isinstance(sch, GridScheme):
            raise ValueError(
                f"scheme {sch.name!r} is not a grid scheme (grid, grid_cells); build its "
                f"vocabulary with maze_env.tokens.make_vocabulary(max_shape, {sch.name!r})"
            )
        self.max_shape = parse_max_shape(max_shape)
        self.scheme = sch  # type: ignore[assignment]
        tokens = list(GRID_SPECIAL) + [f"{m}{s}" for m in MARKERS for s in range(16)]
        if self.scheme.path == "cells":  # type: ignore[union-attr]
            tokens += [f"row{k}" for k in range(self.max_shape[0])]
            tokens += [f"col{k}" for k in range(self.max_shape[1])]
        tokens.append(PADDING)
        self.tokens = tuple(tokens)
        self._ids = {t: i for i, t in enumerate(tokens)}
        self._array = np.array(tokens, dtype=object)
        self.n_special = CELL_BASE
        self._cell_cache = {}
        self.row_base = INDEX_BASE
        self.col_base = self.row_base + self.max_shape[0]

    def _allowed(self) -> str:
        extra = (
            f", row0..row{self.max_shape[0] - 1}, col0..col{self.max_shape[1] - 1}"
            if self.scheme.path == "cells"  # type: ignore[union-attr]
            else ""
        )
        return f"allowed: {list(GRID_SPECIAL)}, cell tokens c|o|t|x 0..15{extra}, {PADDING}"

    def step_ids(self, cell: Coord, action: int) -> list[int]:
        """The ids of one path step from ``cell`` by ``action`` (move token, or the new cell)."""
        if self.scheme.path == "moves":  # type: ignore[union-attr]
            return [3 + int(action)]
        r, c = cell[0] + int(ACTION_DELTAS[action][0]), cell[1] + int(ACTION_DELTAS[action][1])
        return [self.row_base + r, self.col_base + c]

    def encode_arrays(
        self,
        conns: np.ndarray | MazeBatch,
        origins: np.ndarray,
        targets: np.ndarray,
        paths: PathsArg | tuple[np.ndarray, np.ndarray] = None,
        rng: np.random.Generator | None = None,
        length: int | None = None,
    ) -> np.ndarray:
        """:meth:`Vocabulary.encode_arrays` for the grid schemes (``rng`` is not used). Numpy only."""
        cells_mode = self.scheme.path == "cells"  # type: ignore[union-attr]
        conns, origins, targets = check_batch(
            conns, origins, targets, self.max_shape if cells_mode else None, " (or use scheme 'grid')"
        )
        n, _, rows, cols = conns.shape
        path_flat, path_len = self._path_arrays(conns, origins, targets, paths)
        w = 2 if cells_mode else 1
        steps = np.where(
            path_len >= 0, (path_len if cells_mode else np.maximum(path_len - 1, 0)) * w + 1, 0
        )
        prompt = rows * (cols + 1) + 1
        total = prompt + steps
        width = int(total.max()) if length is None else int(length)
        if total.max() > width:
            raise ValueError(
                f"a sequence needs {int(total.max())} tokens but length={length}; raise length"
            )
        out = np.full((n, width), self.pad_id, dtype=np.int32)
        marker = np.zeros((n, rows, cols), dtype=np.int64)
        idx = np.arange(n)
        marker[idx, origins[:, 0], origins[:, 1]] += 1
        marker[idx, targets[:, 0], targets[:, 1]] += 2
        raster = np.full((n, rows, cols + 1), self._ids[EOL], dtype=np.int32)
        raster[:, :, :cols] = CELL_BASE + 16 * marker + open_sides(conns)
        out[:, : prompt - 1] = raster.reshape(n, -1)
        out[:, prompt - 1] = self._ids[PATH_START]
        if (path_len >= 0).any():
            self._write_paths(out, prompt, path_flat, path_len, cols, cells_mode)
        return out

    def _write_paths(
        self,
        out: np.ndarray,
        prompt: int,
        flat: np.ndarray,
        lengths: np.ndarray,
        cols: int,
        cells_mode: bool,
    ) -> None:
        """Write each path (flat cells ``r * cols + c``) and ``<PATH_END>`` after the prompt."""
        off = np.concatenate([[0], np.cumsum(np.maximum(lengths, 0))[:-1]])
        has = lengths >= 0
        seq = np.repeat(np.arange(len(lengths)), np.maximum(lengths, 0))
        k = np.arange(len(flat)) - np.repeat(off, np.maximum(lengths, 0))  # step index in its path
        r, c = np.divmod(flat, cols)
        if cells_mode:
            out[seq, prompt + 2 * k] = self.row_base + r
            out[seq, prompt + 2 * k + 1] = self.col_base + c
            ends = prompt + 2 * np.maximum(lengths, 0)
        else:
            nxt = k > 0  # the move into cell k from cell k - 1
            dr = r[nxt] - r[np.flatnonzero(nxt) - 1]
            dc = c[nxt] - c[np.flatnonzero(nxt) - 1]
            code = np.full(len(dr), -1)
            for a in range(4):
                code[(dr == ACTION_DELTAS[a][0]) & (dc == ACTION_DELTAS[a][1])] = a
            if (code < 0).any():
                i = int(seq[nxt][np.argmax(code < 0)])
                raise ValueError(
                    f"path {i} has a step that is not a single move; scheme 'grid' writes moves"
                )
            out[seq[nxt], prompt + k[nxt] - 1] = 3 + code
            ends = prompt + np.maximum(lengths - 1, 0)
        out[np.flatnonzero(has), ends[has]] = self._ids[PATH_END]

"""Pure-numpy frames of a maze: walls, cells, markers, paths and a visit heatmap.

Pixel geometry (every function here and every test relies on it): the ``(2R+1, 2C+1)`` wall grid
of :meth:`Maze.as_grid` is scaled block-wise, odd grid indices (cells) to ``cell_px`` pixels and
even ones (walls, corners, and the passage gaps between cells) to ``wall_px`` pixels, in both axes.
With ``pitch = cell_px + wall_px``:

* the frame is ``[H, W, 3]`` with ``H = R * pitch + wall_px`` and ``W = C * pitch + wall_px``;
* cell ``(r, c)`` fills rows ``[wall_px + r*pitch, wall_px + r*pitch + cell_px)`` and the same
  columns with ``c``; its centre pixel is ``(wall_px + r*pitch + cell_px // 2,
  wall_px + c*pitch + cell_px // 2)`` (:func:`cell_center`);
* the gap between ``(r, c)`` and ``(r, c+1)`` is the ``cell_px x wall_px`` block right of that cell,
  free (:data:`FREE`) if there is a passage and :data:`WALL` if not; likewise below for ``(r+1, c)``;
* markers are centred on the centre pixel: the origin and target squares (0.6 and 0.75 of
  ``cell_px``) and the agent disc (0.7); a path is a line ``max(1, cell_px // 6)`` px wide through
  the centre pixels, so when drawn alone it covers each path cell's centre and the pixel halfway
  between consecutive centres (in the gap); several paths are shifted apart by a few pixels.

``wall_px`` defaults to ``max(1, cell_px // 4)``; ``wall_px == cell_px`` gives the uniform
"each grid pixel is a square block" picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from maze_env.maze import Maze, Task, check_cell
from maze_env.types import Coord

Color = tuple[int, int, int]

# -- palette ----------------------------------------------------------------------------------
# Marker and path colours are from Okabe & Ito (2008), "Color Universal Design", a palette that
# stays distinguishable under the common colour-vision deficiencies.
WALL: Color = (40, 40, 48)
FREE: Color = (250, 250, 250)
AGENT: Color = (213, 94, 0)  # vermillion
TARGET: Color = (0, 158, 115)  # bluish green
ORIGIN: Color = (86, 180, 233)  # sky blue
PATH_COLORS: tuple[Color, ...] = (
    (0, 114, 178),  # blue
    (230, 159, 0),  # orange
    (204, 121, 167),  # reddish purple
    (0, 0, 0),  # black
    (240, 228, 66),  # yellow
    (120, 120, 120),  # grey
)
"""Colours of ``paths[0], paths[1], ...`` (cycled); none equals a marker colour."""
HEAT_LOW: Color = (239, 237, 245)
HEAT_HIGH: Color = (117, 107, 177)
"""A visited cell is shaded from HEAT_LOW (1 visit) to HEAT_HIGH (the most visits): ColorBrewer's
sequential "Purples", a hue no path colour is close to, light enough for paths to read over it."""

_MARKER_FRACTION = {"origin": 0.6, "target": 0.75, "agent": 0.7}
"""Marker sizes as a fraction of ``cell_px``: origin and target squares, agent disc diameter."""
_MARKER_RGB = {
    k: np.array(v, np.uint8) for k, v in (("origin", ORIGIN), ("target", TARGET), ("agent", AGENT))
}


def resolve_wall_px(cell_px: int, wall_px: int | None = None) -> int:
    """Check ``cell_px`` (>= 2) and return ``wall_px`` (default ``max(1, cell_px // 4)``)."""
    if int(cell_px) != cell_px or cell_px < 2:
        raise ValueError(f"cell_px must be an int >= 2, got {cell_px!r}")
    if wall_px is None:
        return max(1, int(cell_px) // 4)
    if int(wall_px) != wall_px or wall_px < 1:
        raise ValueError(f"wall_px must be an int >= 1 (or None for cell_px // 4), got {wall_px!r}")
    return int(wall_px)


def frame_size(
    shape: Sequence[int], cell_px: int = 16, wall_px: int | None = None
) -> tuple[int, int]:
    """``(H, W)`` in pixels of the frame of a ``shape = (rows, cols)`` maze."""
    wall = resolve_wall_px(cell_px, wall_px)
    pitch = int(cell_px) + wall
    return (int(shape[0]) * pitch + wall, int(shape[1]) * pitch + wall)


def cell_center(cell: Coord, cell_px: int = 16, wall_px: int | None = None) -> tuple[int, int]:
    """``(y, x)`` pixel of the centre of ``cell = (row, col)`` (see the module docstring)."""
    wall = resolve_wall_px(cell_px, wall_px)
    pitch = int(cell_px) + wall
    return (wall + int(cell[0]) * pitch + cell_px // 2, wall + int(cell[1]) * pitch + cell_px // 2)


def cell_box(
    cell: Coord, cell_px: int = 16, wall_px: int | None = None
) -> tuple[int, int, int, int]:
    """``(y0, x0, y1, x1)``: the half-open pixel rectangle that cell ``(row, col)`` fills."""
    wall = resolve_wall_px(cell_px, wall_px)
    pitch = int(cell_px) + wall
    y0, x0 = wall + int(cell[0]) * pitch, wall + int(cell[1]) * pitch
    return (y0, x0, y0 + int(cell_px), x0 + int(cell_px))


@lru_cache(maxsize=64)
def _repeats(n: int, cell_px: int, wall_px: int) -> np.ndarray:
    reps = np.full(2 * n + 1, wall_px, dtype=np.intp)
    reps[1::2] = cell_px
    return reps


@lru_cache(maxsize=256)
def _base_frame(key: bytes, rows: int, cols: int, cell_px: int, wall_px: int) -> np.ndarray:
    """The walls-and-free frame of one maze (cached by content; read-only)."""
    conn = np.unpackbits(np.frombuffer(key, dtype=np.uint8), count=2 * rows * cols)
    grid = Maze(conn.reshape(2, rows, cols).astype(bool)).as_grid()
    big = np.repeat(
        np.repeat(grid, _repeats(rows, cell_px, wall_px), axis=0),
        _repeats(cols, cell_px, wall_px),
        axis=1,
    )
    frame = np.where(big[..., None], np.array(WALL, np.uint8), np.array(FREE, np.uint8))
    frame.setflags(write=False)
    return frame


@lru_cache(maxsize=32)
def _disc(size: int) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    centre = (size - 1) / 2
    return (yy - centre) ** 2 + (xx - centre) ** 2 <= (size / 2) ** 2 + 0.25


@lru_cache(maxsize=64)
def _marker_geometry(kind: str, cell_px: int) -> tuple[int, np.ndarray | None]:
    """``(offset, disc mask or None)`` of a centred marker of ``kind`` in a cell."""
    size = max(1, round(cell_px * _MARKER_FRACTION[kind]))
    if size % 2 != cell_px % 2:  # keep the marker symmetric about the cell's centre pixel
        size += 1 if size < cell_px else -1
    return (cell_px - size) // 2, (_disc(size) if kind == "agent" else None)


def _fill_marker(
    frame: np.ndarray, cell: Coord, color: np.ndarray, kind: str, cell_px: int, wall_px: int
) -> None:
    """Fill a centred square (origin, target) or disc (agent) in ``cell``."""
    off, disc = _marker_geometry(kind, cell_px)
    pitch = cell_px + wall_px
    y0, x0 = wall_px + cell[0] * pitch + off, wall_px + cell[1] * pitch + off
    size = cell_px - 2 * off
    region = frame[y0 : y0 + size, x0 : x0 + size]
    if disc is None:
        region[...] = color
    else:
        region[disc] = color


def _cell_blocks(frame: np.ndarray, cell_px: int, wall_px: int) -> np.ndarray:
    """A view ``[R, C, cell_px, cell_px, 3]`` of every cell's pixels (walls and gaps left out)."""
    pitch = cell_px + wall_px
    rows, cols = (frame.shape[0] - wall_px) // pitch, (frame.shape[1] - wall_px) // pitch
    inner = frame[wall_px:, wall_px:].reshape(rows, pitch, cols, pitch, 3)
    return inner[:, :cell_px, :, :cell_px].transpose(0, 2, 1, 3, 4)


def _heat(
    frame: np.ndarray, visits: np.ndarray, shape: tuple[int, int], cell_px: int, wall_px: int
) -> None:
    visits = np.asarray(visits, dtype=np.float64)
    if visits.shape != shape:
        raise ValueError(
            f"visits must have the maze's shape [rows, cols] = {list(shape)}, got {list(visits.shape)}"
        )
    visited = visits > 0
    top = float(visits.max(initial=0.0))
    if not visited.any():
        return
    t = np.clip((visits[visited] - 1.0) / max(top - 1.0, 1e-12), 0.0, 1.0)[:, None]  # 1 visit -> 0
    low, high = np.array(HEAT_LOW, np.float64), np.array(HEAT_HIGH, np.float64)
    colors = np.rint(low + (high - low) * t).astype(np.uint8)  # [n_visited, 3]
    _cell_blocks(frame, cell_px, wall_px)[visited] = colors[:, None, None, :]


def _as_cells(cells: Sequence[Coord] | np.ndarray, shape: tuple[int, int], what: str) -> np.ndarray:
    """``cells`` as ``int64[N, 2]``, or a ValueError naming the first cell outside ``shape``."""
    arr = np.asarray(cells, dtype=np.int64) if len(cells) else np.empty((0, 2), np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"{what}s must be (row, col) pairs, got an array of shape {list(arr.shape)}"
        )
    bad = ((arr < 0) | (arr >= np.asarray(shape))).any(axis=1)
    if bad.any():
        check_cell(tuple(arr[int(np.argmax(bad))]), shape, what)  # raises, naming the cell
    return arr


def _draw_path(
    frame: np.ndarray, cells: np.ndarray, color: Color, offset: int, cell_px: int, wall_px: int
) -> None:
    """A line ``cell_px // 6`` pixels wide through the centres of ``cells: int[N, 2]``.

    The line is shifted ``offset`` px down and right. Each distinct segment is drawn once (a
    walk that goes back and forth costs no more than its set of passages).
    """
    thick = max(1, cell_px // 6)
    lo, hi = -(thick // 2), thick - thick // 2
    height, width = frame.shape[:2]
    rgb = np.asarray(color, dtype=np.uint8)
    pts = wall_px + cells * (cell_px + wall_px) + (cell_px // 2 + offset)  # [N, 2] (y, x)
    if len(pts) == 1:
        pts = np.concatenate([pts, pts])
    a, b = pts[:-1], pts[1:]
    straight = (a == b).any(axis=1)
    boxes = np.concatenate([np.minimum(a, b), np.maximum(a, b)], axis=1)[straight]  # y0 x0 y1 x1
    boxes += (lo, lo, hi, hi)
    np.clip(boxes, 0, (height, width, height, width), out=boxes)
    for y0, x0, y1, x1 in set(map(tuple, boxes.tolist())):
        frame[y0:y1, x0:x1] = rgb
    for (ya, xa), (yb, xb) in zip(a[~straight].tolist(), b[~straight].tolist(), strict=True):
        n = max(abs(yb - ya), abs(xb - xa)) + 1  # a diagonal jump (an invalid path): sample it
        ys = np.rint(np.linspace(ya, yb, n)).astype(np.intp)
        xs = np.rint(np.linspace(xa, xb, n)).astype(np.intp)
        for d in range(lo, hi):
            frame[np.clip(ys + d, 0, height - 1), np.clip(xs, 0, width - 1)] = rgb
            frame[np.clip(ys, 0, height - 1), np.clip(xs + d, 0, width - 1)] = rgb


def _path_offsets(n_paths: int, cell_px: int) -> list[int]:
    """Shift several paths apart so that shared passages show every colour."""
    if n_paths <= 1:
        return [0] * n_paths
    step = max(1, cell_px // 6)
    span = min(step * (n_paths - 1), max(0, cell_px // 2 - step))
    return [round(-span / 2 + span * i / (n_paths - 1)) for i in range(n_paths)]


def draw_frame(
    maze: Maze | Task,
    *,
    agent: Coord | None = None,
    target: Coord | None = None,
    origin: Coord | None = None,
    paths: Sequence[Sequence[Coord]] | Mapping[str, Sequence[Coord]] = (),
    path_colors: Sequence[Color] | None = None,
    visits: np.ndarray | None = None,
    cell_px: int = 16,
    wall_px: int | None = None,
) -> np.ndarray:
    """Draw a maze as an RGB frame, without pygame.

    Layers from bottom to top: walls and free cells; the visit heatmap; the paths (one line through
    the cell centres each, colours :data:`PATH_COLORS` in order, several paths shifted apart by a
    few pixels, the first one centred when alone); the origin and target squares; the agent disc.

    Args:
        maze: the maze, or a :class:`Task` whose origin and target are drawn unless given here.
        agent: the agent's cell ``(row, col)``, drawn as a :data:`AGENT` disc.
        target: the target cell, a :data:`TARGET` square.
        origin: the origin cell, a :data:`ORIGIN` square.
        paths: a sequence of paths (each a sequence of ``(row, col)`` cells), or a mapping
            label -> path (labels are only used by :func:`save_paths_png`).
        path_colors: one colour per path, instead of :data:`PATH_COLORS`.
        visits: ``float[R, C]`` visit counts; visited cells are shaded :data:`HEAT_LOW` (one visit)
            to :data:`HEAT_HIGH` (the most), unvisited ones stay :data:`FREE`.
        cell_px: side of a cell in pixels (>= 2).
        wall_px: wall thickness in pixels (default ``max(1, cell_px // 4)``).

    Returns:
        ``uint8[H, W, 3]`` with ``H = R * (cell_px + wall_px) + wall_px`` (likewise ``W``); see the
        module docstring for where each cell lands.
    """
    if isinstance(maze, Task):
        origin = maze.origin if origin is None else origin
        target = maze.target if target is None else target
        maze = maze.maze
    if not isinstance(maze, Maze):
        raise TypeError(f"draw_frame needs a Maze or a Task, got {type(maze).__name__}")
    wall = resolve_wall_px(cell_px, wall_px)
    cell_px = int(cell_px)
    rows, cols = maze.shape
    key = np.packbits(maze.connections).tobytes()
    frame = _base_frame(key, rows, cols, cell_px, wall).copy()
    if visits is not None:
        _heat(frame, visits, maze.shape, cell_px, wall)
    path_list = list(paths.values()) if isinstance(paths, Mapping) else list(paths)
    colors = list(path_colors) if path_colors is not None else list(PATH_COLORS)
    if not colors:
        raise ValueError("path_colors must hold at least one (r, g, b) colour")
    offsets = _path_offsets(len(path_list), cell_px)
    for i, cells in enumerate(path_list):
        cells = _as_cells(cells, maze.shape, f"paths[{i}] cell")
        if len(cells):
            _draw_path(frame, cells, colors[i % len(colors)], offsets[i], cell_px, wall)
    for cell, kind in ((origin, "origin"), (target, "target"), (agent, "agent")):
        if cell is not None:
            cell = check_cell(cell, maze.shape, kind)
            _fill_marker(frame, cell, _MARKER_RGB[kind], kind, cell_px, wall)
    return frame


def render_rgb(task_or_maze: Maze | Task, **kwargs: object) -> np.ndarray:
    """Alias of :func:`draw_frame` (the name docs/ARCHITECTURE.md uses)."""
    return draw_frame(task_or_maze, **kwargs)  # type: ignore[arg-type]


def tile_frames(
    frames: Sequence[np.ndarray], n_cols: int = 4, pad_px: int = 4, pad_color: Color = FREE
) -> np.ndarray:
    """Lay frames of possibly different sizes on a grid (a batch of mazes in one picture).

    Args:
        frames: ``uint8[H_i, W_i, 3]`` each.
        n_cols: frames per row.
        pad_px: space between and around frames.
        pad_color: colour of that space.

    Returns:
        ``uint8[H, W, 3]``, frames top-left aligned within equal-sized slots.
    """
    if not frames:
        raise ValueError("tile_frames needs at least one frame")
    if n_cols < 1:
        raise ValueError(f"n_cols must be >= 1, got {n_cols}")
    slot_h = max(f.shape[0] for f in frames)
    slot_w = max(f.shape[1] for f in frames)
    n_rows = -(-len(frames) // n_cols)
    cols = min(n_cols, len(frames))
    out = np.empty(
        (n_rows * (slot_h + pad_px) + pad_px, cols * (slot_w + pad_px) + pad_px, 3), np.uint8
    )
    out[...] = pad_color
    for i, f in enumerate(frames):
        y = pad_px + (i // n_cols) * (slot_h + pad_px)
        x = pad_px + (i % n_cols) * (slot_w + pad_px)
        out[y : y + f.shape[0], x : x + f.shape[1]] = f
    return out

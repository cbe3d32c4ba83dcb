"""PNG and GIF export through Pillow; every file is written atomically (temporary file, then replace)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maze_env.files import atomic_path
from maze_env.maze import Maze, Task
from maze_env.render.frame import FREE, PATH_COLORS, WALL, Color, draw_frame
from maze_env.types import Coord


def _atomic_save(path: str | os.PathLike[str], write_fn: Callable[[Any], None]) -> Path:
    """Call ``write_fn(file)`` on a temporary file next to ``path``, then move it into place
    (:func:`maze_env.files.atomic_path`: the umask's permissions, not ``mkstemp``'s 0600)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        write_fn(fh)
    return path


def _check_frame(frame: np.ndarray, what: str = "frame") -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"{what} must be uint8[H, W, 3], got {frame.dtype}{list(frame.shape)}")
    return frame


def save_png(frame: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` (``uint8[H, W, 3]``) as a PNG file; returns the path."""
    from PIL import Image

    image = Image.fromarray(_check_frame(frame))
    return _atomic_save(path, lambda fh: image.save(fh, format="PNG"))


def add_legend(
    frame: np.ndarray, entries: Sequence[tuple[str, Color]], title: str | None = None
) -> np.ndarray:
    """Append a strip under ``frame`` with an optional title and a colour swatch per label.

    Args:
        frame: ``uint8[H, W, 3]``.
        entries: ``(label, colour)`` pairs, one line each.
        title: a first line of text.

    Returns:
        ``uint8[H + line_px * n_lines + 6, max(W, text width), 3]``, ``line_px`` 17 (14 with
        Pillow's bitmap font, where FreeType is missing).
    """
    from PIL import Image, ImageDraw, ImageFont

    frame = _check_frame(frame)
    try:
        font = ImageFont.load_default(size=13)  # Pillow >= 10.1 with FreeType: a scalable font
        line_px, swatch = 17, 11
    except (TypeError, ImportError, OSError):
        font = ImageFont.load_default()
        line_px, swatch = 14, 10
    lines = ([title] if title else []) + [label for label, _ in entries]
    if not lines:
        return frame
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    text_w = max(int(probe.textlength(t, font=font)) for t in lines) + swatch + 12
    height, width = frame.shape[:2]
    canvas = Image.new("RGB", (max(width, text_w), height + line_px * len(lines) + 6), FREE)
    canvas.paste(Image.fromarray(frame), (0, 0))
    draw = ImageDraw.Draw(canvas)
    y = height + 3
    if title:
        draw.text((4, y), title, fill=WALL, font=font)
        y += line_px
    for label, color in entries:
        draw.rectangle((4, y + 3, 4 + swatch, y + 3 + swatch), fill=tuple(color), outline=WALL)
        draw.text((8 + swatch, y), label, fill=WALL, font=font)
        y += line_px
    return np.asarray(canvas, dtype=np.uint8)


def save_paths_png(
    task_or_maze: Task | Maze,
    paths: Mapping[str, Sequence[Coord]] | Sequence[Sequence[Coord]],
    path: str | os.PathLike[str],
    *,
    visits: np.ndarray | None = None,
    path_colors: Sequence[Color] | None = None,
    cell_px: int = 24,
    wall_px: int | None = None,
    legend: bool = True,
    title: str | None = None,
) -> Path:
    """Draw several paths on one maze (true path, agents' paths...) and write a PNG.

    Args:
        task_or_maze: the maze; a Task also marks its origin and target.
        paths: label -> cells (labelled in the legend), or a list of paths (labelled "path 0"...).
        path: the PNG file to write.
        visits: optional ``float[R, C]`` visit counts drawn as a heatmap under the paths.
        path_colors: colours instead of :data:`PATH_COLORS`.
        cell_px: cell size in pixels; ``wall_px`` the wall thickness (see :func:`draw_frame`).
        legend: add a strip with a swatch and label per path under the maze.
        title: a line of text above the legend entries.

    Returns:
        The path written.
    """
    named = (
        dict(paths) if isinstance(paths, Mapping) else {f"path {i}": p for i, p in enumerate(paths)}
    )
    colors = list(path_colors) if path_colors is not None else list(PATH_COLORS)
    frame = draw_frame(
        task_or_maze,
        paths=list(named.values()),
        path_colors=colors,
        visits=visits,
        cell_px=cell_px,
        wall_px=wall_px,
    )
    if legend and (named or title):
        entries = [(label, colors[i % len(colors)]) for i, label in enumerate(named)]
        frame = add_legend(frame, entries, title)
    return save_png(frame, path)


def episode_frames(
    task_or_maze: Task | Maze,
    cells: Sequence[Coord],
    *,
    cell_px: int = 16,
    wall_px: int | None = None,
    **kwargs: Any,
) -> list[np.ndarray]:
    """One frame per step of an episode: the agent at ``cells[i]`` and the path ``cells[: i + 1]``.

    Extra keyword arguments go to :func:`draw_frame` (``paths`` drawn under the walked path, e.g.
    the optimal one, ``visits``...).
    """
    if not cells:
        raise ValueError("an episode needs at least one cell (the start)")
    extra = list(kwargs.pop("paths", ()))
    return [
        draw_frame(
            task_or_maze,
            agent=cell,
            paths=[*extra, cells[: i + 1]],
            cell_px=cell_px,
            wall_px=wall_px,
            **kwargs,
        )
        for i, cell in enumerate(cells)
    ]


def save_episode_gif(
    frames: Sequence[np.ndarray] | tuple[Task | Maze, Sequence[Coord]],
    path: str | os.PathLike[str],
    *,
    fps: float = 4,
    loop: int = 0,
    cell_px: int = 16,
) -> Path:
    """Write an animated GIF of an episode.

    Args:
        frames: ``uint8[H, W, 3]`` frames of one size, or ``(task_or_maze, cells)`` to draw them
            with :func:`episode_frames` (at ``cell_px``).
        path: the GIF file to write.
        fps: frames per second (GIF stores delays in 10 ms steps).
        loop: how often to play it; 0 loops forever.
        cell_px: cell size when drawing from ``(task_or_maze, cells)``.

    Returns:
        The path written. Pillow stores consecutive identical frames once, with their delays
        summed (a wall bump repeats a frame).
    """
    from PIL import Image

    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    if isinstance(frames, tuple) and len(frames) == 2 and isinstance(frames[0], (Maze, Task)):
        frames = episode_frames(frames[0], frames[1], cell_px=cell_px)
    frames = [_check_frame(f, f"frames[{i}]") for i, f in enumerate(frames)]
    if not frames:
        raise ValueError("save_episode_gif needs at least one frame")
    if len({f.shape for f in frames}) != 1:
        raise ValueError(f"all frames must share one size, got {sorted({f.shape for f in frames})}")
    images = [Image.fromarray(f) for f in frames]
    duration = max(10, round(1000 / fps))

    def write(fh: Any) -> None:
        images[0].save(
            fh, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=loop
        )

    return _atomic_save(path, write)

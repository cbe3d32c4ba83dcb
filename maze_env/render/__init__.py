"""Rendering: RGB frames (pure numpy), text, a pygame window, PNG and GIF export.

See :mod:`maze_env.render.frame` for the pixel geometry. pygame is imported only when a
:class:`HumanWindow` shows its first frame; Pillow only when a file is written.
"""

from __future__ import annotations

from maze_env.render.export import (
    add_legend,
    episode_frames,
    save_episode_gif,
    save_paths_png,
    save_png,
)
from maze_env.render.frame import (
    AGENT,
    FREE,
    HEAT_HIGH,
    HEAT_LOW,
    ORIGIN,
    PATH_COLORS,
    TARGET,
    WALL,
    Color,
    cell_box,
    cell_center,
    draw_frame,
    frame_size,
    render_rgb,
    resolve_wall_px,
    tile_frames,
)
from maze_env.render.text import AGENT_CHAR, render_ansi
from maze_env.render.window import HumanWindow, NoDisplayError, PygameWindow, display_problem

__all__ = [
    "AGENT",
    "AGENT_CHAR",
    "FREE",
    "HEAT_HIGH",
    "HEAT_LOW",
    "ORIGIN",
    "PATH_COLORS",
    "TARGET",
    "WALL",
    "Color",
    "HumanWindow",
    "NoDisplayError",
    "PygameWindow",
    "add_legend",
    "cell_box",
    "cell_center",
    "display_problem",
    "draw_frame",
    "episode_frames",
    "frame_size",
    "render_ansi",
    "render_rgb",
    "resolve_wall_px",
    "save_episode_gif",
    "save_paths_png",
    "save_png",
    "tile_frames",
]

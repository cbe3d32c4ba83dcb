"""Text rendering (the env's ``render_mode="ansi"``)."""

from __future__ import annotations

from collections.abc import Sequence

from maze_env.maze import Maze, Task, check_cell
from maze_env.types import Coord

AGENT_CHAR = "@"
"""The agent's character; the others are :meth:`Maze.to_ascii`'s (``#`` ``S`` ``E`` ``X``)."""


def render_ansi(
    maze: Maze | Task,
    *,
    agent: Coord | None = None,
    target: Coord | None = None,
    origin: Coord | None = None,
    path: Sequence[Coord] | None = None,
) -> str:
    """The maze as text, in :meth:`Maze.to_ascii`'s conventions, plus the agent as ``@``.

    ``#`` wall, space free, ``S`` origin, ``E`` target, ``X`` a path cell or the passage between
    two consecutive path cells; one character per pixel of the ``(2R+1, 2C+1)`` grid, so cell
    ``(r, c)`` is line ``2r+1``, column ``2c+1``. Without ``agent`` the text equals
    ``maze.to_ascii(origin, target, path)`` and :meth:`Maze.from_ascii` reads it back; the agent's
    ``@`` is drawn over any other marker.

    Args:
        maze: the maze, or a :class:`Task` whose origin and target are drawn unless given here.
        agent: the agent's cell ``(row, col)``.
        target: the target cell.
        origin: the origin cell.
        path: cells in order (the path walked so far, a solution, ...).

    Returns:
        ``2R+1`` lines of ``2C+1`` characters joined by newlines (no trailing newline).
    """
    if isinstance(maze, Task):
        origin = maze.origin if origin is None else origin
        target = maze.target if target is None else target
        maze = maze.maze
    if not isinstance(maze, Maze):
        raise TypeError(f"render_ansi needs a Maze or a Task, got {type(maze).__name__}")
    cells = [check_cell(c, maze.shape, "path cell") for c in (path or [])]
    origin = None if origin is None else check_cell(origin, maze.shape, "origin")
    target = None if target is None else check_cell(target, maze.shape, "target")
    text = maze.to_ascii(origin, target, cells)
    if agent is None:
        return text
    r, c = check_cell(agent, maze.shape, "agent")
    lines = text.split("\n")
    line = lines[2 * r + 1]
    lines[2 * r + 1] = line[: 2 * c + 1] + AGENT_CHAR + line[2 * c + 2 :]
    return "\n".join(lines)

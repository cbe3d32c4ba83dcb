""":func:`tokenize`: a task as the tokens of any scheme in :data:`~maze_env.tokens.schemes.SCHEMES`.

The AOTP schemes are written here (the format and the edge order are described in
:mod:`maze_env.tokens.schemes`); the grid schemes by :func:`maze_env.tokens.grid.tokenize_grid`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from maze_env.maze import Maze, check_cell
from maze_env.tokens.grid import tokenize_grid
from maze_env.tokens.schemes import (
    ADJLIST_END,
    ADJLIST_START,
    ENDLINE,
    ORIGIN_END,
    ORIGIN_START,
    PATH_END,
    PATH_START,
    TARGET_END,
    TARGET_START,
    GridScheme,
    Scheme,
    check_path,
    edge_mask,
    get_scheme,
    order_edges,
    slot_cells,
)
from maze_env.types import Coord


def tokenize(
    maze: Maze,
    origin: Coord,
    target: Coord,
    path: Sequence[Coord] | None = None,
    scheme: str | Scheme | GridScheme = "aotp",
    rng: np.random.Generator | None = None,
) -> list[str]:
    """A task (and optionally its path) as tokens.

    Args:
        maze: the maze.
        origin: start cell ``(row, col)``.
        target: goal cell.
        path: cells from origin to target; ``None`` gives the prompt, which ends with
            ``<PATH_START>`` (as maze-dataset's prompts do).
        scheme: a name from :data:`~maze_env.tokens.schemes.SCHEMES` (default ``"aotp"``:
            maze-dataset's text exactly).
        rng: numpy Generator for the edge order and directions; ``None``: sorted (see
            :mod:`maze_env.tokens.schemes`).
            Grid schemes have no edge order and ignore it.

    Returns:
        The tokens; ``" ".join(tokens)`` is the text form.

    Raises:
        ValueError: unknown scheme, or a cell outside the maze.
    """
    sch = get_scheme(scheme)
    if isinstance(sch, GridScheme):
        return tokenize_grid(maze, origin, target, path, sch)
    cols = maze.shape[1]
    origin = check_cell(origin, maze.shape, "origin")
    target = check_cell(target, maze.shape, "target")
    cells = check_path(path, maze.shape)
    names = _cell_names(maze.shape, sch.split)
    first, second = _slot_ids(maze.shape)
    mask = edge_mask(maze.connections[None], sch.walls)
    slots, flips, counts = order_edges(mask, rng, not sch.sorted)
    out = [ADJLIST_START]
    n = int(counts[0])
    for slot, flip in zip(slots[0, :n].tolist(), flips[0, :n].tolist(), strict=True):
        a, b = (second[slot], first[slot]) if flip else (first[slot], second[slot])
        out += names[a]
        out.append(sch.connector)
        out += names[b]
        out.append(ENDLINE)
    out += [ADJLIST_END, ORIGIN_START, *names[origin[0] * cols + origin[1]], ORIGIN_END]
    out += [TARGET_START, *names[target[0] * cols + target[1]], TARGET_END, PATH_START]
    if path is not None:
        for r, c in cells:
            out += names[r * cols + c]
        out.append(PATH_END)
    return out


@lru_cache(maxsize=64)
def _cell_names(shape: tuple[int, int], split: bool) -> tuple[tuple[str, ...], ...]:
    """The tokens of every cell, indexed by ``r * cols + c``."""
    sch = Scheme("", split=split)
    return tuple(tuple(sch.coord_tokens((r, c))) for r in range(shape[0]) for c in range(shape[1]))


@lru_cache(maxsize=64)
def _slot_ids(shape: tuple[int, int]) -> tuple[list[int], list[int]]:
    """Flat cell ids (``r * cols + c``) of the first and second cell of every edge slot."""
    first, second = slot_cells(shape)
    cols = shape[1]
    return (first @ [cols, 1]).tolist(), (second @ [cols, 1]).tolist()

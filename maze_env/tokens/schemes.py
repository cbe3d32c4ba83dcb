"""Token schemes: a task as the maze-dataset "AOTP" text and its variants, and the grid schemes.

The schemes, their special tokens and the helpers shared by :func:`~maze_env.tokens.tokenize`
(:mod:`maze_env.tokens.tokenizer`) and the vocabularies.

AOTP (adjacency list, origin, target, path) is the format of maze-dataset (Ivanitskiy et al.,
2023, https://github.com/understanding-search/maze-dataset); one token per space-separated string::

    <ADJLIST_START> (0,1) <--> (1,1) ; (0,0) <--> (0,1) ; <ADJLIST_END> <ORIGIN_START> (0,0)
    <ORIGIN_END> <TARGET_START> (1,1) <TARGET_END> <PATH_START> (0,0) (0,1) (1,1) <PATH_END>

A scheme varies three things, each named by a suffix of its name (in this order):

* ``_split``: a coordinate is five tokens ``( 0 , 1 )`` (maze-dataset's ``AOTP_CTT_indexed``)
  instead of one token ``(0,1)`` (its ``AOTP_UT_*``);
* ``_walls``: the list holds the walls between adjacent cells, with the connector ``<XX>``
  (maze-dataset's ``VOCAB.ADJLIST_WALL``), instead of the passages with ``<-->``;
* ``_sorted``: edges in sorted order, smaller cell first, whatever ``rng`` is.

Edge order without ``_sorted``: with a numpy ``rng``, a random permutation and each edge written
in a random direction (as maze-dataset writes them, but from the given Generator rather than
numpy's global state); with ``rng=None``, deterministic: the sorted order. The sorted order is
:meth:`Maze.edges`'s: by first cell row-major, then second cell (so for each cell its right
passage, then its down passage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from maze_env.maze import check_cell
from maze_env.types import Coord

ADJLIST_START, ADJLIST_END = "<ADJLIST_START>", "<ADJLIST_END>"
TARGET_START, TARGET_END = "<TARGET_START>", "<TARGET_END>"
ORIGIN_START, ORIGIN_END = "<ORIGIN_START>", "<ORIGIN_END>"
PATH_START, PATH_END = "<PATH_START>", "<PATH_END>"
CONNECTOR, WALL_CONNECTOR, ENDLINE = "<-->", "<XX>", ";"
PADDING = "<PADDING>"
COORD_PRE, COORD_INTRA, COORD_POST = "(", ",", ")"

SPECIAL_TOKENS: tuple[str, ...] = (
    ADJLIST_START,
    ADJLIST_END,
    TARGET_START,
    TARGET_END,
    ORIGIN_START,
    ORIGIN_END,
    PATH_START,
    PATH_END,
    CONNECTOR,
    ENDLINE,
    WALL_CONNECTOR,
)
"""Special tokens in vocabulary order: maze-dataset's ``SPECIAL_TOKENS`` order (without its
padding, which our vocabularies put last), then the wall connector."""


@dataclass(frozen=True)
class Scheme:
    """How a task becomes tokens.

    Attributes:
        name: registry key, ``"aotp"`` plus the suffixes that apply.
        split: a coordinate is ``( r , c )`` (5 tokens) instead of ``(r,c)`` (1 token).
        walls: list walls (``<XX>``) instead of passages (``<-->``).
        sorted: always sorted edge order, ignoring ``rng``.
    """

    name: str
    split: bool = False
    walls: bool = False
    sorted: bool = False

    @property
    def connector(self) -> str:
        return WALL_CONNECTOR if self.walls else CONNECTOR

    @property
    def coord_width(self) -> int:
        """Tokens per coordinate."""
        return 5 if self.split else 1

    def coord_tokens(self, cell: Sequence[int]) -> list[str]:
        r, c = int(cell[0]), int(cell[1])
        if self.split:
            return [COORD_PRE, str(r), COORD_INTRA, str(c), COORD_POST]
        return [f"({r},{c})"]


@dataclass(frozen=True)
class GridScheme:
    """A compact, size-independent scheme: the maze as a raster of cell tokens.

    One token per cell in row-major order naming its open sides (16 values; the cell holding the
    origin, the target, or both has its own 16), ``<EOL>`` after each row, then ``<PATH_START>``,
    the path, ``<PATH_END>``. See :mod:`maze_env.tokens.grid`.

    Attributes:
        name: registry key (``"grid"`` or ``"grid_cells"``).
        path: ``"moves"``: the path as moves ``UP RIGHT DOWN LEFT`` from the origin (fully
            size-independent); ``"cells"``: each path cell as two tokens ``rowR colC``, the origin
            included (the model reads where it is; rows and columns up to the vocabulary's size).
    """

    name: str
    path: str = "moves"

    @property
    def step_width(self) -> int:
        """Tokens per path step."""
        return 1 if self.path == "moves" else 2


def _scheme_name(split: bool, walls: bool, sorted_: bool) -> str:
    return "aotp" + "_split" * split + "_walls" * walls + "_sorted" * sorted_


SCHEMES: dict[str, Scheme | GridScheme] = {
    _scheme_name(s, w, o): Scheme(_scheme_name(s, w, o), s, w, o)
    for s in (False, True)
    for w in (False, True)
    for o in (False, True)
}
SCHEMES["grid"] = GridScheme("grid", "moves")
SCHEMES["grid_cells"] = GridScheme("grid_cells", "cells")
"""Every scheme by name: ``aotp``, ``aotp_split``, ``aotp_walls``, ``aotp_sorted`` and their
combinations (suffixes in the order ``_split``, ``_walls``, ``_sorted``); and the compact
raster schemes ``grid`` and ``grid_cells`` (:class:`GridScheme`)."""


def get_scheme(scheme: str | Scheme | GridScheme) -> Scheme | GridScheme:
    """The scheme named ``scheme`` (or ``scheme`` itself), else a ``ValueError``."""
    if isinstance(scheme, (Scheme, GridScheme)):
        return scheme
    try:
        return SCHEMES[scheme]
    except (KeyError, TypeError):
        raise ValueError(f"unknown token scheme {scheme!r}; known: {', '.join(SCHEMES)}") from None


# ------------------------------------------------------------------------------------------------
# edge lists, batched (shared by tokenize and Vocabulary.encode_tasks)
# ------------------------------------------------------------------------------------------------


def edge_mask(conns: np.ndarray, walls: bool) -> np.ndarray:
    """The edges a scheme lists, as ``bool[N, R*C*2]`` over slots ``(r*C + c)*2 + k``.

    Slot ``k = 0`` is the edge from ``(r, c)`` to its right, ``k = 1`` the one below it, so
    slot order is the sorted edge order. ``conns`` is ``bool[N, 2, R, C]``.
    """
    n, _, rows, cols = conns.shape
    mask = np.stack([conns[:, 1], conns[:, 0]], axis=-1)  # [N, R, C, 2]: right, down
    if walls:
        mask = ~mask
        mask[:, :, cols - 1, 0] = False  # no lattice edge leaves the grid
        mask[:, rows - 1, :, 1] = False
    return mask.reshape(n, rows * cols * 2)


def slot_cells(shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(first, second)``: ``int64[R*C*2, 2]`` cells of every edge slot (see :func:`edge_mask`)."""
    rows, cols = shape
    r, c = np.divmod(np.arange(rows * cols), cols)
    first = np.repeat(np.stack([r, c], axis=1), 2, axis=0)
    second = first.copy()
    second[0::2, 1] += 1
    second[1::2, 0] += 1
    return first, second


def order_edges(
    mask: np.ndarray, rng: np.random.Generator | None, shuffle: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Order the edges of ``N`` mazes.

    Args:
        mask: ``bool[N, K]`` from :func:`edge_mask`.
        rng: draws ``rng.random((N, 2, K))`` (permutation keys, then direction flips) when
            ``shuffle`` and not None, so ``N`` single calls equal one batched call.
        shuffle: random order and direction (else sorted, smaller cell first).

    Returns:
        ``(slots, flips, counts)``: ``slots`` ``int64[N, K]``, the listed edges first in order;
        ``flips`` ``bool[N, K]`` aligned with ``slots`` (write the second cell first);
        ``counts`` ``int64[N]``, the number of listed edges.
    """
    counts = mask.sum(axis=1)
    if shuffle and rng is not None:
        u = rng.random((mask.shape[0], 2, mask.shape[1]))
        slots = np.argsort(np.where(mask, u[:, 0], 2.0), axis=1)
        flips = np.take_along_axis(u[:, 1] < 0.5, slots, axis=1)
    else:
        slots = np.argsort(~mask, axis=1, kind="stable")
        flips = np.zeros(mask.shape, dtype=bool)
    return slots, flips, counts


# ------------------------------------------------------------------------------------------------
# paths (shared by the tokenizers of every scheme)
# ------------------------------------------------------------------------------------------------


def check_path(path: Sequence[Coord] | None, shape: tuple[int, int]) -> list[tuple[int, int]]:
    """``path`` as a list of int pairs inside ``shape``, else a ``ValueError`` naming the cell."""
    if not path:
        return []
    try:
        arr = np.asarray(path, dtype=np.int64).reshape(len(path), 2)
    except (TypeError, ValueError):
        raise ValueError(f"path must be a sequence of (row, col) pairs, got {path!r}") from None
    bad = (arr < 0).any(axis=1) | (arr[:, 0] >= shape[0]) | (arr[:, 1] >= shape[1])
    if bad.any():
        i = int(np.argmax(bad))
        check_cell(path[i], shape, f"path[{i}]")  # raises with the usual message
    return [(r, c) for r, c in arr.tolist()]

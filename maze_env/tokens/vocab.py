""":class:`Vocabulary`: token strings <-> int ids for a maximum grid size, and fast batch encoding.

Id layout (stable; documented in docs/ARCHITECTURE.md):

* ``0 .. 10``: the special tokens of :data:`~maze_env.tokens.schemes.SPECIAL_TOKENS`, in
  maze-dataset's order: ``<ADJLIST_START> <ADJLIST_END> <TARGET_START> <TARGET_END>
  <ORIGIN_START> <ORIGIN_END> <PATH_START> <PATH_END> <--> ;`` then ``<XX>``;
* coordinates: for single-token schemes, ``(r,c)`` is ``11 + r * max_cols + c`` (row-major over
  ``max_shape``); for ``_split`` schemes, ``( , )`` are ``11, 12, 13`` and the integer ``k`` is
  ``14 + k`` for ``k < max(max_shape)``;
* ``<PADDING>`` last: ``pad_id == len(vocab) - 1``.

For square ``max_shape`` and single-token schemes, ids 0..9 and every coordinate id equal those of
maze-dataset's legacy ``MazeTokenizer(AOTP_UT_rasterized)``; only id 10 differs (its padding, our
``<XX>``): padding comes last here, and grids may be rectangular.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

import numpy as np

from maze_env.maze import MazeBatch, Task
from maze_env.solve import batch_shortest_path_arrays
from maze_env.tokens._kernels import count_edges, encode_rows
from maze_env.tokens.schemes import (
    ADJLIST_END,
    ADJLIST_START,
    COORD_INTRA,
    COORD_POST,
    COORD_PRE,
    ENDLINE,
    ORIGIN_END,
    ORIGIN_START,
    PADDING,
    PATH_END,
    PATH_START,
    SPECIAL_TOKENS,
    TARGET_END,
    TARGET_START,
    Scheme,
    get_scheme,
)
from maze_env.types import Coord, Shape

PathsArg = str | Sequence[Sequence[Coord] | None] | None


def _ints(rows: list[Sequence[int]]) -> np.ndarray:
    """A flat ``int64`` array of the ints in ``rows`` (faster than ``np.array`` on tuples)."""
    return np.fromiter(chain.from_iterable(rows), dtype=np.int64)


class Vocabulary:
    """Maps the tokens of one scheme, for grids up to ``max_shape``, to ``int32`` ids.

    Args:
        max_shape: the largest ``(rows, cols)`` (an int means square).
        scheme: a name from :data:`~maze_env.tokens.SCHEMES` of an AOTP scheme; fixes the
            coordinate tokens and what :meth:`encode_tasks` writes. A grid scheme has its own
            layout, :class:`~maze_env.tokens.grid.GridVocabulary`;
            :func:`~maze_env.tokens.make_vocabulary` builds the right one for any scheme.
    """

    def __init__(self, max_shape: int | Shape, scheme: str | Scheme = "aotp") -> None:
        sch = get_scheme(scheme)
        if not isinstance(sch, Scheme):
            raise ValueError(
                f"scheme {sch.name!r} is a grid scheme: its vocabulary is a GridVocabulary; "
                f"build it with maze_env.tokens.make_vocabulary(max_shape, {sch.name!r})"
            )
        self.max_shape: Shape = parse_max_shape(max_shape)
        self.scheme = sch
        rows, cols = self.max_shape
        tokens = list(SPECIAL_TOKENS)
        if self.scheme.split:
            tokens += [COORD_PRE, COORD_INTRA, COORD_POST]
            tokens += [str(k) for k in range(max(self.max_shape))]
        else:
            tokens += [f"({r},{c})" for r in range(rows) for c in range(cols)]
        tokens.append(PADDING)
        self.tokens: tuple[str, ...] = tuple(tokens)
        self._ids = {t: i for i, t in enumerate(tokens)}
        self._array = np.array(tokens, dtype=object)
        self.n_special = len(SPECIAL_TOKENS)
        self._cell_cache: dict[Shape, np.ndarray] = {}
        order = [ADJLIST_START, self.scheme.connector, ENDLINE, ADJLIST_END, ORIGIN_START]
        order += [ORIGIN_END, TARGET_START, TARGET_END, PATH_START, PATH_END]
        self._specials = np.array([self._ids[t] for t in order], dtype=np.int32)

    # -- basics ------------------------------------------------------------------------------------
    @property
    def pad_id(self) -> int:
        return len(self.tokens) - 1

    def __len__(self) -> int:
        return len(self.tokens)

    def __repr__(self) -> str:
        return (
            f"Vocabulary(max_shape={self.max_shape}, scheme={self.scheme.name!r}, size={len(self)})"
        )

    def id_of(self, token: str) -> int:
        """The id of one token (``KeyError`` naming the vocabulary if unknown)."""
        try:
            return self._ids[token]
        except KeyError:
            raise KeyError(f"token {token!r} is not in {self!r}; {self._allowed()}") from None

    def _allowed(self) -> str:
        kind = (
            f"'( , )' and integers 0..{max(self.max_shape) - 1}"
            if self.scheme.split
            else (f"coordinates (r,c) with r < {self.max_shape[0]}, c < {self.max_shape[1]}")
        )
        return f"allowed: the special tokens {list(SPECIAL_TOKENS)}, {PADDING}, {kind}"

    def encode(self, tokens: Sequence[str] | str) -> np.ndarray:
        """Tokens (or text) to ``int32[T]``; raises ``KeyError`` on a token not in the vocabulary."""
        if isinstance(tokens, str):
            tokens = tokens.split()
        ids = self._ids
        try:
            return np.fromiter((ids[t] for t in tokens), dtype=np.int32, count=len(tokens))
        except KeyError as e:
            raise KeyError(f"token {e.args[0]!r} is not in {self!r}; {self._allowed()}") from None

    def decode(self, ids: Sequence[int] | np.ndarray, strip_padding: bool = False) -> list[str]:
        """``int[T]`` to tokens (``strip_padding`` drops every ``<PADDING>``)."""
        arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        bad = (arr < 0) | (arr >= len(self))
        if bad.any():
            raise ValueError(
                f"id {int(arr[bad][0])} is outside this vocabulary (0..{len(self) - 1})"
            )
        if strip_padding:
            arr = arr[arr != self.pad_id]
        return self._array[arr].tolist()

    def decode_batch(self, ids: np.ndarray, strip_padding: bool = True) -> list[list[str]]:
        """``int[N, T]`` to ``N`` token lists, padding dropped by default."""
        return [self.decode(row, strip_padding=strip_padding) for row in np.asarray(ids)]

    # -- batch encoding -----------------------------------------------------------------------------
    def _cell_tokens(self, shape: Shape) -> np.ndarray:
        """``int32[R * C, W]``: the token ids of every cell of ``shape``, by ``r * C + c``."""
        if shape not in self._cell_cache:
            r, c = np.divmod(np.arange(shape[0] * shape[1]), shape[1])
            ids = self._coord_ids(np.stack([r, c], axis=1)).astype(np.int32)
            self._cell_cache[shape] = np.ascontiguousarray(ids)
        return self._cell_cache[shape]

    def _coord_ids(self, cells: np.ndarray) -> np.ndarray:
        """``int[..., 2]`` cells to ``int32[..., W]`` ids (``W`` = tokens per coordinate)."""
        if not self.scheme.split:
            return (self.n_special + cells[..., 0] * self.max_shape[1] + cells[..., 1])[..., None]
        base = self.n_special
        out = np.empty((*cells.shape[:-1], 5), dtype=np.int64)
        out[..., 0], out[..., 2], out[..., 4] = base, base + 1, base + 2
        out[..., 1] = base + 3 + cells[..., 0]
        out[..., 3] = base + 3 + cells[..., 1]
        return out

    def encode_tasks(
        self,
        tasks: Sequence[Task],
        paths: PathsArg = None,
        rng: np.random.Generator | None = None,
        length: int | None = None,
    ) -> np.ndarray:
        """Encode many tasks to one padded id array (vectorized; no per-token Python).

        Args:
            tasks: the tasks; shapes may differ but must fit in ``max_shape``.
            paths: ``None`` for prompts (ending with ``<PATH_START>``), ``"shortest"`` for each
                task's shortest path (:func:`maze_env.solve.shortest_path`'s), or one path per task.
            rng: edge order and direction, as in :func:`~maze_env.tokens.tokenize`. Tasks of one
                shape give the same ids as tokenizing each in turn with this ``rng``.
            length: pad (with :attr:`pad_id`) to this many tokens; ``None``: the longest.

        Returns:
            ``int32[N, T]``.
        """
        if not tasks:
            return np.full((0, length or 0), self.pad_id, dtype=np.int32)
        if isinstance(paths, str) and paths != "shortest":
            raise ValueError(f"paths must be None, 'shortest' or one path per task, got {paths!r}")
        if paths is not None and not isinstance(paths, str) and len(paths) != len(tasks):
            raise ValueError(
                f"got {len(paths)} paths for {len(tasks)} tasks; give one path per task"
            )
        by_shape: dict[Shape, list[int]] = {}
        for i, t in enumerate(tasks):
            by_shape.setdefault(t.maze.connections.shape, []).append(i)
        blocks = []
        for idx in by_shape.values():
            conns = np.stack([tasks[i].maze.connections for i in idx])
            ends = _ints([(*tasks[i].origin, *tasks[i].target) for i in idx]).reshape(-1, 2, 2)
            sub = paths if paths is None or isinstance(paths, str) else [paths[i] for i in idx]
            block = self.encode_arrays(conns, ends[:, 0], ends[:, 1], sub, rng=rng, length=length)
            blocks.append((idx, block))
        if len(blocks) == 1:
            return blocks[0][1]
        width = length if length is not None else max(b.shape[1] for _, b in blocks)
        out = np.full((len(tasks), width), self.pad_id, dtype=np.int32)
        for idx, block in blocks:
            out[np.asarray(idx), : block.shape[1]] = block
        return out

    def encode_arrays(
        self,
        conns: np.ndarray | MazeBatch,
        origins: np.ndarray,
        targets: np.ndarray,
        paths: PathsArg | tuple[np.ndarray, np.ndarray] = None,
        rng: np.random.Generator | None = None,
        length: int | None = None,
    ) -> np.ndarray:
        """:meth:`encode_tasks` for ``N`` mazes of one shape given as arrays (the fast path).

        Args:
            conns: ``bool[N, 2, R, C]`` or a :class:`~maze_env.maze.MazeBatch`.
            origins: ``int[N, 2]``.
            targets: ``int[N, 2]``.
            paths: as in :meth:`encode_tasks`, or ``(cells int[N, L, 2], lengths int[N])``.
            rng: see :meth:`encode_tasks`.
            length: see :meth:`encode_tasks`.

        Returns:
            ``int32[N, T]``.
        """
        conns, origins, targets = check_batch(conns, origins, targets, self.max_shape)
        n, _, rows, cols = conns.shape
        path_flat, path_len = self._path_arrays(conns, origins, targets, paths)
        path_off = np.concatenate([[0], np.cumsum(np.maximum(path_len, 0))[:-1]])
        sch = self.scheme
        w = sch.coord_width
        counts = count_edges(conns, sch.walls)
        total = 1 + counts * (2 * w + 2) + 6 + 2 * w + np.where(path_len >= 0, path_len * w + 1, 0)
        width = int(total.max()) if length is None else int(length)
        if total.max() > width:
            raise ValueError(
                f"a sequence needs {int(total.max())} tokens but length={length}; raise length"
            )
        shuffle = not sch.sorted and rng is not None
        # the draws of order_edges (keys, then flips), so tokenize(rng) gives the same sequences
        keys = rng.random((n, 2, rows * cols * 2)) if shuffle else np.zeros((1, 2, 1))
        ends = np.stack([origins @ [cols, 1], targets @ [cols, 1]], axis=1)
        out = np.full((n, width), self.pad_id, dtype=np.int32)
        encode_rows(
            out, conns, sch.walls, keys, shuffle, ends, path_flat,
            path_off, path_len, self._cell_tokens((rows, cols)), self._specials,
        )  # fmt: skip
        return out

    def _path_arrays(
        self, conns: np.ndarray, origins: np.ndarray, targets: np.ndarray, paths: object
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(flat cells int64[P], lengths int64[N])``; lengths ``-1`` when there is no path."""
        n, _, rows, cols = conns.shape
        if paths is None:
            return np.zeros(0, dtype=np.int64), np.full(n, -1, dtype=np.int64)
        if isinstance(paths, str):
            if paths != "shortest":
                raise ValueError(
                    f"paths must be None, 'shortest' or one path per task, got {paths!r}"
                )
            cells, lengths = batch_shortest_path_arrays(conns, origins, targets)
            if (lengths == 0).any():
                i = int(np.argmax(lengths == 0))
                raise ValueError(
                    f"task {i}: the target {tuple(targets[i])} is unreachable; no shortest path"
                )
            paths = (cells, lengths)
        if isinstance(paths, tuple) and len(paths) == 2 and isinstance(paths[0], np.ndarray):
            cells, lengths = np.asarray(paths[0]), np.asarray(paths[1], dtype=np.int64)
            if (
                cells.ndim != 3
                or cells.shape[0] != n
                or cells.shape[2] != 2
                or lengths.shape != (n,)
            ):
                raise ValueError(
                    f"array paths must be (cells int[N, L, 2], lengths int[N]) with N={n}, got "
                    f"{cells.shape} and {lengths.shape}"
                )
            flat = cells[np.arange(cells.shape[1]) < lengths[:, None]].astype(np.int64)
        else:
            if len(paths) != n:  # type: ignore[arg-type]
                raise ValueError(f"got {len(paths)} paths for {n} tasks; give one path per task")  # type: ignore[arg-type]
            lengths = np.array([len(p or ()) for p in paths], dtype=np.int64)  # type: ignore[union-attr]
            flat = _ints([c for p in paths if p for c in p]).reshape(-1, 2)  # type: ignore[union-attr]
        bad = (flat < 0).any(axis=1) | (flat[:, 0] >= rows) | (flat[:, 1] >= cols)
        if bad.any():
            i = int(np.searchsorted(np.cumsum(lengths), np.argmax(bad), side="right"))
            raise ValueError(f"path {i} has a cell outside the {rows}x{cols} grid")
        return flat @ np.array([cols, 1]), lengths


def parse_max_shape(max_shape: int | Shape) -> Shape:
    """``max_shape`` as ``(rows, cols)`` (an int means square), else a ``ValueError``."""
    rows, cols = (max_shape, max_shape) if isinstance(max_shape, (int, np.integer)) else max_shape
    if int(rows) < 1 or int(cols) < 1:
        raise ValueError(f"max_shape must be positive (rows, cols), got {max_shape!r}")
    return (int(rows), int(cols))


def check_batch(
    conns: np.ndarray | MazeBatch,
    origins: np.ndarray,
    targets: np.ndarray,
    max_shape: Shape | None,
    hint: str = "",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(bool[N, 2, R, C], int64[N, 2], int64[N, 2])`` checked for an ``encode_arrays`` call.

    Raises a ``ValueError`` naming the bad argument, or a maze larger than ``max_shape`` (``None``:
    any size; ``hint`` is appended to that message).
    """
    conns = np.ascontiguousarray(conns.connections if isinstance(conns, MazeBatch) else conns)
    if conns.dtype != np.bool_ or conns.ndim != 4 or conns.shape[1] != 2:
        raise ValueError(f"conns must be bool[N, 2, R, C], got {conns.dtype}{list(conns.shape)}")
    n, _, rows, cols = conns.shape
    if max_shape is not None and (rows > max_shape[0] or cols > max_shape[1]):
        raise ValueError(
            f"a {rows}x{cols} maze does not fit this vocabulary's max_shape {tuple(max_shape)}; "
            f"build the Vocabulary with a max_shape at least as large{hint}"
        )
    origins, targets = np.asarray(origins, dtype=np.int64), np.asarray(targets, dtype=np.int64)
    for name, cells in (("origins", origins), ("targets", targets)):
        if cells.shape != (n, 2) or ((cells < 0) | (cells >= np.array([rows, cols]))).any():
            raise ValueError(f"{name} must be int[N, 2] cells inside the {rows}x{cols} grid (N={n})")
    return conns, origins, targets

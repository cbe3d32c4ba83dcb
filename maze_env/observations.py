"""Observation encoders: the grid, tokens and rgb formats, one home for each.

An encoder keeps one observation per env in ``buf`` and updates it incrementally, and both envs
drive it the same way: :meth:`Encoder.reset_rows` when episodes start, :meth:`Encoder.move` (or
:meth:`Encoder.move_one`) when agents move, :meth:`Encoder.retarget` when a target moves.
:class:`~maze_env.env.MazeEnv` has one row, :class:`~maze_env.vector_env.MazeVectorEnv`
``num_envs``; the observation is a copy of the row. The grid's move rule is :func:`grid_move`,
which the vector env's step kernel also applies inline (compiled, :data:`grid_move_jit`).
The ``ObservationWrapper``s over these encoders are in :mod:`maze_env.wrappers`.

Chain: ``env_config -> episodes -> observations -> env``; nothing here imports the env.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from numba import njit

from maze_env.env_config import EnvConfig
from maze_env.episodes import Episodes, episode_limits
from maze_env.maze import Maze

__all__ = [
    "MIN_RGB_PX",
    "Encoder",
    "GridEncoder",
    "RGBEncoder",
    "TokenEncoder",
    "grid_channels",
    "grid_move",
    "grid_move_jit",
    "grid_obs",
    "grid_space",
    "make_encoder",
]

MIN_RGB_PX = 36
"""Smallest side of the rgb observation: SB3's default ``CnnPolicy`` needs 36x36."""


def make_encoder(cfg: EnvConfig, n: int) -> Encoder:
    """The encoder of ``cfg.obs_mode`` for ``n`` envs."""
    if cfg.obs_mode == "tokens":
        return TokenEncoder(cfg, n, scheme=cfg.token_scheme, vocab=cfg.vocab)
    if cfg.obs_mode == "rgb":
        return RGBEncoder(cfg, n, cell_px=cfg.rgb_cell_px)
    return GridEncoder(cfg, n)


# -- the grid -------------------------------------------------------------------------------------
def grid_channels(cfg: EnvConfig) -> tuple[str, ...]:
    """Names of the grid observation's channels, in order."""
    return ("wall", "agent", "target") + ("visited",) * cfg.visited + ("mask",) * cfg.padded


def grid_space(cfg: EnvConfig) -> gym.spaces.MultiBinary:
    """``MultiBinary([channels, 2R+1, 2C+1])`` over ``cfg.grid_shape = (R, C)``."""
    rows, cols = cfg.grid_shape
    return gym.spaces.MultiBinary([len(grid_channels(cfg)), 2 * rows + 1, 2 * cols + 1])


def grid_obs(
    cfg: EnvConfig,
    ep: Episodes,
    agents: np.ndarray,
    visited: Sequence[Sequence[int]] | None = None,
    out: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Grid observations (see :class:`~maze_env.env.MazeEnv`'s Observation Space).

    Args:
        cfg: the env's configuration (channels, padding).
        ep: ``n`` episodes padded to ``cfg.grid_shape = (R, C)``.
        agents: ``int[n]`` flat agent cells ``r * C + c``.
        visited: per episode, flat cells walked so far (the ``visited`` channel); default the agent.
        out: write into these rows of ``out`` (``int8[N, channels, 2R+1, 2C+1]``) instead.
        rows: the rows of ``out``, one per episode.

    Returns:
        ``int8[n, channels, 2R+1, 2C+1]`` (or ``out``).
    """
    n = len(ep)
    chans = grid_channels(cfg)
    if out is None:
        grid_rows, grid_cols = cfg.grid_shape
        out = np.empty((n, len(chans), 2 * grid_rows + 1, 2 * grid_cols + 1), dtype=np.int8)
        rows = np.arange(n)
    visited_ch = chans.index("visited") if "visited" in chans else -1
    mask_ch = chans.index("mask") if "mask" in chans else -1
    agents = np.asarray(agents, dtype=np.int64)
    _grid_kernel(
        out, np.asarray(rows, np.int64), ep.conn, ep.shapes, agents, ep.targets, visited_ch, mask_ch
    )
    if visited_ch >= 0 and visited is not None:
        cols = cfg.grid_shape[1]
        for j, cells in enumerate(visited):
            vr, vc = np.divmod(np.asarray(cells, dtype=np.int64), cols)
            out[rows[j], visited_ch, 2 * vr + 1, 2 * vc + 1] = 1  # type: ignore[index]
    return out


@njit(cache=True)
def _grid_kernel(out, rows, conn, shapes, agents, targets, visited_ch, mask_ch):  # type: ignore[no-untyped-def]  # pragma: no cover
    cols = conn.shape[3]
    for j in range(rows.shape[0]):
        o = out[rows[j]]
        o[:] = 0
        o[0] = 1  # walls everywhere but the cells and passages of this maze
        height, width = shapes[j, 0], shapes[j, 1]
        for r in range(height):
            for c in range(width):
                o[0, 2 * r + 1, 2 * c + 1] = 0
                if conn[j, 0, r, c]:
                    o[0, 2 * r + 2, 2 * c + 1] = 0
                if conn[j, 1, r, c]:
                    o[0, 2 * r + 1, 2 * c + 2] = 0
        ar, ac = agents[j] // cols, agents[j] % cols
        o[1, 2 * ar + 1, 2 * ac + 1] = 1
        o[2, 2 * targets[j, 0] + 1, 2 * targets[j, 1] + 1] = 1
        if visited_ch >= 0:
            o[visited_ch, 2 * ar + 1, 2 * ac + 1] = 1
        if mask_ch >= 0:
            o[mask_ch, : 2 * height + 1, : 2 * width + 1] = 1


def grid_move(buf: np.ndarray, i: int, p: int, q: int, cols: int, visited_ch: int) -> None:
    """Row ``i`` of grid observations ``buf: int8[N, C, H, W]`` after its agent moves from flat
    cell ``p`` to ``q`` (``cols`` wide): the agent pixel moves; the ``visited`` channel (if
    ``>= 0``) gains ``q``. (Indexes ``buf`` whole: a row view per call costs numba a refcount.)"""
    pr, pc = p // cols, p % cols
    qr, qc = q // cols, q % cols
    buf[i, 1, 2 * pr + 1, 2 * pc + 1] = 0
    buf[i, 1, 2 * qr + 1, 2 * qc + 1] = 1
    if visited_ch >= 0:
        buf[i, visited_ch, 2 * qr + 1, 2 * qc + 1] = 1


grid_move_jit = njit(cache=True, inline="always")(grid_move)
""":func:`grid_move` compiled, for numba kernels (the vector env's step)."""


@njit(cache=True)
def _grid_move_rows(buf, rows, old, new, cols, visited_ch):  # type: ignore[no-untyped-def]  # pragma: no cover
    for j in range(rows.shape[0]):
        grid_move_jit(buf, rows[j], old[j], new[j], cols, visited_ch)


class Encoder:
    """One observation per env in ``buf``, kept up to date by the env (see the module docstring).

    Attributes:
        buf: ``[n, *space.shape]``, row ``i`` env ``i``'s observation.
        space: one env's observation space.
        needs_rng: whether :meth:`reset_rows` wants each episode's tokens rng.
    """

    buf: np.ndarray
    space: gym.Space
    needs_rng = False

    def reset_rows(
        self,
        rows: np.ndarray,
        ep: Episodes,
        agents: np.ndarray,
        rngs: Sequence[np.random.Generator | None] | None = None,
        paths: Sequence[Sequence[int]] | None = None,
    ) -> None:
        """Encode episode ``j`` of ``ep`` into row ``rows[j]``, the agent at flat ``agents[j]``
        having walked ``paths[j]`` (flat cells, origin first; default the origin)."""
        raise NotImplementedError

    def move(self, rows: np.ndarray, old: np.ndarray, new: np.ndarray, targets: np.ndarray) -> None:
        """Rows ``rows`` after their agents moved from flat ``old`` to ``new`` cells."""
        raise NotImplementedError

    def move_one(self, i: int, p: int, q: int, target: int) -> None:
        """:meth:`move` for one row, with plain ints (the single env's step)."""
        self.move(np.array([i]), np.array([p]), np.array([q]), np.array([target]))

    def retarget(self, i: int, ep: Episodes, agent: int) -> None:
        """Row ``i`` after its target moved to ``ep.targets[0]`` (``ep``: that env's episode)."""
        raise NotImplementedError


class GridEncoder(Encoder):
    """The grid observation: ``int8[channels, 2R+1, 2C+1]`` 0/1 channels (:func:`grid_channels`).

    Args:
        cfg: the env configuration.
        n: number of envs.
    """

    def __init__(self, cfg: EnvConfig, n: int) -> None:
        self.cfg = cfg
        self.channels = grid_channels(cfg)
        self.visited_ch = self.channels.index("visited") if cfg.visited else -1
        self._cols = cfg.grid_shape[1]
        self.space = grid_space(cfg)
        self.buf = np.zeros((n, *self.space.shape), dtype=np.int8)

    def reset_rows(
        self,
        rows: np.ndarray,
        ep: Episodes,
        agents: np.ndarray,
        rngs: Sequence[np.random.Generator | None] | None = None,
        paths: Sequence[Sequence[int]] | None = None,
    ) -> None:
        grid_obs(self.cfg, ep, agents, visited=paths, out=self.buf, rows=rows)

    def move(self, rows: np.ndarray, old: np.ndarray, new: np.ndarray, targets: np.ndarray) -> None:
        _grid_move_rows(self.buf, np.asarray(rows, np.int64), np.asarray(old, np.int64),
                        np.asarray(new, np.int64), self._cols, self.visited_ch)  # fmt: skip

    def move_one(self, i: int, p: int, q: int, target: int) -> None:
        grid_move(self.buf, i, p, q, self._cols, self.visited_ch)

    def retarget(self, i: int, ep: Episodes, agent: int) -> None:
        self.buf[i, 2] = 0
        self.buf[i, 2, 2 * ep.targets[0, 0] + 1, 2 * ep.targets[0, 1] + 1] = 1


# -- tokens and rgb ------------------------------------------------------------------------------
class TokenEncoder(Encoder):
    """The prompt of each task and the path walked so far, as padded token ids.

    Row layout: ``<ADJLIST_START> ... <PATH_START> origin ... agent <PATH_END> <PADDING>...``, in
    :class:`~maze_env.tokens.Vocabulary` ids (edge order random per episode, from the episode's
    stream). Its length ``T`` fits a prompt listing every lattice edge of the largest shape plus
    ``max_steps + 1`` path cells, so nothing is ever cut.

    Args:
        cfg: the env configuration.
        n: number of envs.
        scheme: token scheme (:data:`maze_env.tokens.SCHEMES`), if ``vocab`` is None.
        vocab: the vocabulary; its ``max_shape`` must cover the env's largest shape.
    """

    needs_rng = True

    def __init__(self, cfg: EnvConfig, n: int, *, scheme: str = "aotp", vocab: Any = None) -> None:
        super().__init__()
        from maze_env.tokens import make_vocabulary
        from maze_env.tokens.schemes import PATH_END, TARGET_START

        rows, cols = cfg.grid_shape
        vocab = make_vocabulary(cfg.grid_shape, scheme) if vocab is None else vocab
        if vocab.max_shape[0] < rows or vocab.max_shape[1] < cols:
            raise ValueError(
                f"tokens observation: mazes up to {rows}x{cols} need a vocabulary with max_shape >= "
                f"{(rows, cols)}, got {vocab.max_shape}; build Vocabulary({(rows, cols)}) or use smaller shapes"
            )
        self.vocab, self._cols = vocab, cols
        w = self._w = vocab.scheme.coord_width
        cells = [(r, c) for r in range(rows) for c in range(cols)]
        self._cell_ids = np.array([vocab.encode(vocab.scheme.coord_tokens(c)) for c in cells])
        self._path_end, self._target_start = vocab.id_of(PATH_END), vocab.id_of(TARGET_START)
        shapes = np.array([*cfg.shapes, cfg.grid_shape], dtype=np.int64)
        max_steps = int(episode_limits(cfg, shapes)[0].max())
        n_edges = rows * (cols - 1) + cols * (rows - 1)
        self.length = 1 + n_edges * (2 * w + 2) + (6 + 2 * w) + (max_steps + 1) * w + 1
        self.space = gym.spaces.Box(0, len(vocab) - 1, (self.length,), dtype=np.int32)
        self.buf = np.full((n, self.length), vocab.pad_id, dtype=np.int32)
        self._end = np.zeros(n, dtype=np.int64)  # where <PATH_END> is

    def reset_rows(
        self,
        rows: np.ndarray,
        ep: Episodes,
        agents: np.ndarray,
        rngs: Sequence[np.random.Generator | None] | None = None,
        paths: Sequence[Sequence[int]] | None = None,
    ) -> None:
        cols = self._cols
        for j, i in enumerate(rows):
            r, c = (int(v) for v in ep.shapes[j])
            flat = np.asarray(
                paths[j] if paths is not None else [ep.origins[j, 0] * cols + ep.origins[j, 1]]
            )
            cells = np.stack(np.divmod(flat, cols), axis=1)[None]
            ids = self.vocab.encode_arrays(
                ep.conn[j : j + 1, :, :r, :c], ep.origins[j : j + 1], ep.targets[j : j + 1],
                paths=(cells, np.array([len(flat)])), rng=None if rngs is None else rngs[j],
                length=self.length,
            )  # fmt: skip
            self.buf[i] = ids[0]
            self._end[i] = np.flatnonzero(ids[0] == self._path_end)[-1]

    def move(self, rows: np.ndarray, old: np.ndarray, new: np.ndarray, targets: np.ndarray) -> None:
        w, end = self._w, self._end[rows]
        room = end + w < self.length  # a path never outgrows the row unless stepped past max_steps
        rows, end, new = rows[room], end[room], new[room]
        for k in range(w):
            self.buf[rows, end + k] = self._cell_ids[new, k]
        self.buf[rows, end + w] = self._path_end
        self._end[rows] = end + w

    def retarget(self, i: int, ep: Episodes, agent: int) -> None:
        """Write env ``i``'s new target (``ep.targets[0]``) into its prompt."""
        at = int(np.flatnonzero(self.buf[i] == self._target_start)[0]) + 1
        self.buf[i, at : at + self._w] = self._cell_ids[
            ep.targets[0, 0] * self._cols + ep.targets[0, 1]
        ]


class RGBEncoder(Encoder):
    """The frame :func:`maze_env.render.draw_frame` draws of the maze, target and agent.

    A frame is drawn once per episode without the agent; a move restores the old cell's pixels and
    stamps the agent's disc on the new cell. Smaller mazes sit top-left in a wall-coloured frame
    sized for the largest shape.

    Args:
        cfg: the env configuration.
        n: number of envs.
        cell_px: cell size in pixels; default the smallest >= 4 that makes both sides >= 36.
    """

    def __init__(self, cfg: EnvConfig, n: int, *, cell_px: int | None = None) -> None:
        super().__init__()
        from maze_env.render import WALL, cell_box, draw_frame, frame_size, resolve_wall_px

        shape = cfg.grid_shape
        if cell_px is None:
            cell_px = 4
            while min(frame_size(shape, cell_px)) < MIN_RGB_PX:
                cell_px += 1
        self.cell_px, self.wall_px = int(cell_px), resolve_wall_px(cell_px)
        self._draw, self._box, self._wall = draw_frame, cell_box, np.array(WALL, dtype=np.uint8)
        height, width = frame_size(shape, self.cell_px)
        self.space = gym.spaces.Box(0, 255, (height, width, 3), dtype=np.uint8)
        self.buf = np.zeros((n, height, width, 3), dtype=np.uint8)
        self._bg = np.zeros_like(self.buf)
        self._cols = shape[1]
        tiny = Maze(np.array([[[False, False]], [[True, False]]]))  # two cells side by side
        y0, x0, y1, x1 = cell_box((0, 0), self.cell_px)
        self._tile = draw_frame(tiny, agent=(0, 0), target=(0, 1), cell_px=self.cell_px)[
            y0:y1, x0:x1
        ]
        y0, x0, y1, x1 = cell_box((0, 1), self.cell_px)
        self._tile_on_target = draw_frame(tiny, agent=(0, 1), target=(0, 1), cell_px=self.cell_px)[
            y0:y1, x0:x1
        ]
        self._target = np.zeros(n, dtype=np.int64)

    def reset_rows(
        self,
        rows: np.ndarray,
        ep: Episodes,
        agents: np.ndarray,
        rngs: Sequence[np.random.Generator | None] | None = None,
        paths: Sequence[Sequence[int]] | None = None,
    ) -> None:
        for j, i in enumerate(rows):
            task = ep.task(j)
            frame = self._draw(task.maze, target=task.target, cell_px=self.cell_px)
            self._bg[i] = self._wall
            self._bg[i, : frame.shape[0], : frame.shape[1]] = frame
            self.buf[i] = self._bg[i]
            self._target[i] = task.target[0] * self._cols + task.target[1]
            self._stamp(int(i), int(agents[j]))

    def move(self, rows: np.ndarray, old: np.ndarray, new: np.ndarray, targets: np.ndarray) -> None:
        for i, p, q in zip(rows.tolist(), old.tolist(), new.tolist(), strict=True):
            y0, x0, y1, x1 = self._box(divmod(p, self._cols), self.cell_px)
            self.buf[i, y0:y1, x0:x1] = self._bg[i, y0:y1, x0:x1]
            self._stamp(i, q)

    def retarget(self, i: int, ep: Episodes, agent: int) -> None:
        self.reset_rows(np.array([i]), ep, np.array([agent]))

    def _stamp(self, i: int, cell: int) -> None:
        y0, x0, y1, x1 = self._box(divmod(cell, self._cols), self.cell_px)
        self.buf[i, y0:y1, x0:x1] = self._tile_on_target if cell == self._target[i] else self._tile

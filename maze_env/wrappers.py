"""Observation formats: the grid, tokens and rgb encoders, and their ``ObservationWrapper``s.

Each encoder keeps one observation per env in ``buf`` and updates it incrementally (a move
touches a few pixels or appends one coordinate), for :class:`~maze_env.env.MazeEnv` (one row)
and :class:`~maze_env.vector_env.MazeVectorEnv` (``num_envs`` rows) alike. ``obs_mode=`` makes
the env itself return a format (so the env checkers see a plain env); :class:`TokensObservation`
and :class:`RGBObservation` add one over any ``MazeEnv``, e.g. one made with ``obs_mode="grid"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from numba import njit

from maze_env.maze import Maze

if TYPE_CHECKING:
    from maze_env.env import MazeEnv
    from maze_env.env_config import EnvConfig
    from maze_env.episodes import Episodes

__all__ = ["RGBEncoder", "RGBObservation", "TokenEncoder", "TokensObservation", "grid_obs"]

MIN_RGB_PX = 36
"""Smallest side of the rgb observation: SB3's default ``CnnPolicy`` needs 36x36."""


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
    if out is None:
        grid_rows, grid_cols = cfg.grid_shape
        out = np.empty((n, len(cfg.channels), 2 * grid_rows + 1, 2 * grid_cols + 1), dtype=np.int8)
        rows = np.arange(n)
    chans = cfg.channels
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


class _Encoder:
    """Shared bookkeeping: ``observe(env)`` keeps row 0 in step with a single :class:`MazeEnv`."""

    buf: np.ndarray
    space: gym.Space

    def __init__(self) -> None:
        self._version = -1
        self._seen = 0

    def reset_rows(self, rows: np.ndarray, ep: Episodes, agents: np.ndarray, rngs: Any = None,
                   paths: Sequence[Sequence[int]] | None = None) -> None:  # fmt: skip
        raise NotImplementedError

    def move(self, rows: np.ndarray, old: np.ndarray, new: np.ndarray, targets: np.ndarray) -> None:
        raise NotImplementedError

    def observe(self, env: MazeEnv) -> np.ndarray:
        """Row 0 brought up to ``env``'s state (re-encoded after a reset or a retarget)."""
        path = env._path
        if env._version != self._version:
            rng = [env._token_rng()]
            self.reset_rows(np.zeros(1, np.int64), env._ep, np.array([env._pos]), rng, [path])  # type: ignore[arg-type]
            self._version, self._seen = env._version, len(path)
        elif len(path) > self._seen:
            one, target = np.zeros(1, np.int64), np.array([env._target])
            for k in range(self._seen, len(path)):
                self.move(one, np.array([path[k - 1]]), np.array([path[k]]), target)
            self._seen = len(path)
        return self.buf[0].copy()


class TokenEncoder(_Encoder):
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

    def __init__(self, cfg: EnvConfig, n: int, *, scheme: str = "aotp", vocab: Any = None) -> None:
        super().__init__()
        from maze_env.tokens import Vocabulary
        from maze_env.tokens.schemes import PATH_END, TARGET_START

        rows, cols = cfg.grid_shape
        vocab = Vocabulary(cfg.grid_shape, scheme) if vocab is None else vocab
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
        max_steps = int(cfg.episode_max_steps(shapes).max())
        n_edges = rows * (cols - 1) + cols * (rows - 1)
        self.length = 1 + n_edges * (2 * w + 2) + (6 + 2 * w) + (max_steps + 1) * w + 1
        self.space = gym.spaces.Box(0, len(vocab) - 1, (self.length,), dtype=np.int32)
        self.buf = np.full((n, self.length), vocab.pad_id, dtype=np.int32)
        self._end = np.zeros(n, dtype=np.int64)  # where <PATH_END> is

    def reset_rows(self, rows: np.ndarray, ep: Episodes, agents: np.ndarray, rngs: Any = None,
                   paths: Sequence[Sequence[int]] | None = None) -> None:  # fmt: skip
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


class RGBEncoder(_Encoder):
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

    def reset_rows(self, rows: np.ndarray, ep: Episodes, agents: np.ndarray, rngs: Any = None,
                   paths: Sequence[Sequence[int]] | None = None) -> None:  # fmt: skip
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


def _maze_env(env: gym.Env) -> MazeEnv:
    from maze_env.env import MazeEnv

    if not isinstance(env.unwrapped, MazeEnv):
        raise TypeError(
            f"this wrapper needs a maze_env MazeEnv underneath, got {type(env.unwrapped).__name__}"
        )
    return env.unwrapped


class TokensObservation(gym.ObservationWrapper):
    """Observe a :class:`~maze_env.env.MazeEnv` as tokens (see :class:`TokenEncoder`).

    Args:
        env: a ``MazeEnv``, possibly wrapped.
        scheme: token scheme, if ``vocab`` is None.
        vocab: the :class:`~maze_env.tokens.Vocabulary` (e.g. the transformer's).
    """

    def __init__(self, env: gym.Env, *, scheme: str = "aotp", vocab: Any = None) -> None:
        super().__init__(env)
        self._encoder = TokenEncoder(_maze_env(env).config, 1, scheme=scheme, vocab=vocab)
        self.observation_space = self._encoder.space

    def observation(self, observation: Any) -> np.ndarray:
        return self._encoder.observe(_maze_env(self.env))


class RGBObservation(gym.ObservationWrapper):
    """Observe a :class:`~maze_env.env.MazeEnv` as an RGB frame (see :class:`RGBEncoder`)."""

    def __init__(self, env: gym.Env, *, cell_px: int | None = None) -> None:
        super().__init__(env)
        self._encoder = RGBEncoder(_maze_env(env).config, 1, cell_px=cell_px)
        self.observation_space = self._encoder.space

    def observation(self, observation: Any) -> np.ndarray:
        return self._encoder.observe(_maze_env(self.env))

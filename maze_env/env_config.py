"""The validated arguments of :class:`~maze_env.env.MazeEnv` and the vector env: :class:`EnvConfig`.

Every constructor argument is checked once, here, with a message naming the allowed values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from maze_env.generators import check_params, check_shape, get_spec
from maze_env.maze import Maze, MazeBatch, Task
from maze_env.placement import Placement, parse_placement
from maze_env.types import Shape

if TYPE_CHECKING:
    from maze_env.episodes import Episodes

__all__ = ["MAX_STEPS_PER_CELL", "OBS_MODES", "EnvConfig", "TaskPool", "parse_shapes"]

OBS_MODES = ("grid", "tokens", "rgb")
MAX_STEPS_PER_CELL = 4
"""Default ``max_steps``: this many steps per cell of the episode's maze."""


def parse_shapes(shape: Any) -> tuple[Shape, ...]:
    """The ``shape`` argument as a tuple of distinct shapes, in order.

    Accepts ``(rows, cols)`` (a pair of ints is always one shape), an int (a square), a ``range``
    of square sizes, or a list of shapes (pairs or ints).
    """
    if isinstance(shape, (int, np.integer)):
        return (check_shape((shape, shape)),)
    is_pair = isinstance(shape, Sequence) and len(shape) == 2
    if is_pair and all(isinstance(v, (int, np.integer)) for v in shape):
        return (check_shape(shape),)
    if not isinstance(shape, (range, Sequence)) or isinstance(shape, str) or len(shape) == 0:
        raise ValueError(
            "shape must be (rows, cols), an int, a range of square sizes or a list of shapes, "
            f"got {shape!r}"
        )
    if any(isinstance(s, range) for s in shape):
        raise ValueError(f"a list of shapes holds pairs or ints, not ranges, got {shape!r}")
    return tuple(dict.fromkeys(parse_shapes(s)[0] for s in shape))


@dataclass(frozen=True, eq=False)
class TaskPool:
    """Mazes to draw from (``mazes=``), padded to the pool's largest shape.

    Attributes:
        conn: ``bool[P, 2, R, C]``.
        shapes: ``int64[P, 2]`` each maze's own ``(rows, cols)``.
        origins, targets: ``int64[P, 2]`` endpoints, or None (placements decide).
    """

    conn: np.ndarray
    shapes: np.ndarray
    origins: np.ndarray | None = None
    targets: np.ndarray | None = None

    @classmethod
    def build(cls, mazes: Any) -> TaskPool:
        origins = targets = None
        if isinstance(mazes, MazeBatch):
            conns = list(mazes.connections)
        elif all(hasattr(mazes, a) for a in ("mazes", "origins", "targets")):  # a MazeDataset
            conns = list(mazes.mazes.connections)
            origins, targets = np.asarray(mazes.origins), np.asarray(mazes.targets)
        elif isinstance(mazes, Sequence) and mazes and all(isinstance(m, Maze) for m in mazes):
            conns = [m.connections for m in mazes]
        elif isinstance(mazes, Sequence) and mazes and all(isinstance(t, Task) for t in mazes):
            conns = [t.maze.connections for t in mazes]
            origins = np.array([t.origin for t in mazes])
            targets = np.array([t.target for t in mazes])
        else:
            raise TypeError(
                "mazes must be a MazeBatch, a MazeDataset, or a non-empty list of Maze or of Task, "
                f"got {type(mazes).__name__}"
            )
        if not conns:
            raise ValueError("mazes is empty; give at least one maze")
        shapes = np.array([c.shape[1:] for c in conns], dtype=np.int64)
        rows, cols = shapes.max(axis=0)
        conn = np.zeros((len(conns), 2, rows, cols), dtype=bool)
        for i, c in enumerate(conns):
            conn[i, :, : c.shape[1], : c.shape[2]] = c
        return cls(conn, shapes, _cells_or_none(origins), _cells_or_none(targets))


def _cells_or_none(cells: np.ndarray | None) -> np.ndarray | None:
    return None if cells is None else np.asarray(cells, dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True, eq=False)
class EnvConfig:
    """The validated arguments of :class:`MazeEnv` (see its docstring), shared by the vector env."""

    shapes: tuple[Shape, ...]
    grid_shape: Shape
    padded: bool
    generator: str
    generator_params: dict[str, Any]
    pool: TaskPool | None
    origin: Placement | None
    target: Placement | None
    max_steps: int | None
    goal_reward: float
    step_penalty: float | None
    wall_penalty: float | None
    visited: bool
    obs_mode: str
    token_scheme: str
    vocab: Any
    rgb_cell_px: int | None
    masks: dict[str, np.ndarray] = field(repr=False)  # per shape index: bool[S, R*C]

    @classmethod
    def build(  # noqa: C901  (one check per argument, each with its own message)
        cls,
        *,
        shape: Any = None,
        generator: str = "dfs",
        generator_params: dict[str, Any] | None = None,
        obs_mode: str = "grid",
        target: Any = None,
        origin: Any = None,
        max_steps: int | None = None,
        goal_reward: float = 1.0,
        step_penalty: float | None = None,
        wall_penalty: float | None = None,
        visited: bool = False,
        pad_to: Any = None,
        mazes: Any = None,
        token_scheme: str = "aotp",
        vocab: Any = None,
        rgb_cell_px: int | None = None,
    ) -> EnvConfig:
        spec = get_spec(generator)
        params = dict(generator_params or {})
        check_params(spec, params)
        pool = None if mazes is None else TaskPool.build(mazes)
        if pool is None:
            shapes = parse_shapes((6, 6) if shape is None else shape)
        else:
            shapes = tuple(dict.fromkeys(tuple(int(v) for v in s) for s in pool.shapes))
            if shape is not None and set(parse_shapes(shape)) != set(shapes):
                raise ValueError(
                    f"shape={shape!r} does not match the shapes of mazes= {list(shapes)}; omit shape"
                )
        largest = (max(s[0] for s in shapes), max(s[1] for s in shapes))
        grid_shape = largest if pad_to is None else check_shape(pad_to)
        if grid_shape[0] < largest[0] or grid_shape[1] < largest[1]:
            raise ValueError(f"pad_to={grid_shape} is smaller than the largest shape {largest}")
        if obs_mode not in OBS_MODES:
            raise ValueError(f"unknown obs_mode {obs_mode!r}; allowed: {', '.join(OBS_MODES)}")
        if max_steps is not None and (int(max_steps) != max_steps or max_steps < 1):
            raise ValueError(
                f"max_steps must be a positive int or None (4 x cells), got {max_steps!r}"
            )
        for name, value in (
            ("goal_reward", goal_reward),
            ("step_penalty", step_penalty),
            ("wall_penalty", wall_penalty),
        ):
            if value is not None and not np.isfinite(float(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        has_ends = pool is not None and pool.targets is not None
        tgt = (
            None
            if target is None and has_ends
            else parse_placement("random" if target is None else target)
        )
        org = (
            None
            if origin is None and has_ends
            else parse_placement("random" if origin is None else origin)
        )
        masks = _placement_masks(shapes, grid_shape, org, tgt)
        if vocab is not None and not all(hasattr(vocab, a) for a in ("max_shape", "encode_arrays")):
            raise TypeError(
                f"vocab must be a maze_env.tokens.Vocabulary, got {type(vocab).__name__}"
            )
        return cls(
            shapes,
            grid_shape,
            pad_to is not None or len(shapes) > 1,
            generator,
            params,
            pool,
            org,
            tgt,
            None if max_steps is None else int(max_steps),
            float(goal_reward),
            None if step_penalty is None else float(step_penalty),
            None if wall_penalty is None else float(wall_penalty),
            bool(visited),
            obs_mode,
            token_scheme,
            vocab,
            rgb_cell_px,
            masks,
        )

    # -- observation layout ---------------------------------------------------------------------
    @property
    def channels(self) -> tuple[str, ...]:
        """Names of the grid observation's channels, in order."""
        return ("wall", "agent", "target") + ("visited",) * self.visited + ("mask",) * self.padded

    def grid_space(self) -> gym.spaces.MultiBinary:
        rows, cols = self.grid_shape
        return gym.spaces.MultiBinary([len(self.channels), 2 * rows + 1, 2 * cols + 1])

    def grid_obs(self, ep: Episodes, agents: np.ndarray, **kwargs: Any) -> np.ndarray:
        """Grid observations of ``ep`` (:func:`maze_env.wrappers.grid_obs`)."""
        from maze_env.wrappers import grid_obs

        return grid_obs(self, ep, agents, **kwargs)

    def make_encoder(self, n: int) -> Any:
        """The tokens or rgb encoder for ``n`` envs (None for grid observations)."""
        from maze_env.wrappers import RGBEncoder, TokenEncoder

        if self.obs_mode == "tokens":
            return TokenEncoder(self, n, scheme=self.token_scheme, vocab=self.vocab)
        if self.obs_mode == "rgb":
            return RGBEncoder(self, n, cell_px=self.rgb_cell_px)
        return None

    # -- per-episode numbers ----------------------------------------------------------------------
    def episode_max_steps(self, shapes: np.ndarray) -> np.ndarray:
        """``int64[n]``: the step limit of episodes whose mazes have ``shapes: int[n, 2]``."""
        if self.max_steps is not None:
            return np.full(len(shapes), self.max_steps, dtype=np.int64)
        return MAX_STEPS_PER_CELL * shapes[:, 0].astype(np.int64) * shapes[:, 1]

    def penalties(self, max_steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(step_penalty, wall_penalty)``, ``float64[n]`` each, for episodes of ``max_steps``."""
        step = (
            np.full(len(max_steps), self.step_penalty)
            if self.step_penalty is not None
            else -1.0 / max_steps
        )
        wall = (
            np.full(len(max_steps), self.wall_penalty)
            if self.wall_penalty is not None
            else step.copy()
        )
        return step.astype(np.float64), wall.astype(np.float64)


def _placement_masks(
    shapes: tuple[Shape, ...], grid: Shape, origin: Placement | None, target: Placement | None
) -> dict[str, np.ndarray]:
    """Per shape (index ``masks["shape_id"][rows, cols]``): valid cells and each placement's."""
    rows, cols = grid
    out: dict[str, Any] = {"shape_id": np.full((rows + 1, cols + 1), -1, dtype=np.int64)}
    valid, places = [], {"origin": [], "target": []}
    for i, (r, c) in enumerate(shapes):
        out["shape_id"][r, c] = i
        v = np.zeros((rows, cols), dtype=bool)
        v[:r, :c] = True
        valid.append(v.ravel())
        for name, placement in (("origin", origin), ("target", target)):
            if placement is None or placement.kind == "dead_end":
                continue
            try:
                m = placement.mask((r, c))
            except ValueError as e:
                raise ValueError(f"{name} placement: {e}") from None
            padded = np.zeros((rows, cols), dtype=bool)
            padded[:r, :c] = m
            places[name].append(padded.ravel())
        if len(places["origin"]) == i + 1 and len(places["target"]) == i + 1:
            o, t = places["origin"][i], places["target"][i]
            if o.sum() == 1 and (o == t).all():
                cell = divmod(int(np.argmax(o)), cols)
                raise ValueError(
                    f"origin and target placements both fix cell {cell} in a {r}x{c} maze; move one"
                )
    out["valid"] = np.array(valid)
    for name, placement in (("origin", origin), ("target", target)):
        if placement is not None and placement.kind != "dead_end":
            out[name] = np.array(places[name])
    return out

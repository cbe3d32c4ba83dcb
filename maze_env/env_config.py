"""The arguments of :class:`~maze_env.env.MazeEnv` and the vector env, as plain validated data.

:class:`EnvConfig` is the one declaration of the env's arguments: its dataclass fields are what
``MazeEnv(...)``, ``gymnasium.make("maze_env/Maze-v0", ...)`` and ``MazeVectorEnv(n, ...)`` take
(their signatures are built from these fields), each checked once, here, with a message naming the
allowed values. The values derived from them (the shapes, the padded grid, the pool, the parsed
placements and their cell masks) are computed on construction and read-only after.

This module imports nothing from the env's other modules: ``env_config -> episodes ->
observations -> env -> wrappers`` is a chain (tests/maze_env/test_env_layers.py checks it).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import Any

import numpy as np

from maze_env.generators import check_params, check_shape, get_spec
from maze_env.maze import Maze, MazeBatch, Task
from maze_env.placement import Placement, parse_placement
from maze_env.shapes import parse_shapes
from maze_env.types import Shape

__all__ = [
    "MAX_STEPS_PER_CELL",
    "OBS_MODES",
    "EnvConfig",
    "TaskPool",
    "env_signature",
    "parse_shapes",
]

OBS_MODES = ("grid", "tokens", "rgb")
MAX_STEPS_PER_CELL = 4
"""Default ``max_steps``: this many steps per cell of the episode's maze."""

_MOVED = {
    "channels": "maze_env.observations.grid_channels(cfg)",
    "grid_space": "maze_env.observations.grid_space(cfg)",
    "grid_obs": "maze_env.observations.grid_obs(cfg, ep, agents, ...)",
    "make_encoder": "maze_env.observations.make_encoder(cfg, n)",
    "episode_max_steps": "maze_env.episodes.episode_limits(cfg, shapes)",
    "penalties": "maze_env.episodes.episode_limits(cfg, shapes)",
}


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
    """The validated arguments of :class:`~maze_env.env.MazeEnv` (its docstring tells the story).

    The first three may be given by position; the rest by keyword. Loadable from YAML with
    :meth:`from_dict` (``shape: [6, 6]``). Derived, read-only attributes: :attr:`shapes`,
    :attr:`grid_shape`, :attr:`padded`, :attr:`pool`, :attr:`origin_placement`,
    :attr:`target_placement`, :attr:`masks`.
    """

    shape: Any = None
    """``(rows, cols)``; an int for a square; a ``range`` of square sizes or a list of shapes to
    draw from at each reset (observations are then padded). Default ``(6, 6)``, or the shapes of
    ``mazes``."""
    generator: str = "dfs"
    """A name in :data:`maze_env.generators.GENERATORS`."""
    generator_params: dict[str, Any] | None = None
    """Keyword parameters of the generator (``None``: its defaults)."""
    _: KW_ONLY
    obs_mode: str = "grid"
    """``"grid"``, ``"tokens"`` or ``"rgb"``."""
    target: Any = None
    """Placement of the target (:mod:`maze_env.placement`: ``random``, ``corner``, ``corner:br``,
    ``region:br:2``, ``outside:br:2``, ``cell:R,C``, ``dead_end``) or a ``(row, col)``; ``None``:
    ``random``, or the pool's targets for a ``MazeDataset`` or a list of ``Task``."""
    origin: Any = None
    """The same for the origin."""
    max_steps: int | None = None
    """Steps before truncation; ``None``: ``4 * rows * cols`` of each episode's maze."""
    goal_reward: float = 1.0
    """Reward for reaching the target."""
    step_penalty: float | None = None
    """Reward of every other step (negative); ``None``: ``-1 / max_steps``."""
    wall_penalty: float | None = None
    """Added when a move hits a wall; ``None``: equal to the step penalty."""
    visited: bool = False
    """Add the ``visited`` channel to grid observations."""
    pad_to: Any = None
    """Lay grid observations over this ``(rows, cols)`` with a ``mask`` channel, so tasks of any
    shape that fits can be played (default: padded only if shapes vary)."""
    mazes: Any = None
    """Draw mazes from this pool instead of a generator: a ``MazeBatch``, a ``MazeDataset`` (its
    origins and targets too, unless placements are given), or a list of ``Maze`` or ``Task``."""
    token_scheme: str = "aotp"
    """Scheme of the tokens observation (:data:`maze_env.tokens.SCHEMES`)."""
    vocab: Any = None
    """The :class:`~maze_env.tokens.Vocabulary` of the tokens observation (default: one for the
    largest shape); it must cover every shape."""
    rgb_cell_px: int | None = None
    """Cell size of the rgb observation (default: the smallest >= 4 giving 36 px)."""

    # -- derived on construction (not arguments) -------------------------------------------------
    shapes: tuple[Shape, ...] = field(init=False)
    """The distinct maze shapes episodes are drawn from, in order."""
    grid_shape: Shape = field(init=False)
    """``(R, C)``: the grid every episode is padded to (top-left aligned)."""
    padded: bool = field(init=False)
    """Whether observations carry a ``mask`` channel (shapes vary or ``pad_to`` is set)."""
    pool: TaskPool | None = field(init=False, repr=False)
    """The ``mazes`` pool, padded; None when mazes come from the generator."""
    origin_placement: Placement | None = field(init=False)
    """The parsed ``origin`` (None: the pool's own origins)."""
    target_placement: Placement | None = field(init=False)
    """The parsed ``target`` (None: the pool's own targets)."""
    masks: dict[str, np.ndarray] = field(init=False, repr=False)
    """Cell masks per shape index ``masks["shape_id"][rows, cols]``: ``valid`` (inside the
    maze), ``origin`` and ``target`` (the placement's cells, for maze-independent placements),
    each ``bool[S, R*C]``."""

    def __post_init__(self) -> None:
        check_params(get_spec(self.generator), dict(self.generator_params or {}))
        if self.obs_mode not in OBS_MODES:
            raise ValueError(f"unknown obs_mode {self.obs_mode!r}; allowed: {', '.join(OBS_MODES)}")
        self._set_numbers()
        pool = None if self.mazes is None else TaskPool.build(self.mazes)
        shapes = _shapes(self.shape, pool)
        largest = (max(s[0] for s in shapes), max(s[1] for s in shapes))
        grid_shape = largest if self.pad_to is None else check_shape(self.pad_to)
        if grid_shape[0] < largest[0] or grid_shape[1] < largest[1]:
            raise ValueError(f"pad_to={grid_shape} is smaller than the largest shape {largest}")
        has_ends = pool is not None and pool.targets is not None
        org, tgt = (
            None
            if spec is None and has_ends
            else parse_placement("random" if spec is None else spec)
            for spec in (self.origin, self.target)
        )
        vocab = self.vocab
        if vocab is not None and not all(hasattr(vocab, a) for a in ("max_shape", "encode_arrays")):
            raise TypeError(
                f"vocab must be a maze_env.tokens.Vocabulary, got {type(vocab).__name__}"
            )
        derived = {
            "generator_params": dict(self.generator_params or {}),
            "shapes": shapes,
            "grid_shape": grid_shape,
            "padded": self.pad_to is not None or len(shapes) > 1,
            "pool": pool,
            "origin_placement": org,
            "target_placement": tgt,
            "masks": _placement_masks(shapes, grid_shape, org, tgt),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def _set_numbers(self) -> None:
        """Check the numeric arguments and store them as plain ints and floats."""
        steps = self.max_steps
        if steps is not None and (isinstance(steps, bool) or int(steps) != steps or steps < 1):
            raise ValueError(f"max_steps must be a positive int or None (4 x cells), got {steps!r}")
        values = {"max_steps": None if steps is None else int(steps)}
        for name in ("goal_reward", "step_penalty", "wall_penalty"):
            value = getattr(self, name)
            if value is not None and not np.isfinite(float(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            values[name] = None if value is None else float(value)
        values["visited"] = bool(self.visited)
        for name, value in values.items():
            object.__setattr__(self, name, value)

    # -- the arguments as data -------------------------------------------------------------------
    def arguments(self) -> dict[str, Any]:
        """The constructor arguments, by name (``EnvConfig(**cfg.arguments())`` rebuilds it)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.init}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EnvConfig:
        """Build from a mapping (e.g. a YAML section); unknown keys name the allowed ones."""
        if not isinstance(data, Mapping):
            raise ValueError(f"an env config must be a mapping, got {type(data).__name__}")
        allowed = [f.name for f in fields(cls) if f.init]
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ValueError(f"unknown env argument(s) {unknown}; allowed: {', '.join(allowed)}")
        data = dict(data)
        if isinstance(data.get("shape"), list) and all(isinstance(s, list) for s in data["shape"]):
            data["shape"] = [tuple(s) for s in data["shape"]]  # YAML lists of [rows, cols]
        return cls(**data)

    @classmethod
    def build(cls, **kwargs: Any) -> EnvConfig:
        """``EnvConfig(**kwargs)`` (the name earlier code calls)."""
        return cls(**kwargs)

    @classmethod
    def bind(cls, owner: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> EnvConfig:
        """``EnvConfig(*args, **kwargs)``, with a wrong argument reported against ``owner``."""
        try:
            inspect.signature(cls).bind(*args, **kwargs)
        except TypeError as err:
            allowed = ", ".join(f.name for f in fields(cls) if f.init)
            raise TypeError(f"{owner}(): {err}; its arguments: {allowed}") from None
        return cls(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name in _MOVED:  # names of the former, behaviour-carrying EnvConfig
            raise AttributeError(f"EnvConfig.{name} moved: use {_MOVED[name]}")
        raise AttributeError(f"'EnvConfig' object has no attribute {name!r}")


def env_signature(
    *, before: Sequence[inspect.Parameter] = (), after: Sequence[inspect.Parameter] = ()
) -> inspect.Signature:
    """A signature made of ``before``, :class:`EnvConfig`'s arguments, then ``after``.

    The env classes take ``*args, **kwargs`` for the config and set this as their ``__init__``'s
    ``__signature__``, so ``help()`` and ``inspect.signature`` show the real arguments.
    """
    params = list(before)
    for p in inspect.signature(EnvConfig).parameters.values():
        if params and params[-1].kind == inspect.Parameter.KEYWORD_ONLY:
            p = p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        params.append(p)
    params += [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in after]
    return inspect.Signature(params)


def argument_docs(indent: int = 8, extra: Mapping[str, str] | None = None) -> str:
    """An ``Args:`` section for the env classes' docstrings, from :class:`EnvConfig`'s field
    docstrings (read from this module's source) followed by ``extra`` (name -> text)."""
    docs = _field_docs()
    lines = [" " * (indent - 4) + "Args:"]
    entries = [(f.name, docs.get(f.name, "")) for f in fields(EnvConfig) if f.init]
    for name, text in [*entries, *(extra or {}).items()]:
        words = " ".join(text.split())
        lines += textwrap.wrap(
            f"{name}: {words}",
            100,
            initial_indent=" " * indent,
            subsequent_indent=" " * (indent + 4),
        )
    return "\n".join(lines)


def _field_docs() -> dict[str, str]:
    """``{field: docstring}`` of :class:`EnvConfig` (empty where the source cannot be read)."""
    try:
        tree = ast.parse(inspect.getsource(EnvConfig))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    out = {}
    for node, after in zip(body, body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                out[node.target.id] = str(after.value.value)
    return out


def _shapes(shape: Any, pool: TaskPool | None) -> tuple[Shape, ...]:
    """The env's shapes: from ``shape`` (default 6x6), or the pool's (``shape`` must agree)."""
    if pool is None:
        return parse_shapes((6, 6) if shape is None else shape)
    shapes = tuple(dict.fromkeys(tuple(int(v) for v in s) for s in pool.shapes))
    if shape is not None and set(parse_shapes(shape)) != set(shapes):
        raise ValueError(
            f"shape={shape!r} does not match the shapes of mazes= {list(shapes)}; omit shape"
        )
    return shapes  # type: ignore[return-value]


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

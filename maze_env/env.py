"""The Gymnasium maze environment: :class:`MazeEnv` (``maze_env/Maze-v0``).

The episode machinery (what a reset draws, the move and distance tables) is batched and lives in
:mod:`maze_env.episodes`, shared with :class:`~maze_env.vector_env.MazeVectorEnv`; a ``MazeEnv``
is its one-maze case, stepped with plain Python ints for speed. Both therefore play the same tasks
from the same seeds, which the tests check step by step.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

import gymnasium as gym
import numpy as np

from maze_env.env_config import EnvConfig
from maze_env.episodes import Episodes, derive_keys, draw_episodes, episodes_from_tasks, token_rng
from maze_env.maze import Task
from maze_env.types import Coord

__all__ = ["MazeEnv", "as_action"]


def _spec_for(**kwargs: Any) -> Any:
    """The registered spec with these arguments, so that a directly built env has one too
    (``env.spec.make()`` rebuilds it; the env checker uses that to try every render mode)."""
    from maze_env.registration import ENV_ID

    return dataclasses.replace(gym.spec(ENV_ID), kwargs=kwargs)


_ACTION_HELP = "one of 0 (UP), 1 (RIGHT), 2 (DOWN), 3 (LEFT)"


def as_action(action: Any) -> int:
    """``action`` as an int in ``0..3``; ``TypeError``/``ValueError`` naming the allowed values."""
    if type(action) is int:
        a = action
    else:
        try:
            a = operator.index(action)  # ints, numpy integers, 0-d integer arrays, Action
        except TypeError:
            arr = np.asarray(action)
            if arr.shape != (1,) or arr.dtype.kind not in "iu":
                raise TypeError(f"action must be {_ACTION_HELP}, got {action!r}") from None
            a = int(arr[0])
    if not 0 <= a < 4:
        raise ValueError(f"action must be {_ACTION_HELP}, got {a}")
    return a


class MazeEnv(gym.Env):
    """Find the target in a lattice maze, one cell per step.

    ## Description
    Each episode is a :class:`~maze_env.maze.Task`: a maze drawn from a generator (or a pool, or
    given), an origin where the agent starts and a target to reach. Walls block moves. The maze,
    its size, and where origin and target go are all parameters, for generalization experiments
    (train with the target in one corner, test it anywhere; train on 6x6, test on 12x12).

    ## Action Space
    ``Discrete(4)``: :class:`~maze_env.types.Action` ``UP=0, RIGHT=1, DOWN=2, LEFT=3``. A move
    into a wall leaves the agent where it is (``info["hit_wall"]``). Any other action raises.

    ## Observation Space
    ``obs_mode="grid"`` (default): ``MultiBinary([C, 2R+1, 2C'+1])`` (int8 0/1) over the pixel grid
    of :meth:`Maze.as_grid` (cell ``(r, c)`` is pixel ``(2r+1, 2c+1)``). Channels, in order
    (:attr:`channels`): ``wall``, ``agent``, ``target``, then ``visited`` (cells walked so far,
    with ``visited=True``) and ``mask`` (pixels inside the current maze, when sizes vary or
    ``pad_to`` is set; outside it everything is wall, top-left aligned). It is MultiBinary, not a
    uint8 Box, because the channels are binary and SB3 treats every 3-D Box as an image (and its
    checker warns for images under 36x36 or not in 0..255); SB3's ``MlpPolicy`` flattens it,
    custom CNN extractors read ``observation_space.shape``.
    ``obs_mode="tokens"``: ``Box(0, len(vocab)-1, [T], int32)``, the task prompt in the
    transformer's :class:`~maze_env.tokens.Vocabulary` followed by the path walked so far,
    ``<PATH_END>``, then padding (see :class:`maze_env.wrappers.TokenEncoder`).
    ``obs_mode="rgb"``: ``Box(0, 255, [H, W, 3], uint8)``: the maze, target and agent as
    :func:`maze_env.render.draw_frame` draws them, at least 36x36 pixels.

    ## Rewards
    ``goal_reward`` (1.0) on reaching the target; otherwise ``step_penalty`` per step, plus
    ``wall_penalty`` for a move into a wall. Defaults (``None``): ``step_penalty = -1 / max_steps``
    and ``wall_penalty = step_penalty``, so returns lie in ``[-2, 1]`` at every maze size: a
    time-out costs about -1, a solve earns ``1 - steps / max_steps`` (MiniGrid's time-scaled
    reward, paid per step so PPO's value targets stay dense).

    ## Starting State
    Every ``reset()`` draws a new task from the env's ``np_random``: the shape (if ``shape`` lists
    several), the maze (``generator`` with ``generator_params``, or one of ``mazes``), the target
    (``target`` placement) and then the origin (``origin`` placement, never the target, and
    reachable from it when the maze allows). ``reset(options={"task": task})`` plays a given task.

    ## Episode End
    ``terminated`` when the agent reaches the target; ``truncated`` after ``max_steps`` steps
    (default ``4 * rows * cols`` of the episode's maze; the longest shortest path has
    ``rows * cols - 1`` moves). ``info`` on every step: ``distance`` (shortest-path moves from
    the agent to the target, -1 if unreachable), ``optimal_length`` (from the origin),
    ``manhattan`` (to the target) and ``hit_wall``; on reset also ``task``.

    ## Arguments
    Args:
        shape: ``(rows, cols)``; an int for a square; a ``range`` of square sizes or a list of
            shapes to draw from at each reset (observations are then padded). Default ``(6, 6)``,
            or the shapes of ``mazes``.
        generator: a name in :data:`maze_env.generators.GENERATORS`.
        generator_params: keyword parameters of the generator.
        obs_mode: ``"grid"``, ``"tokens"`` or ``"rgb"``.
        target: placement spec of the target (:mod:`maze_env.placement`: ``random``, ``corner``,
            ``corner:br``, ``region:br:2``, ``outside:br:2``, ``cell:R,C``, ``dead_end``) or a
            ``(row, col)``; ``None``: ``random``, or the pool's targets for a ``MazeDataset``.
        origin: the same for the origin.
        max_steps: steps before truncation; ``None``: ``4 * rows * cols`` per episode.
        goal_reward: reward for reaching the target.
        step_penalty: reward of every other step (negative); ``None``: ``-1 / max_steps``.
        wall_penalty: added when a move hits a wall; ``None``: equal to the step penalty.
        visited: add the ``visited`` channel to grid observations.
        pad_to: lay grid observations over this ``(rows, cols)`` with a ``mask`` channel, so
            tasks of any shape that fits can be played (default: padded only if shapes vary).
        mazes: draw mazes from this pool instead of a generator: a ``MazeBatch``, a
            ``MazeDataset`` (its origins and targets too, unless placements are given), or a
            list of ``Maze`` or ``Task``.
        token_scheme: scheme of the tokens observation (:data:`maze_env.tokens.SCHEMES`).
        vocab: the :class:`~maze_env.tokens.Vocabulary` for tokens (default: one for the largest
            shape); it must cover every shape.
        rgb_cell_px: cell size of the rgb observation (default: the smallest >= 4 giving 36 px).
        render_mode: ``None``, ``"human"`` (pygame window), ``"rgb_array"`` or ``"ansi"``.
        render_cell_px: cell size of rendered frames.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["human", "rgb_array", "ansi"], "render_fps": 8}

    def __init__(
        self,
        shape: Any = None,
        generator: str = "dfs",
        generator_params: dict[str, Any] | None = None,
        *,
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
        render_mode: str | None = None,
        render_cell_px: int = 32,
    ) -> None:
        self.config = EnvConfig.build(
            shape=shape, generator=generator, generator_params=generator_params,
            obs_mode=obs_mode, target=target, origin=origin, max_steps=max_steps,
            goal_reward=goal_reward, step_penalty=step_penalty, wall_penalty=wall_penalty,
            visited=visited, pad_to=pad_to, mazes=mazes, token_scheme=token_scheme, vocab=vocab,
            rgb_cell_px=rgb_cell_px,
        )  # fmt: skip
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        if int(render_cell_px) != render_cell_px or render_cell_px < 2:
            raise ValueError(f"render_cell_px must be an int >= 2, got {render_cell_px!r}")
        self.render_mode = render_mode
        self.render_cell_px = int(render_cell_px)
        self.spec = _spec_for(
            shape=shape,
            generator=generator,
            generator_params=generator_params,
            obs_mode=obs_mode,
            target=target,
            origin=origin,
            max_steps=max_steps,
            goal_reward=goal_reward,
            step_penalty=step_penalty,
            wall_penalty=wall_penalty,
            visited=visited,
            pad_to=pad_to,
            mazes=mazes,
            token_scheme=token_scheme,
            vocab=vocab,
            rgb_cell_px=rgb_cell_px,
            render_cell_px=render_cell_px,
        )  # fmt: skip  (gymnasium.make replaces it with its own, equal one)
        self.action_space = gym.spaces.Discrete(4)
        self._encoder = self.config.make_encoder(1)
        self.observation_space = (
            self.config.grid_space() if self._encoder is None else self._encoder.space
        )
        self.channels: tuple[str, ...] = self.config.channels
        self._keys: np.ndarray | None = None  # uint64[2]: maze and task stream keys
        self._keyed_rng: np.random.Generator | None = None
        self._episode = -1
        self._version = 0  # bumped by reset and set_target: encoders re-encode on change
        self._ep: Episodes | None = None
        self._window: Any = None

    # -- state, read-only ------------------------------------------------------------------------
    @property
    def task(self) -> Task:
        """The current task (its target follows :meth:`set_target`)."""
        self._check_reset()
        return self._task

    @property
    def agent(self) -> Coord:
        """The agent's cell ``(row, col)``."""
        self._check_reset()
        return divmod(self._pos, self._cols)

    @property
    def path(self) -> list[Coord]:
        """Cells walked this episode, origin first (a wall bump adds nothing)."""
        self._check_reset()
        return [divmod(f, self._cols) for f in self._path]

    @property
    def episode(self) -> int:
        """Index of the current episode in this env's seeded sequence (0 after a seeded reset)."""
        return self._episode

    def _check_reset(self) -> None:
        if self._ep is None:
            raise RuntimeError("the env has no episode yet; call reset() first")

    # -- Gymnasium API ---------------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self._keyed_rng is not self.np_random:
            self._keys = derive_keys(self.np_random)
            self._keyed_rng = self.np_random
            self._episode = 0
        else:
            self._episode += 1
        options = dict(options or {})
        task = options.pop("task", None)
        if options:
            raise ValueError(f"unknown reset option(s) {sorted(options)}; allowed: 'task'")
        episodes = np.array([self._episode], dtype=np.int64)
        if task is not None:
            ep = episodes_from_tasks(self.config, [task])
        else:
            assert self._keys is not None
            ep = draw_episodes(self.config, self._keys[None, 0], self._keys[None, 1], episodes)
        self._start(ep)
        info = self._get_info(False)
        info["task"] = self._task
        if self.render_mode == "human":
            self.render()
        return self._get_obs(), info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        a = as_action(action)
        if self._ep is None:
            raise RuntimeError("step() before reset(); call reset() first")
        p = self._pos
        q = self._nxt[p][a]
        hit = q == p
        self._steps += 1
        if not hit:
            self._move(p, q)
        terminated = q == self._target
        if terminated:
            reward = self._goal
        elif hit:
            reward = self._step_pen + self._wall_pen
        else:
            reward = self._step_pen
        truncated = not terminated and self._steps >= self._max_steps
        if self.render_mode == "human":
            self.render()
        return self._get_obs(), reward, terminated, truncated, self._get_info(hit)

    def set_target(self, cell: Coord) -> None:
        """Move the target to ``cell`` mid-episode (retargeting experiments).

        Distances, ``optimal_length`` (now from the origin to the new target) and the observation
        follow; the step count does not restart. The episode terminates when the agent next
        stands on the new target after a step.
        """
        self._check_reset()
        self._start(self._ep.with_target(cell), keep_walk=True)  # type: ignore[union-attr]

    def render(self) -> Any:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode= to the env")
            return None
        self._check_reset()
        from maze_env import render as R

        if self.render_mode == "ansi":
            return R.render_ansi(self._task, agent=self.agent, path=self.path)
        frame = R.draw_frame(
            self._task, agent=self.agent, paths=[self.path], cell_px=self.render_cell_px
        )
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = R.HumanWindow("maze_env", fps=self.metadata["render_fps"])
        self._window.show(frame, caption=f"step {self._steps}  distance {self._dist[self._pos]}")
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_window"] = None  # a pygame window does not pickle; reopened on the next render
        return state

    # -- internals -------------------------------------------------------------------------------
    def _start(self, ep: Episodes, keep_walk: bool = False) -> None:
        cfg = self.config
        nxt, dist = ep.tables()
        self._ep = ep
        self._task = ep.task(0)
        self._cols = cfg.grid_shape[1]
        self._nxt = nxt[0].tolist()
        self._dist = dist[0].tolist()
        self._target = int(ep.targets[0, 0]) * self._cols + int(ep.targets[0, 1])
        origin = int(ep.origins[0, 0]) * self._cols + int(ep.origins[0, 1])
        self._optimal = self._dist[origin]
        if not keep_walk:
            self._pos = origin
            self._path = [origin]
            self._steps = 0
            self._max_steps = int(cfg.episode_max_steps(ep.shapes)[0])
            sp, wp = cfg.penalties(np.array([self._max_steps]))
            self._step_pen, self._wall_pen = float(sp[0]), float(wp[0])
            self._goal = float(cfg.goal_reward)
        self._grid = cfg.grid_obs(ep, np.array([self._pos]), visited=[self._path])[0]
        self._version += 1

    def _move(self, p: int, q: int) -> None:
        self._pos = q
        self._path.append(q)
        grid, agent = self._grid, 1
        pr, pc = divmod(p, self._cols)
        qr, qc = divmod(q, self._cols)
        grid[agent, 2 * pr + 1, 2 * pc + 1] = 0
        grid[agent, 2 * qr + 1, 2 * qc + 1] = 1
        if self.config.visited:
            grid[3, 2 * qr + 1, 2 * qc + 1] = 1

    def _get_obs(self) -> Any:
        if self._encoder is None:
            return self._grid.copy()
        return self._encoder.observe(self)

    def _get_info(self, hit: bool) -> dict[str, Any]:
        q, t = self._pos, self._target
        return {
            "distance": self._dist[q],
            "optimal_length": self._optimal,
            "manhattan": abs(q // self._cols - t // self._cols)
            + abs(q % self._cols - t % self._cols),
            "hit_wall": hit,
        }

    def _token_rng(self) -> np.random.Generator | None:
        """The edge-order rng of this episode's tokens (the same one the vector env uses)."""
        if self._keys is None:
            return None
        return token_rng(int(self._keys[1]), self._episode)

    def __repr__(self) -> str:
        c = self.config
        shapes = c.shapes[0] if len(c.shapes) == 1 else list(c.shapes)
        return f"MazeEnv(shape={shapes}, generator={c.generator!r}, obs_mode={c.obs_mode!r})"

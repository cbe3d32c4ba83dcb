"""The Gymnasium maze environment: :class:`MazeEnv` (``maze_env/Maze-v0``).

The episode machinery (what a reset draws, the move and distance tables, the step rules) is
batched and lives in :mod:`maze_env.episodes`, shared with
:class:`~maze_env.vector_env.MazeVectorEnv`; observations are :mod:`maze_env.observations`'
encoders, driven the same way by both envs. A ``MazeEnv`` is the one-maze case, stepped with plain
Python ints for speed. Both therefore play the same tasks from the same seeds, which the tests
check step by step.
"""

from __future__ import annotations

import dataclasses
import inspect
import operator
from typing import Any

import gymnasium as gym
import numpy as np

from maze_env.env_config import EnvConfig, argument_docs, env_signature
from maze_env.episodes import (
    Episodes,
    derive_keys,
    draw_episodes,
    episode_limits,
    episodes_from_tasks,
    step_outcome,
    token_rng,
)
from maze_env.maze import Task
from maze_env.observations import grid_channels, make_encoder
from maze_env.types import Coord

__all__ = ["MazeEnv", "as_action"]


def _spec_for(**kwargs: Any) -> Any:
    """The registered spec with these arguments, so that a directly built env has one too
    (``env.spec.make()`` rebuilds it; the env checker uses that to try every render mode)."""
    from maze_env.registration import ENV_ID

    return dataclasses.replace(gym.spec(ENV_ID), kwargs=kwargs)


_ACTION_HELP = "one of 0 (UP), 1 (RIGHT), 2 (DOWN), 3 (LEFT)"
_ZERO = np.zeros(1, dtype=np.int64)


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
    ``<PATH_END>``, then padding (see :class:`maze_env.observations.TokenEncoder`).
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
    ``manhattan`` (to the target) and ``hit_wall``; on reset also ``task``. An episode that has
    ended pays nothing more: as in Gymnasium, a ``step()`` after ``terminated`` or ``truncated``
    and before the next ``reset()`` raises :class:`gymnasium.error.ResetNeeded`.

    ## Arguments
    The fields of :class:`~maze_env.env_config.EnvConfig` (the first three may be positional),
    then ``render_mode`` and ``render_cell_px``. ``render_mode`` defaults to ``None`` (also
    through ``gymnasium.make``), so nothing is drawn unless asked for.

    {arguments}

    ``render_mode="human"`` opens a pygame window and raises
    :class:`~maze_env.render.NoDisplayError` where there is no display. Gymnasium's
    ``check_env`` tries every declared render mode, ``"human"`` included (it rebuilds the env
    from ``env.spec``), whatever the env's own mode: on a headless machine call it with
    ``skip_render_check=True``, or set ``SDL_VIDEODRIVER=dummy`` to draw into memory instead.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["human", "rgb_array", "ansi"], "render_fps": 8}

    def __init__(
        self,
        *args: Any,
        render_mode: str | None = None,
        render_cell_px: int = 32,
        **kwargs: Any,
    ) -> None:
        """Build the env from :class:`~maze_env.env_config.EnvConfig`'s arguments (see Arguments).

        They are declared once, as EnvConfig's fields; this method's ``__signature__`` (set below
        the class) shows them to ``help()`` and ``inspect.signature``.
        """
        self.config = EnvConfig.bind("MazeEnv", args, kwargs)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be None or one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        if int(render_cell_px) != render_cell_px or render_cell_px < 2:
            raise ValueError(f"render_cell_px must be an int >= 2, got {render_cell_px!r}")
        self.render_mode = render_mode
        self.render_cell_px = int(render_cell_px)
        # gymnasium.make replaces this spec with its own, equal one
        self.spec = _spec_for(**self.config.arguments(), render_cell_px=render_cell_px)
        self.action_space = gym.spaces.Discrete(4)
        self._encoder = make_encoder(self.config, 1)
        self.observation_space = self._encoder.space
        self.channels: tuple[str, ...] = grid_channels(self.config)
        self._keys: np.ndarray | None = None  # uint64[2]: maze and task stream keys
        self._keyed_rng: np.random.Generator | None = None
        self._episode = -1
        self._ep: Episodes | None = None
        self._done = False  # the episode has terminated or truncated; step() needs a reset()
        self._window: Any = None

    # -- state, read-only ------------------------------------------------------------------------
    @property
    def task(self) -> Task:
        """The current task (its target follows :meth:`set_target`; a new object after each)."""
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
        return list(self._path)

    @property
    def episode(self) -> int:
        """Index of the current episode in this env's seeded sequence (0 after a seeded reset)."""
        return self._episode

    @property
    def token_rng(self) -> np.random.Generator | None:
        """A fresh copy of this episode's edge-order rng for tokens (the one ``obs_mode="tokens"``
        and :class:`~maze_env.wrappers.TokensObservation` use; the vector env's too)."""
        if self._keys is None:
            return None
        return token_rng(int(self._keys[1]), self._episode)

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
        if self._done:
            raise gym.error.ResetNeeded(
                "step() on an episode that has ended (terminated or truncated); "
                "call reset() to start the next one"
            )
        p = self._pos
        q = self._nxt[p][a]
        self._steps += 1
        reward, terminated, truncated, hit = step_outcome(
            p, q, self._target, self._steps, self._max_steps, self._goal, self._step_pen,
            self._wall_pen,
        )  # fmt: skip
        self._done = terminated or truncated
        if not hit:
            self._pos = q
            self._path.append(divmod(q, self._cols))
            self._encoder.move_one(0, p, q, self._target)
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
        """Start episode ``ep`` (one task), or with ``keep_walk`` retarget the current one."""
        nxt, dist = ep.tables()
        self._ep = ep
        self._task = ep.task(0)
        cols = self._cols = self.config.grid_shape[1]
        self._nxt = nxt[0].tolist()
        self._dist = dist[0].tolist()
        self._target = int(ep.targets[0, 0]) * cols + int(ep.targets[0, 1])
        origin = int(ep.origins[0, 0]) * cols + int(ep.origins[0, 1])
        self._optimal = self._dist[origin]
        if keep_walk:
            self._encoder.retarget(0, ep, self._pos)
            return
        self._pos = origin
        self._path = [divmod(origin, cols)]
        self._steps = 0
        self._done = False
        max_steps, step_pen, wall_pen = episode_limits(self.config, ep.shapes)
        self._max_steps = int(max_steps[0])
        self._step_pen, self._wall_pen = float(step_pen[0]), float(wall_pen[0])
        self._goal = self.config.goal_reward
        rngs = [self.token_rng] if self._encoder.needs_rng else None
        self._encoder.reset_rows(_ZERO, ep, np.array([origin]), rngs, [[origin]])

    def _get_obs(self) -> Any:
        return self._encoder.buf[0].copy()

    def _get_info(self, hit: bool) -> dict[str, Any]:
        q, t = self._pos, self._target
        return {
            "distance": self._dist[q],
            "optimal_length": self._optimal,
            "manhattan": abs(q // self._cols - t // self._cols)
            + abs(q % self._cols - t % self._cols),
            "hit_wall": hit,
        }

    def __repr__(self) -> str:
        c = self.config
        shapes = c.shapes[0] if len(c.shapes) == 1 else list(c.shapes)
        return f"MazeEnv(shape={shapes}, generator={c.generator!r}, obs_mode={c.obs_mode!r})"


MazeEnv.__init__.__signature__ = env_signature(  # type: ignore[attr-defined]
    before=[inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)],
    after=[
        inspect.Parameter(
            "render_mode", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"
        ),
        inspect.Parameter(
            "render_cell_px", inspect.Parameter.KEYWORD_ONLY, default=32, annotation="int"
        ),
    ],
)
if MazeEnv.__doc__ is not None:  # None under python -OO
    MazeEnv.__doc__ = MazeEnv.__doc__.replace(
        "    {arguments}",
        argument_docs(
            indent=8,
            extra={
                "render_mode": '``None``, ``"human"`` (pygame window), ``"rgb_array"`` or '
                '``"ansi"``.',
                "render_cell_px": "cell size of rendered frames (32).",
            },
        ),
    )

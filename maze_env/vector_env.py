"""The native Gymnasium vector env :class:`MazeVectorEnv`: N mazes stepped as numpy arrays.

Every episode's tables are made once at reset (:mod:`maze_env.episodes`): ``nxt[i, cell, action]``
and ``dist[i, cell]``. A step is then one numba loop over the envs doing table look-ups, with no
Python object per env on the hot path; autoresets draw their tasks in one batch.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space
from numba import njit

from maze_env.env_config import EnvConfig, env_signature
from maze_env.episodes import (
    Episodes,
    MazeCache,
    derive_keys,
    draw_episodes,
    empty_tables,
    episode_limits,
    episodes_from_tasks,
    step_outcome_jit,
    token_rng,
)
from maze_env.maze import Task
from maze_env.observations import GridEncoder, grid_channels, grid_move_jit, make_encoder
from maze_env.types import Coord

__all__ = ["MazeVectorEnv"]


@njit(cache=True)
def _step_kernel(  # pragma: no cover  (numba; the rules are episodes.step_outcome, as MazeEnv's)
    actions,
    active,
    pos,
    prev,
    targets,
    nxt,
    dist,
    steps,
    max_steps,
    step_pen,
    wall_pen,
    goal,
    grid,
    cols,
    visited_ch,
    rew,
    term,
    trunc,
    hit,
    distance,
    manhattan,
):  # type: ignore[no-untyped-def]
    """One step of every ``active`` env (:func:`~maze_env.episodes.step_outcome`'s rules);
    ``grid`` (the grid encoder's ``int8[N, C, H, W]`` buffer, or empty) follows the agent by
    :func:`~maze_env.observations.grid_move`, fused here to save a second pass over the envs."""
    for i in range(pos.shape[0]):
        p = pos[i]
        prev[i] = p
        if not active[i]:
            continue
        q = np.int64(nxt[i, p, actions[i]])
        steps[i] += 1
        t = targets[i]
        rew[i], term[i], trunc[i], hit[i] = step_outcome_jit(
            p, q, t, steps[i], max_steps[i], goal, step_pen[i], wall_pen[i]
        )
        if q != p:
            pos[i] = q
            if grid.shape[0] > 0:
                grid_move_jit(grid, i, p, q, cols, visited_ch)
        distance[i] = dist[i, q]
        manhattan[i] = abs(q // cols - t // cols) + abs(q % cols - t % cols)


@njit(cache=True)
def _commit_kernel(  # type: ignore[no-untyped-def]  # pragma: no cover
    rows,
    origins,
    targets,
    nxt,
    dist,
    cols,
    pos,
    prev,
    target_flat,
    all_nxt,
    all_dist,
    optimal,
    distance,
    manhattan,
    steps,
    needs_reset,
):
    """Start the new episodes ``j`` in env rows ``rows[j]`` (one pass instead of many fancy writes)."""
    for j in range(rows.shape[0]):
        i = rows[j]
        o = origins[j, 0] * cols + origins[j, 1]
        pos[i] = prev[i] = o
        target_flat[i] = targets[j, 0] * cols + targets[j, 1]
        all_nxt[i] = nxt[j]
        all_dist[i] = dist[j]
        optimal[i] = distance[i] = dist[j, o]
        manhattan[i] = abs(origins[j, 0] - targets[j, 0]) + abs(origins[j, 1] - targets[j, 1])
        steps[i] = 0
        needs_reset[i] = False


@njit(cache=True)
def _first_bad_action(actions):  # type: ignore[no-untyped-def]  # pragma: no cover
    for i in range(actions.shape[0]):
        if actions[i] < 0 or actions[i] > 3:
            return i
    return -1


# ------------------------------------------------------------------------------------------------
# the vector env
# ------------------------------------------------------------------------------------------------
class MazeVectorEnv(VectorEnv):
    """``num_envs`` mazes stepped at once as numpy arrays: a native Gymnasium vector env.

    Each sub-env is a :class:`~maze_env.env.MazeEnv` with the same arguments (observation modes,
    rewards, placements, pools, variable shapes; see its docstring): sub-env ``i`` of
    ``reset(seed=s)`` plays the very episodes of ``MazeEnv(...).reset(seed=s + i)`` (Gymnasium's
    ``SyncVectorEnv`` seeding convention), step for step, and each later episode of sub-env ``i``
    is that env's next episode. ``gymnasium.make_vec("maze_env/Maze-v0", num_envs=N,
    vectorization_mode="vector_entry_point", **kwargs)`` builds one.

    Autoreset follows Gymnasium 1.x (https://farama.org/Vector-Autoreset-Mode), chosen by
    ``autoreset_mode`` and recorded in ``metadata["autoreset_mode"]``:

    * ``NEXT_STEP`` (default, as ``SyncVectorEnv``): the step after an episode ends ignores that
      env's action and returns its next episode's first observation, reward 0, both flags False.
    * ``SAME_STEP``: the ending step returns the next episode's first observation; the last one is
      in ``infos["final_obs"]`` (object array, ``None`` for the others) and its info in
      ``infos["final_info"]``. The SB3 adapter (:mod:`maze_env.sb3`) uses this mode.
    * ``DISABLED``: reset finished envs with ``reset(options={"reset_mask": mask})``; a step
      while one is still finished raises :class:`gymnasium.error.ResetNeeded`, as
      :meth:`MazeEnv.step <maze_env.env.MazeEnv.step>` does.

    In every mode a finished episode is never stepped again, so its goal reward is paid once.

    ``infos`` holds ``distance``, ``optimal_length``, ``manhattan`` and ``hit_wall`` arrays for
    every env (with Gymnasium's ``_key`` masks). Tasks are not put in infos (they would be Python
    objects per env); read them with :meth:`task`. Observations are copies (safe to keep).

    Args:
        num_envs: number of sub-envs.
        autoreset_mode: an :class:`~gymnasium.vector.AutoresetMode` or its value string.
        render_mode: ``None`` or ``"rgb_array"`` (:meth:`render` gives one frame per env).
        render_cell_px: cell size of rendered frames.
        **kwargs: :class:`~maze_env.env.MazeEnv`'s arguments (``shape``, ``generator``, ...).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"]}

    def __init__(
        self,
        num_envs: int = 1,
        *,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        render_cell_px: int = 32,
        **kwargs: Any,
    ) -> None:
        if isinstance(num_envs, bool) or int(num_envs) != num_envs or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            allowed = ", ".join(m.name for m in AutoresetMode)
            raise ValueError(
                f"unknown autoreset_mode {autoreset_mode!r}; allowed: {allowed}"
            ) from None
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        # the env's arguments are EnvConfig's fields (see __signature__ below the class)
        self.config = cfg = EnvConfig.bind("MazeVectorEnv", (), kwargs)
        self.num_envs = n = int(num_envs)
        self.autoreset_mode = mode
        self.metadata = {**self.metadata, "autoreset_mode": mode}
        self.render_mode, self.render_cell_px = render_mode, int(render_cell_px)
        self.single_action_space = gym.spaces.Discrete(4)
        self.action_space = batch_space(self.single_action_space, n)
        self._encoder = make_encoder(cfg, n)
        self.single_observation_space = self._encoder.space
        self.observation_space = batch_space(self.single_observation_space, n)
        self.channels = grid_channels(cfg)
        rows, cols = cfg.grid_shape
        m = rows * cols
        self._cols = cols
        self._keys = np.zeros((n, 2), dtype=np.uint64)
        self._episode = np.full(n, -1, dtype=np.int64)
        self._conn = np.zeros((n, 2, rows, cols), dtype=bool)
        self._shapes = np.zeros((n, 2), dtype=np.int64)
        self._origins = np.zeros((n, 2), dtype=np.int64)
        self._targets = np.zeros((n, 2), dtype=np.int64)
        self._target_flat = np.zeros(n, dtype=np.int64)
        self._nxt, self._dist = (np.zeros_like(t) for t in empty_tables(n, m))
        self._pos, self._prev = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        self._steps, self._max_steps = np.zeros(n, dtype=np.int64), np.ones(n, dtype=np.int64)
        self._optimal, self._distance = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        self._manhattan = np.zeros(n, dtype=np.int64)
        self._step_pen, self._wall_pen = np.zeros(n), np.zeros(n)
        self._fused = isinstance(self._encoder, GridEncoder)  # the step kernel moves the agent
        self._grid = self._encoder.buf if self._fused else np.zeros((0, 1, 1, 1), dtype=np.int8)
        self._visited_ch = self._encoder.visited_ch if self._fused else -1  # type: ignore[attr-defined]
        self._needs_reset = np.zeros(n, dtype=bool)
        self._rew, self._hit = np.zeros(n), np.zeros(n, dtype=bool)
        self._term, self._trunc = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        self._cache = MazeCache(cfg, n) if cfg.pool is None else None
        self.final_obs_rows: tuple[np.ndarray, np.ndarray] = (
            np.zeros(0, np.int64),
            self._obs()[:0],
        )
        """SAME_STEP: ``(envs, last observations)`` of the envs the last step finished."""
        self._started = False

    # -- Gymnasium API ---------------------------------------------------------------------------
    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every env (or those of ``options["reset_mask"]``).

        Args:
            seed: ``int`` (env ``i`` gets ``seed + i``), a list of per-env seeds (``None``: that
                env continues its sequence), or ``None``.
            options: ``reset_mask`` (``bool[num_envs]``: reset only these), ``tasks`` (one
                :class:`Task` per env reset, played instead of drawing).
        """
        n = self.num_envs
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        tasks = options.pop("tasks", None)
        if options:
            raise ValueError(
                f"unknown reset option(s) {sorted(options)}; allowed: reset_mask, tasks"
            )
        if mask is None:
            mask = np.ones(n, dtype=bool)
        mask = np.asarray(mask)
        if mask.shape != (n,) or mask.dtype != np.bool_ or not mask.any():
            raise ValueError(f"reset_mask must be bool[{n}] with at least one True, got {mask!r}")
        seeds = self._seed_list(seed)
        if isinstance(seed, (int, np.integer)):
            super().reset(seed=int(seed))
        idx = np.flatnonzero(mask)
        fresh = np.array([seeds[i] is not None or self._episode[i] < 0 for i in idx], dtype=bool)
        for i in idx[fresh]:  # new stream keys: from the env's seed, else the vector env's rng
            rng = self.np_random if seeds[i] is None else seeding.np_random(seeds[i])[0]
            self._keys[i] = derive_keys(rng)
        self._episode[idx] = np.where(fresh, 0, self._episode[idx] + 1)
        if self._cache is not None:
            self._cache.invalidate(idx[fresh])
        if tasks is not None and len(tasks) != len(idx):
            raise ValueError(
                f"options['tasks'] needs one Task per env reset ({len(idx)}), got {len(tasks)}"
            )
        self._reset_rows(idx, tasks)
        self._clear(idx)
        self._started = True
        return self._obs(), self._infos()

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("step() before reset(); call reset() first")
        a = self._check_actions(actions)
        mode = self.autoreset_mode
        resetting = (
            self._needs_reset if mode == AutoresetMode.NEXT_STEP else np.zeros(self.num_envs, bool)
        )
        if mode == AutoresetMode.DISABLED and self._needs_reset.any():
            i = int(np.argmax(self._needs_reset))
            raise gym.error.ResetNeeded(
                f"env {i} has finished its episode and autoreset is DISABLED; "
                "reset it with reset(options={'reset_mask': mask})"
            )
        _step_kernel(
            a, ~resetting, self._pos, self._prev, self._target_flat, self._nxt, self._dist,
            self._steps, self._max_steps, self._step_pen, self._wall_pen, self.config.goal_reward,
            self._grid, self._cols, self._visited_ch,
            self._rew, self._term, self._trunc, self._hit, self._distance, self._manhattan,
        )  # fmt: skip
        if not self._fused:
            moved = np.flatnonzero(self._pos != self._prev)
            self._encoder.move(moved, self._prev[moved], self._pos[moved], self._target_flat[moved])
        extra: dict[str, Any] = {}
        if mode == AutoresetMode.NEXT_STEP:
            idx = np.flatnonzero(resetting)
            if idx.size:
                self._episode[idx] += 1
                self._reset_rows(idx)
                self._clear(idx)
            self._needs_reset = self._term | self._trunc
        elif mode == AutoresetMode.SAME_STEP:
            idx = np.flatnonzero(self._term | self._trunc)
            if idx.size:
                extra = self._final(idx)
                self._episode[idx] += 1
                self._reset_rows(idx)
                self._hit[idx] = False  # their infos are the new episodes' (the last: final_info)
        else:
            self._needs_reset = self._term | self._trunc
        infos = self._infos()
        infos.update(extra)
        return self._obs(), self._rew.copy(), self._term.copy(), self._trunc.copy(), infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One ``uint8[H, W, 3]`` frame per env (agent, origin, target) in ``"rgb_array"`` mode."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        from maze_env.render import draw_frame

        return tuple(
            draw_frame(self.task(i), agent=self.agent(i), cell_px=self.render_cell_px)
            for i in range(self.num_envs)
        )

    # -- state access ----------------------------------------------------------------------------
    def task(self, i: int) -> Task:
        """The current task of env ``i``."""
        ep = Episodes(
            self._conn[i : i + 1],
            self._shapes[i : i + 1],
            self._origins[i : i + 1],
            self._targets[i : i + 1],
        )
        return ep.task(0)

    def agent(self, i: int) -> Coord:
        """Env ``i``'s agent cell ``(row, col)``."""
        r, c = divmod(int(self._pos[i]), self._cols)
        return (r, c)

    def set_target(self, i: int, cell: Coord) -> None:
        """Move env ``i``'s target to ``cell`` mid-episode (see :meth:`MazeEnv.set_target`)."""
        ep = Episodes(
            self._conn[i : i + 1],
            self._shapes[i : i + 1],
            self._origins[i : i + 1],
            self._targets[i : i + 1],
        )
        ep = ep.with_target(cell)
        _, dist = ep.tables()
        self._targets[i] = ep.targets[0]
        self._target_flat[i] = ep.targets[0, 0] * self._cols + ep.targets[0, 1]
        self._dist[i] = dist[0]
        o = self._origins[i]
        self._optimal[i] = dist[0, o[0] * self._cols + o[1]]
        self._distance[i] = dist[0, self._pos[i]]
        self._manhattan[i] = np.abs(np.array(self.agent(i)) - ep.targets[0]).sum()
        self._encoder.retarget(i, ep, int(self._pos[i]))

    # -- internals -------------------------------------------------------------------------------
    def _seed_list(self, seed: Any) -> list[int | None]:
        n = self.num_envs
        if seed is None:
            return [None] * n
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            return [int(seed) + i for i in range(n)]
        seeds = list(seed)
        if len(seeds) != n:
            raise ValueError(
                f"seed must be an int, None or a list of {n} seeds, got {len(seeds)} seeds"
            )
        return seeds

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        if a.shape != (self.num_envs,) or a.dtype.kind not in "iu":
            raise ValueError(
                f"actions must be {self.num_envs} ints in 0..3 (UP, RIGHT, DOWN, LEFT), "
                f"got {a.dtype}{list(a.shape)}"
            )
        a = a.astype(np.int64, copy=False)
        i = _first_bad_action(a)
        if i >= 0:
            raise ValueError(
                f"actions[{i}] = {int(a[i])}; actions must be 0 (UP), 1 (RIGHT), 2 (DOWN) or 3 (LEFT)"
            )
        return a

    def _reset_rows(self, idx: np.ndarray, tasks: Sequence[Task] | None = None) -> None:
        cfg, cols = self.config, self._cols
        if tasks is not None:
            ep = episodes_from_tasks(cfg, tasks)
        else:
            keys, episodes = self._keys[idx], self._episode[idx]
            ep = draw_episodes(cfg, keys[:, 0], keys[:, 1], episodes, self._cache, idx)
        nxt, dist = ep.tables()
        self._conn[idx], self._shapes[idx] = ep.conn, ep.shapes
        self._origins[idx], self._targets[idx] = ep.origins, ep.targets
        _commit_kernel(
            idx, ep.origins, ep.targets, nxt, dist, cols, self._pos, self._prev, self._target_flat,
            self._nxt, self._dist, self._optimal, self._distance, self._manhattan, self._steps,
            self._needs_reset,
        )  # fmt: skip
        self._max_steps[idx], self._step_pen[idx], self._wall_pen[idx] = episode_limits(
            cfg, ep.shapes
        )
        rngs = (
            [token_rng(int(self._keys[i, 1]), int(self._episode[i])) for i in idx]
            if self._encoder.needs_rng
            else None
        )
        self._encoder.reset_rows(idx, ep, self._pos[idx], rngs)

    def _clear(self, idx: np.ndarray) -> None:
        """Envs ``idx`` start an episode: no reward, flags False, no wall hit."""
        self._rew[idx], self._term[idx], self._trunc[idx], self._hit[idx] = 0.0, False, False, False

    def _obs(self, idx: np.ndarray | None = None) -> np.ndarray:
        buf = self._encoder.buf
        return buf.copy() if idx is None else buf[idx].copy()

    def _infos(self, mask: np.ndarray | None = None) -> dict[str, Any]:
        """Every env's info arrays, with Gymnasium's ``_key`` masks (all True unless ``mask``)."""
        n = self.num_envs
        infos: dict[str, Any] = {
            "distance": self._distance.copy(),
            "optimal_length": self._optimal.copy(),
            "manhattan": self._manhattan.copy(),
            "hit_wall": self._hit.copy(),
        }
        for key in list(infos):
            infos[f"_{key}"] = np.ones(n, dtype=bool) if mask is None else mask.copy()
        return infos

    def _final(self, idx: np.ndarray) -> dict[str, Any]:
        """SAME_STEP: the last observation and info of the envs ``idx`` that just finished."""
        n = self.num_envs
        last = self._obs(idx)
        final_obs = np.full(n, None, dtype=object)
        for j, i in enumerate(idx):
            final_obs[i] = last[j]
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        self.final_obs_rows = (idx, last)  # for the SB3 adapter: no per-env objects needed
        return {
            "final_obs": final_obs,
            "_final_obs": mask,
            "final_info": self._infos(mask),
            "_final_info": mask.copy(),
        }


MazeVectorEnv.__init__.__signature__ = env_signature(  # type: ignore[attr-defined]
    before=[
        inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter("num_envs", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=1),
        inspect.Parameter(
            "autoreset_mode", inspect.Parameter.KEYWORD_ONLY, default=AutoresetMode.NEXT_STEP
        ),
        inspect.Parameter(
            "render_mode", inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None"
        ),
        inspect.Parameter(
            "render_cell_px", inspect.Parameter.KEYWORD_ONLY, default=32, annotation="int"
        ),
    ]
)

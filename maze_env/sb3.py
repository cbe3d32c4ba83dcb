"""stable-baselines3 adapter: :class:`MazeVecEnvAdapter` presents a MazeVectorEnv as an SB3 VecEnv.

SB3 does not take Gymnasium vector envs; it steps its own ``VecEnv`` API with its own autoreset
convention (the observation returned with ``done[i]`` is the next episode's first, the last one is
``infos[i]["terminal_observation"]``, and ``infos[i]["TimeLimit.truncated"]`` marks time-outs so
PPO bootstraps them). That is Gymnasium's ``SAME_STEP`` autoreset, which the adapter asks of the
vector env; so PPO samples from the numpy fast path.

Which policy: the grid observation is ``MultiBinary([C, 2R+1, 2C+1])``, which SB3's ``CnnPolicy``
refuses (its NatureCNN wants a uint8 image Box of at least 36x36). Use the maze policies of
:mod:`agents.rl` (``MazeCnnPolicy`` for one maze size; ``maze_policy_kwargs("vin")`` for a
size-independent planner; ``"MlpPolicy"`` works but does not learn to plan)::

    from stable_baselines3 import PPO
    from agents.rl.policies import MazeCnnPolicy, maze_policy_kwargs
    from maze_env.sb3 import MazeVecEnvAdapter

    env = MazeVecEnvAdapter(num_envs=16, seed=0, shape=(6, 6))
    PPO(MazeCnnPolicy, env, n_steps=128).learn(100_000)
    PPO("MlpPolicy", env, policy_kwargs=maze_policy_kwargs("vin")).learn(100_000)

Infos: every step's ``infos[i]`` holds ``distance``, ``optimal_length``, ``manhattan`` and
``hit_wall`` (of the step that ended the episode, when ``done[i]``); ``is_success`` (reached the
target) is set when an episode ends, so SB3's ``VecMonitor``/``Monitor`` log
``rollout/success_rate``. ``reset_infos[i]`` holds the same keys for env ``i``'s current episode.

Reward shaping (optional, off by default): ``shaping=k`` adds Ng et al. (1999)'s potential-based
term ``gamma * phi(s') - phi(s)`` with ``phi(s) = -k * distance(s) / n_cells`` (``phi = 0`` at the
target), which leaves the optimal policy unchanged.

This module imports stable-baselines3; :mod:`maze_env` never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from maze_env.vector_env import MazeVectorEnv

__all__ = ["INFO_KEYS", "MazeVecEnvAdapter"]

INFO_KEYS = ("distance", "optimal_length", "manhattan", "hit_wall")
"""The vector env's per-step info arrays that the adapter passes to each env's info dict."""

_PER_ENV_METHODS = {"task": "task", "agent": "agent"}


class MazeVecEnvAdapter(VecEnv):
    """A :class:`~maze_env.vector_env.MazeVectorEnv` behind SB3's ``VecEnv`` interface.

    Args:
        venv: a vector env made with ``autoreset_mode="SameStep"``; or None to build one from
            ``num_envs`` and ``**kwargs``.
        num_envs: number of envs when building one.
        seed: seed of the first ``reset()`` (env ``i`` gets ``seed + i``), as ``VecEnv.seed``.
        shaping: potential-based distance shaping coefficient ``k >= 0`` (0: sparse reward).
        gamma: the discount the shaping term uses (the algorithm's ``gamma``).
        **kwargs: :class:`~maze_env.env.MazeEnv` arguments when building one.

    ``env_method(name, *args, indices=...)`` calls ``venv.name(i, *args)`` for each index ``i``
    (e.g. ``"set_target"``, ``"task"``). ``get_attr(name)`` returns one value per env:
    ``observation_space``/``action_space`` are the single env's, ``task``/``agent`` env ``i``'s,
    a vector-env array with one row per env gives row ``i``, anything else the vector env's value.
    ``set_attr`` sets the vector env's attribute (all envs share it).
    """

    def __init__(
        self,
        venv: MazeVectorEnv | None = None,
        *,
        num_envs: int = 1,
        seed: int | None = None,
        shaping: float = 0.0,
        gamma: float = 0.99,
        **kwargs: Any,
    ) -> None:
        if venv is None:
            venv = MazeVectorEnv(num_envs, autoreset_mode=AutoresetMode.SAME_STEP, **kwargs)
        elif kwargs:
            raise ValueError(f"give either venv or env arguments, not both (got {sorted(kwargs)})")
        if not isinstance(venv, MazeVectorEnv) or venv.autoreset_mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                "venv must be a MazeVectorEnv built with autoreset_mode='SameStep' (SB3's autoreset "
                f"convention), got {venv!r}"
            )
        if not (isinstance(shaping, (int, float)) and shaping >= 0):
            raise ValueError(f"shaping must be a number >= 0 (0 = sparse reward), got {shaping!r}")
        if not 0 < gamma <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        self.venv = venv
        self.shaping, self.gamma = float(shaping), float(gamma)
        rows, cols = venv.config.grid_shape
        self._phi_scale = self.shaping / (rows * cols)
        self._distance = np.zeros(venv.num_envs, dtype=np.int64)
        super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
        self._actions: np.ndarray | None = None
        if seed is not None:
            self.seed(seed)

    # -- VecEnv API ------------------------------------------------------------------------------
    def reset(self) -> np.ndarray:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        options = None
        if any(self._options):
            if not all(set(o) == {"task"} for o in self._options):
                raise ValueError("set_options takes {'task': Task} for every env, or nothing")
            options = {"tasks": [o["task"] for o in self._options]}
        obs, infos = self.venv.reset(seed=seeds, options=options)
        self.reset_infos = [_row(infos, i) for i in range(self.num_envs)]
        self._distance = np.asarray(infos["distance"], dtype=np.int64).copy()
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async(); call step(actions)")
        obs, rewards, terminated, truncated, vinfos = self.venv.step(self._actions.reshape(-1))
        self._actions = None
        dones = terminated | truncated
        # the step's own numbers: for finished envs they are in final_info (the new episode's
        # are in the top-level arrays)
        step_dist = np.asarray(vinfos["distance"], dtype=np.int64)
        cols = {k: np.asarray(vinfos[k]) for k in INFO_KEYS}
        if dones.any():
            final = vinfos["final_info"]
            for k in INFO_KEYS:
                cols[k] = np.where(dones, np.asarray(final[k]), cols[k])
        infos: list[dict[str, Any]] = [
            {k: cols[k][i].item() for k in INFO_KEYS} for i in range(self.num_envs)
        ]
        rewards = rewards.astype(np.float32)
        if self.shaping:
            end_dist = cols["distance"].astype(np.int64)
            phi_next = np.where(terminated, 0.0, -self._phi_scale * end_dist)
            phi_prev = -self._phi_scale * self._distance
            rewards = rewards + (self.gamma * phi_next - phi_prev).astype(np.float32)
        self._distance = step_dist.copy()
        if dones.any():
            idx, last = self.venv.final_obs_rows
            for j, i in enumerate(idx.tolist()):
                infos[i]["terminal_observation"] = last[j]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                infos[i]["is_success"] = bool(terminated[i])
                self.reset_infos[i] = _row(vinfos, i)
        return obs, rewards, dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        idx = list(self._get_indices(indices))
        if attr_name in ("observation_space", "action_space"):
            return [getattr(self.venv, f"single_{attr_name}") for _ in idx]
        if attr_name in _PER_ENV_METHODS:
            method = getattr(self.venv, _PER_ENV_METHODS[attr_name])
            return [method(i) for i in idx]
        value = getattr(self.venv, attr_name)
        if isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == self.num_envs:
            return [value[i] for i in idx]
        return [value for _ in idx]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        method = getattr(self.venv, method_name)
        return [method(i, *method_args, **method_kwargs) for i in self._get_indices(indices)]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.venv.render()
        return [None] * self.num_envs if frames is None else list(frames)

    def _get_indices(self, indices: VecEnvIndices) -> Iterable[int]:
        if indices is None:
            return range(self.num_envs)
        if isinstance(indices, (int, np.integer)):
            return [int(indices)]
        return [int(i) for i in indices]


def _row(infos: dict[str, Any], i: int) -> dict[str, Any]:
    """Env ``i``'s values of the vector env's info arrays, as plain Python numbers."""
    return {k: np.asarray(infos[k])[i].item() for k in INFO_KEYS if k in infos}

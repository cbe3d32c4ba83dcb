"""stable-baselines3 adapter: :class:`MazeVecEnvAdapter` presents a MazeVectorEnv as an SB3 VecEnv.

SB3 does not take Gymnasium vector envs; it steps its own ``VecEnv`` API with its own autoreset
convention (the observation returned with ``done[i]`` is the next episode's first, the last one is
``infos[i]["terminal_observation"]``, and ``infos[i]["TimeLimit.truncated"]`` marks time-outs so
PPO bootstraps them). That is Gymnasium's ``SAME_STEP`` autoreset, which the adapter asks of the
vector env; so PPO samples from the numpy fast path::

    from stable_baselines3 import PPO
    from maze_env.sb3 import MazeVecEnvAdapter

    env = MazeVecEnvAdapter(num_envs=8, seed=0, shape=(6, 6))
    PPO("MlpPolicy", env, n_steps=128).learn(100_000)

``infos[i]["is_success"]`` (reached the target) is set when an episode ends, so SB3 logs
``rollout/success_rate``; wrap in SB3's ``VecMonitor`` for episode returns and lengths.

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

__all__ = ["MazeVecEnvAdapter"]


class MazeVecEnvAdapter(VecEnv):
    """A :class:`~maze_env.vector_env.MazeVectorEnv` behind SB3's ``VecEnv`` interface.

    Args:
        venv: a vector env made with ``autoreset_mode="SameStep"``; or None to build one from
            ``num_envs`` and ``**kwargs``.
        num_envs: number of envs when building one.
        seed: seed of the first ``reset()`` (env ``i`` gets ``seed + i``), as ``VecEnv.seed``.
        **kwargs: :class:`~maze_env.env.MazeEnv` arguments when building one.

    ``env_method(name, *args, indices=...)`` calls ``venv.name(i, *args)`` for each index ``i``
    (e.g. ``"set_target"``, ``"task"``); ``get_attr``/``set_attr`` reach the vector env itself.
    """

    def __init__(
        self,
        venv: MazeVectorEnv | None = None,
        *,
        num_envs: int = 1,
        seed: int | None = None,
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
        self.venv = venv
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
        obs, _ = self.venv.reset(seed=seeds, options=options)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("step_wait() without step_async(); call step(actions)")
        obs, rewards, terminated, truncated, _ = self.venv.step(self._actions.reshape(-1))
        self._actions = None
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if dones.any():
            idx, last = self.venv.final_obs_rows
            for j, i in enumerate(idx.tolist()):
                infos[i]["terminal_observation"] = last[j]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                infos[i]["is_success"] = bool(terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in self._get_indices(indices)]

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

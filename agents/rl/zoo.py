"""RL Baselines3 Zoo glue: the maze policies by name, and the native vector env as a zoo wrapper.

``python -m rl_zoo3.train --algo ppo --env maze_env/Maze-v0 --gym-packages maze_env agents.rl.zoo
--conf-file zoo/hyperparams/ppo.yml``: importing this module (``--gym-packages``) registers
``MazePolicy`` and ``MazeCnnPolicy`` as policy names of PPO/A2C, so the YAML can name them; and
``vec_env_wrapper: agents.rl.zoo.NativeVecEnv`` swaps the zoo's ``DummyVecEnv`` of
``MazeEnv``\\ s (about 1k steps/s) for the native vector env behind the SB3 adapter (the fast
path), with the same env arguments and number of envs.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3 import A2C, PPO
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, VecMonitor

from agents.rl.policies import MazeCnnPolicy, MazePolicy

__all__ = ["NativeVecEnv", "register_policies"]


def register_policies() -> None:
    """Make ``"MazePolicy"`` and ``"MazeCnnPolicy"`` valid policy names for PPO and A2C."""
    for algo in (PPO, A2C):
        algo.policy_aliases = {
            **algo.policy_aliases,
            "MazePolicy": MazePolicy,
            "MazeCnnPolicy": MazeCnnPolicy,
        }


register_policies()


class NativeVecEnv(VecEnvWrapper):
    """A zoo ``vec_env_wrapper`` that replaces a ``DummyVecEnv``/``SubprocVecEnv`` of
    ``maze_env/Maze-v0`` envs by :class:`~maze_env.sb3.MazeVecEnvAdapter` (in ``VecMonitor``,
    logging ``is_success``) with the same env arguments and number of envs.

    The zoo seeds its envs; the native env takes its seed from the first env's ``np_random``, so
    a zoo seed still fixes the run.

    Args:
        venv: the zoo's vector env of ``MazeEnv``\\ s.
        shaping: potential-based distance shaping coefficient (0: sparse, the env's reward).
    """

    def __init__(self, venv: VecEnv, shaping: float = 0.0) -> None:
        from maze_env.sb3 import MazeVecEnvAdapter

        spec_kwargs = _env_kwargs(venv)
        seed = _seed_of(venv)
        n = venv.num_envs
        venv.close()
        native = VecMonitor(MazeVecEnvAdapter(num_envs=n, seed=seed, shaping=shaping, **spec_kwargs),
                            info_keywords=("is_success",))  # fmt: skip
        super().__init__(native)

    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        return self.venv.step_wait()


def _env_kwargs(venv: VecEnv) -> dict[str, Any]:
    """The MazeEnv arguments the zoo built its envs with (``env_kwargs`` of the hyperparameters)."""
    spec = venv.get_attr("spec")[0]
    kwargs = dict(getattr(spec, "kwargs", {}) or {})
    kwargs.pop("render_mode", None)
    kwargs.pop("render_cell_px", None)
    return {k: v for k, v in kwargs.items() if v is not None}


def _seed_of(venv: VecEnv) -> int:
    rng = venv.get_attr("np_random")[0]
    return int(rng.integers(0, 2**31 - 1))

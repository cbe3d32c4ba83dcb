"""RL Zoo route: the native vector env as a zoo vec_env_wrapper, and a tiny zoo training run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env

import maze_env  # noqa: F401  (registers maze_env/Maze-v0)
from agents.rl.policies import MazePolicy
from agents.rl.zoo import NativeVecEnv
from maze_env.sb3 import MazeVecEnvAdapter

ROOT = Path(__file__).resolve().parents[2]


def test_native_wrapper_replaces_the_zoo_vec_env_with_the_same_arguments() -> None:
    dummy = make_vec_env(
        "maze_env/Maze-v0", n_envs=3, seed=4, env_kwargs={"shape": (4, 5), "visited": True}
    )
    env = NativeVecEnv(dummy)
    assert env.num_envs == 3 and env.observation_space == dummy.observation_space
    inner = env.venv.venv
    assert isinstance(inner, MazeVecEnvAdapter) and inner.venv.config.visited
    env.reset()
    finished = []
    for _ in range(200):
        _, _, done, infos = env.step(np.random.default_rng(0).integers(0, 4, 3))
        finished += [infos[i] for i in np.flatnonzero(done)]
    assert finished and all("is_success" in i and "episode" in i for i in finished)


def test_policy_names_are_registered_for_the_zoo() -> None:
    assert PPO.policy_aliases["MazePolicy"] is MazePolicy


@pytest.mark.slow
def test_rl_zoo_trains_the_maze_env_with_the_shipped_hyperparameters(tmp_path: Path) -> None:
    pytest.importorskip("rl_zoo3")
    cmd = [
        sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", "maze_env/Maze-v0",
        "--gym-packages", "maze_env", "agents.rl.zoo", "--conf-file", "zoo/hyperparams/ppo.yml",
        "-f", str(tmp_path), "-n", "1024", "--eval-freq", "-1", "--seed", "0",
    ]  # fmt: skip
    res = subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert list(tmp_path.rglob("maze_env-Maze-v0.zip")), list(tmp_path.rglob("*"))
    model = PPO.load(next(tmp_path.rglob("maze_env-Maze-v0.zip")), device="cpu")
    assert type(model.policy).__name__ == "MazePolicy"

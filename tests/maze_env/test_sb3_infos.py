"""The SB3 adapter's infos, is_success, reset_infos, get_attr and reward shaping."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecMonitor

from maze_env import Task
from maze_env.sb3 import INFO_KEYS, MazeVecEnvAdapter
from maze_env.solve import bfs_distances

SNAKE = Task.from_ascii("#######\n#S    #\n##### #\n#E    #\n#######")
SNAKE_PATH = [1, 1, 2, 3, 3]  # RIGHT RIGHT DOWN LEFT LEFT


def test_every_step_carries_the_env_infos_and_success_at_the_end() -> None:
    env = MazeVecEnvAdapter(num_envs=2, seed=0, shape=(2, 3))
    env.set_options({"task": SNAKE})
    env.reset()
    assert [ri["optimal_length"] for ri in env.reset_infos] == [5, 5]
    assert all(ri["distance"] == 5 for ri in env.reset_infos)
    obs, rew, done, infos = env.step(np.array([0, 1]))  # env 0 bumps the wall, env 1 moves
    assert infos[0]["hit_wall"] is True and infos[1]["hit_wall"] is False
    assert infos[0]["distance"] == 5 and infos[1]["distance"] == 4
    assert all(set(INFO_KEYS) <= set(i) for i in infos)
    for a in SNAKE_PATH[1:]:
        obs, rew, done, infos = env.step(np.array([0, a]))
    assert list(done) == [False, True]
    assert infos[1]["is_success"] is True and infos[1]["distance"] == 0
    assert infos[1]["TimeLimit.truncated"] is False and "is_success" not in infos[0]
    assert infos[1]["terminal_observation"].shape == env.observation_space.shape
    # the new episode of env 1 is in reset_infos
    new = env.env_method("task", indices=1)[0]
    assert env.reset_infos[1]["optimal_length"] == bfs_distances(new.maze, new.target)[new.origin]


def test_timeouts_are_not_successes_and_vecmonitor_logs_success() -> None:
    env = VecMonitor(
        MazeVecEnvAdapter(num_envs=3, seed=0, shape=(3, 3), max_steps=2),
        info_keywords=("is_success",),
    )
    env.reset()
    outs = [env.step(np.zeros(3, dtype=np.int64)) for _ in range(2)]
    _, _, done, infos = outs[-1]
    for i in np.flatnonzero(done):
        assert infos[i]["is_success"] == (not infos[i]["TimeLimit.truncated"])
        assert "episode" in infos[i]


def test_get_attr_returns_one_value_per_env() -> None:
    env = MazeVecEnvAdapter(num_envs=3, seed=0, shape=(3, 4))
    env.reset()
    spaces = env.get_attr("observation_space")
    assert spaces == [env.observation_space] * 3
    assert env.get_attr("action_space", indices=[0, 2]) == [env.action_space] * 2
    tasks = env.get_attr("task")
    assert len(tasks) == 3 and tasks[1] == env.venv.task(1)
    assert env.get_attr("agent", indices=2) == [env.venv.agent(2)]
    assert env.get_attr("num_envs") == [3, 3, 3]


def test_potential_shaping_telescopes_to_phi_of_the_start() -> None:
    gamma, k = 1.0, 2.0
    sparse = MazeVecEnvAdapter(num_envs=1, seed=0, shape=(2, 3))
    shaped = MazeVecEnvAdapter(num_envs=1, seed=0, shape=(2, 3), shaping=k, gamma=gamma)
    for env in (sparse, shaped):
        env.set_options({"task": SNAKE})
        env.reset()
    total = {"sparse": 0.0, "shaped": 0.0}
    for a in [0, *SNAKE_PATH]:  # a wall bump first, then the shortest path
        total["sparse"] += float(sparse.step(np.array([a]))[1][0])
        total["shaped"] += float(shaped.step(np.array([a]))[1][0])
    # with gamma = 1 the shaping terms sum to phi(end) - phi(start) = 0 - (-k * 5 / 6)
    assert total["shaped"] - total["sparse"] == pytest.approx(k * 5 / 6, abs=1e-5)


def test_bad_shaping_values_are_refused() -> None:
    with pytest.raises(ValueError, match="shaping"):
        MazeVecEnvAdapter(num_envs=1, shape=(3, 3), shaping=-1)
    with pytest.raises(ValueError, match="gamma"):
        MazeVecEnvAdapter(num_envs=1, shape=(3, 3), gamma=0)

"""MazeVectorEnv: the same episodes as N MazeEnvs, Gymnasium's autoreset modes, make_vec, options."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from maze_env import MazeEnv, MazeVectorEnv, Task, generate_batch
from maze_env.episodes import Episodes, draw_episodes, episodes_from_tasks
from maze_env.solve import batch_bfs_distances
from maze_env.types import Action

INFO_KEYS = ("distance", "optimal_length", "manhattan", "hit_wall")
SNAKE = Task.from_ascii(
    """
#######
#S    #
##### #
#E    #
#######
"""
)


def lockstep(
    kwargs: dict, mode: AutoresetMode, n: int = 4, steps: int = 150, seed: int = 10
) -> int:
    """Step a vector env and ``n`` MazeEnvs seeded ``seed + i`` with the same actions; compare all.

    Returns the number of episodes that ended (so a test can check it saw some).
    """
    venv = MazeVectorEnv(n, autoreset_mode=mode, **kwargs)
    envs = [MazeEnv(**kwargs) for _ in range(n)]
    obs, infos = venv.reset(seed=seed)
    for i, env in enumerate(envs):
        o, info = env.reset(seed=seed + i)
        assert (obs[i] == o).all() and all(infos[k][i] == info[k] for k in INFO_KEYS)
        assert venv.task(i) == info["task"]
    rng = np.random.default_rng(seed)
    pending = np.zeros(n, dtype=bool)  # NEXT_STEP: these reset on this step
    ended = 0
    for _ in range(steps):
        actions = rng.integers(0, 4, n)
        obs, rewards, terminated, truncated, infos = venv.step(actions)
        for i, env in enumerate(envs):
            if mode == AutoresetMode.NEXT_STEP and pending[i]:
                o, info = env.reset()
                r, term, trunc, info["hit_wall"] = 0.0, False, False, False
            else:
                o, r, term, trunc, info = env.step(actions[i])
                if mode == AutoresetMode.SAME_STEP and (term or trunc):
                    assert infos["_final_obs"][i] and (infos["final_obs"][i] == o).all()
                    assert all(infos["final_info"][k][i] == info[k] for k in INFO_KEYS)
                    o, info = env.reset()
                    info["hit_wall"] = False
            assert (obs[i] == o).all()
            assert (rewards[i], terminated[i], truncated[i]) == (r, term, trunc)
            assert all(infos[k][i] == info[k] for k in INFO_KEYS), (infos, info)
            assert venv.task(i) == env.task and venv.agent(i) == env.agent
        pending = terminated | truncated
        ended += int(pending.sum())
    return ended


CONFIGS = {
    "grid": {"shape": (3, 4), "max_steps": 15},
    "tokens": {"shape": (3, 3), "obs_mode": "tokens", "max_steps": 12},
    "rgb": {"shape": (2, 3), "obs_mode": "rgb", "max_steps": 12},
    "shapes+visited": {"shape": [(2, 2), (3, 5), (4, 4)], "visited": True},
    "placements": {"shape": (5, 5), "target": "dead_end", "origin": "region:tl:2", "max_steps": 20},
    "pool": {"mazes": generate_batch("prim", (3, 3), 5, seed=1), "target": "corner"},
    "rewards": {"shape": (3, 3), "step_penalty": -0.05, "wall_penalty": -0.2, "goal_reward": 3.0},
    "loops": {"shape": (4, 4), "generator": "percolation", "generator_params": {"p": 0.6}},
}


@pytest.mark.parametrize(
    "mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda m: m.name
)
@pytest.mark.parametrize("name", list(CONFIGS))
def test_vector_env_plays_exactly_what_n_single_envs_play(name: str, mode: AutoresetMode) -> None:
    assert lockstep(CONFIGS[name], mode) > 4


def test_make_vec_builds_the_native_vector_env() -> None:
    for mode in ("vector_entry_point", None):
        venv = gym.make_vec("maze_env/Maze-v0", num_envs=3, vectorization_mode=mode, shape=(4, 4))
        assert isinstance(venv, MazeVectorEnv) and venv.num_envs == 3
        assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        assert venv.observation_space == batch_space(venv.single_observation_space, 3)
        assert venv.action_space == gym.spaces.MultiDiscrete([4, 4, 4])
        obs, _ = venv.reset(seed=0)
        assert obs.shape == (3, 3, 9, 9) and obs in venv.observation_space
    same_step = gym.make_vec("maze_env/Maze-v0", num_envs=2, autoreset_mode="SameStep")
    assert same_step.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP


def test_batched_draws_equal_one_at_a_time() -> None:
    venv = MazeVectorEnv(6, shape=[(3, 3), (4, 6)], target="dead_end")
    cfg, keys = venv.config, np.arange(12, dtype=np.uint64).reshape(6, 2) * 977
    episodes = np.array([0, 5, 2, 9, 1, 1])
    batch = draw_episodes(cfg, keys[:, 0], keys[:, 1], episodes)
    for i in range(6):
        one = draw_episodes(cfg, keys[i : i + 1, 0], keys[i : i + 1, 1], episodes[i : i + 1])
        assert one.task(0) == batch.task(i) and (one.dist[0] == batch.dist[i]).all()
    cached = draw_episodes(cfg, keys[:, 0], keys[:, 1], episodes, venv._cache, np.arange(6))
    assert all(cached.task(i) == batch.task(i) for i in range(6))
    rows, cols = cfg.grid_shape
    dist = batch_bfs_distances(batch.conn, batch.targets).reshape(6, rows * cols)
    assert (batch.dist == dist).all()


def test_tables_match_the_maze() -> None:
    ep = episodes_from_tasks(MazeVectorEnv(1, shape=(2, 3)).config, [SNAKE])
    nxt, dist = ep.tables()
    assert nxt[0].tolist() == [
        [0, 1, 0, 0],
        [1, 2, 1, 0],
        [2, 2, 5, 1],
        [3, 4, 3, 3],
        [4, 5, 4, 3],
        [2, 5, 5, 4],
    ]
    assert dist[0].tolist() == [5, 4, 3, 0, 1, 2]
    assert isinstance(ep, Episodes) and ep.task(0) == SNAKE


def test_reset_mask_and_disabled_autoreset() -> None:
    venv = MazeVectorEnv(3, shape=(2, 3), autoreset_mode="Disabled", max_steps=2)
    venv.reset(seed=0, options={"tasks": [SNAKE] * 3})
    venv.step(np.array([Action.RIGHT, Action.UP, Action.UP]))
    _, _, _, truncated, _ = venv.step(np.array([Action.RIGHT, Action.UP, Action.UP]))
    assert truncated.all()
    with pytest.raises(gym.error.ResetNeeded, match="DISABLED"):
        venv.step(np.zeros(3, dtype=np.int64))
    before = [venv.task(i) for i in range(3)]
    obs, infos = venv.reset(options={"reset_mask": np.array([True, False, True])})
    assert venv.task(1) == before[1] and venv.agent(1) == (0, 0)
    assert venv.task(0) != before[0] and infos["distance"][0] == infos["optimal_length"][0]
    with pytest.raises(gym.error.ResetNeeded, match="DISABLED"):
        venv.step(np.zeros(3, dtype=np.int64))  # env 1 is still finished
    venv.reset(options={"reset_mask": np.array([False, True, False])})
    venv.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="reset_mask must be bool"):
        venv.reset(options={"reset_mask": np.array([0, 1, 0])})
    with pytest.raises(ValueError, match="unknown reset option"):
        venv.reset(options={"task": SNAKE})
    with pytest.raises(ValueError, match="one Task per env reset"):
        venv.reset(options={"tasks": [SNAKE]})


SNAKE_PATH = [Action.RIGHT, Action.RIGHT, Action.DOWN, Action.LEFT, Action.LEFT]


@pytest.mark.parametrize("mode", list(AutoresetMode), ids=lambda m: m.name)
def test_a_finished_sub_env_is_paid_once_in_its_declared_autoreset_mode(
    mode: AutoresetMode,
) -> None:
    venv = MazeVectorEnv(2, shape=(2, 3), autoreset_mode=mode.value)
    assert venv.metadata["autoreset_mode"] == mode
    venv.reset(seed=0, options={"tasks": [SNAKE, SNAKE]})
    for a in SNAKE_PATH[:-1]:  # env 0 walks to the target, env 1 bumps into the top wall
        venv.step(np.array([a, Action.UP]))
    obs, rew, term, trunc, infos = venv.step(np.array([Action.LEFT, Action.UP]))
    assert rew[0] == 1.0 and term[0] and not trunc[0] and not term[1]
    if mode == AutoresetMode.SAME_STEP:  # the next episode starts at once; the last obs aside
        assert (
            infos["_final_obs"].tolist() == [True, False]
            and infos["final_info"]["distance"][0] == 0
        )
        assert venv.agent(0) == venv.task(0).origin and (obs[0] == venv._obs()[0]).all()
    else:
        assert venv.agent(0) == SNAKE.target and "final_obs" not in infos
    if mode == AutoresetMode.DISABLED:
        with pytest.raises(gym.error.ResetNeeded, match="reset_mask"):
            venv.step(np.array([Action.LEFT, Action.UP]))
        return
    # the step after: NEXT_STEP ignores env 0's action and starts its next episode (reward 0,
    # flags False); SAME_STEP already has, and plays the action in it. Neither pays the goal again.
    task_before = venv.task(0)
    obs, rew, term, trunc, infos = venv.step(np.array([Action.LEFT, Action.UP]))
    assert rew[0] != 1.0 and not term[0] and not trunc[0]
    if mode == AutoresetMode.NEXT_STEP:
        assert rew[0] == 0.0 and not infos["hit_wall"][0] and venv.agent(0) == venv.task(0).origin
        assert infos["distance"][0] == infos["optimal_length"][0]
    else:
        assert venv.task(0) == task_before


def test_set_target_matches_the_single_env() -> None:
    for obs_mode in ("grid", "tokens", "rgb"):
        venv = MazeVectorEnv(2, shape=(4, 4), obs_mode=obs_mode)
        envs = [MazeEnv(shape=(4, 4), obs_mode=obs_mode) for _ in range(2)]
        venv.reset(seed=3)
        for i, env in enumerate(envs):
            env.reset(seed=3 + i)
        venv.step(np.array([1, 2]))
        for i, env in enumerate(envs):
            env.step([1, 2][i])
        venv.set_target(1, (3, 0))
        envs[1].set_target((3, 0))
        obs, rewards, terminated, _, infos = venv.step(np.array([0, 3]))
        for i, env in enumerate(envs):
            o, r, term, _, info = env.step([0, 3][i])
            assert (obs[i] == o).all() and rewards[i] == r and terminated[i] == term
            assert all(infos[k][i] == info[k] for k in INFO_KEYS)


def test_seeding() -> None:
    venv = MazeVectorEnv(3, shape=(4, 4))
    a, _ = venv.reset(seed=5)
    b, _ = venv.reset()
    c, _ = venv.reset(seed=5)
    assert (a == c).all() and (a != b).any()
    d, _ = venv.reset(seed=[5, None, 7])  # env 1 continues its own sequence
    single = MazeEnv(shape=(4, 4))
    assert (d[0] == single.reset(seed=5)[0]).all() and (d[2] == single.reset(seed=7)[0]).all()
    with pytest.raises(ValueError, match="list of 3 seeds"):
        venv.reset(seed=[1, 2])
    unseeded = MazeVectorEnv(3, shape=(4, 4))
    assert (unseeded.reset()[0] != MazeVectorEnv(3, shape=(4, 4)).reset()[0]).any()


def test_returned_arrays_are_copies() -> None:
    venv = MazeVectorEnv(2, shape=(3, 3))
    obs, infos = venv.reset(seed=0)
    obs2, rewards, terminated, _, infos2 = venv.step(np.array([0, 1]))
    obs3, rewards3, *_ = venv.step(np.array([2, 3]))
    assert not np.shares_memory(obs2, obs3) and not np.shares_memory(rewards, rewards3)
    assert not np.shares_memory(infos["distance"], infos2["distance"])


@pytest.mark.parametrize(
    ("actions", "match"),
    [
        (np.array([0, 4]), r"actions\[1\] = 4"),
        (np.array([-1, 0]), r"actions\[0\] = -1"),
        (np.array([0, 1, 2]), "2 ints in 0..3"),
        (np.array([0.0, 1.0]), "2 ints in 0..3"),
    ],
)
def test_bad_actions(actions: np.ndarray, match: str) -> None:
    venv = MazeVectorEnv(2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        venv.step(actions)


def test_bad_construction() -> None:
    with pytest.raises(ValueError, match="num_envs must be a positive int"):
        MazeVectorEnv(0)
    with pytest.raises(ValueError, match="allowed: NEXT_STEP, SAME_STEP, DISABLED"):
        MazeVectorEnv(2, autoreset_mode="later")
    with pytest.raises(ValueError, match="unknown generator"):
        MazeVectorEnv(2, generator="nope")
    with pytest.raises(RuntimeError, match="reset"):
        MazeVectorEnv(2).step(np.zeros(2, dtype=np.int64))


def test_render_gives_one_frame_per_env() -> None:
    venv = MazeVectorEnv(2, shape=(3, 3), render_mode="rgb_array", render_cell_px=4)
    venv.reset(seed=0)
    frames = venv.render()
    assert len(frames) == 2 and frames[0].shape == (3 * 5 + 1, 3 * 5 + 1, 3)

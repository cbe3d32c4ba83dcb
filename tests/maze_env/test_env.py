"""MazeEnv: the Gymnasium API, rewards, placements, seeding, the env checkers, bad input."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from maze_env import Maze, MazeBatch, MazeEnv, Task, generate_batch
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.render import draw_frame, render_ansi
from maze_env.solve import bfs_distances, shortest_path
from maze_env.tokens import Vocabulary
from maze_env.types import Action

# A 2x3 maze: a corridor from S along the top, down the right side, and back along the bottom to
# E. The shortest path from S to E is RIGHT RIGHT DOWN LEFT LEFT (5 moves).
SNAKE = Task.from_ascii(
    """
#######
#S    #
##### #
#E    #
#######
"""
)
SNAKE_PATH = [Action.RIGHT, Action.RIGHT, Action.DOWN, Action.LEFT, Action.LEFT]


def no_warnings(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run ``fn`` and fail on any warning it emits (Gymnasium's logger warns via ``warnings``)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    assert not caught, [str(w.message) for w in caught]
    return out


def play(env: gym.Env, actions, seed: int):  # type: ignore[no-untyped-def]
    """Reset with ``seed``, take ``actions`` (resetting when an episode ends); every output."""
    out = [env.reset(seed=seed)]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            out.append(env.reset())
    return out


def same(a, b) -> bool:  # type: ignore[no-untyped-def]
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool((a == b).all())
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


# -- registration and construction ----------------------------------------------------------------
def test_import_registers_the_env_and_make_equals_direct_construction() -> None:
    assert "maze_env/Maze-v0" in gym.registry
    made = gym.make("maze_env/Maze-v0", shape=(5, 4), target="corner:br")
    direct = MazeEnv(shape=(5, 4), target="corner:br")
    assert made.observation_space == direct.observation_space == gym.spaces.MultiBinary([3, 11, 9])
    assert made.action_space == direct.action_space == gym.spaces.Discrete(4)
    assert same(made.reset(seed=3)[0], direct.reset(seed=3)[0])
    assert direct.spec is not None and direct.spec.make().unwrapped.config.shapes == ((5, 4),)


def test_maze_env_package_does_not_import_torch_or_sb3() -> None:
    code = "import sys, maze_env; bad = {'torch', 'stable_baselines3'} & set(sys.modules); assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)


ENV_CONFIGS = [
    {},
    {"obs_mode": "tokens"},
    {"obs_mode": "rgb"},
    {"visited": True, "shape": [(3, 3), (5, 4)]},
    {"shape": (1, 2), "target": "corner:br", "origin": "corner:tl"},
    {"obs_mode": "rgb", "shape": range(2, 5)},
    {"obs_mode": "tokens", "shape": (4, 3), "token_scheme": "aotp_split", "generator": "kruskal"},
]


@pytest.mark.parametrize(
    "kwargs", ENV_CONFIGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default"
)
def test_gymnasium_and_sb3_checkers_pass_without_warnings(kwargs: dict) -> None:
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    no_warnings(check_env, MazeEnv(**kwargs))  # also renders in every mode via env.spec
    no_warnings(sb3_check_env, MazeEnv(**kwargs))
    no_warnings(check_env, gym.make("maze_env/Maze-v0", **kwargs).unwrapped)


def test_make_defaults_to_no_rendering_and_the_checker_passes_on_it() -> None:
    env = gym.make("maze_env/Maze-v0")
    assert env.render_mode is None and env.unwrapped.render_mode is None
    assert "render_mode" not in env.spec.kwargs
    no_warnings(check_env, env.unwrapped)


def test_human_render_mode_passes_the_checker_with_skip_render_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setitem(MazeEnv.metadata, "render_fps", 0)  # no frame pacing in tests
    env = gym.make("maze_env/Maze-v0", shape=(3, 3), render_mode="human")
    assert env.unwrapped.render_mode == "human"
    no_warnings(check_env, env.unwrapped, skip_render_check=True)
    assert env.unwrapped._window is not None and env.unwrapped._window.headless
    env.close()
    assert "skip_render_check=True" in (MazeEnv.__doc__ or "")


def test_headless_without_a_display_the_checker_needs_skip_render_check() -> None:
    code = (
        "import gymnasium as gym, maze_env\n"
        "from gymnasium.utils.env_checker import check_env\n"
        "from maze_env.render import NoDisplayError\n"
        "env = gym.make('maze_env/Maze-v0', shape=(3, 3)).unwrapped\n"
        "check_env(env, skip_render_check=True)\n"
        "try:\n"
        "    check_env(env)\n"
        "except NoDisplayError as err:\n"
        "    print('NoDisplayError', err)\n"
    )
    environ = {k: v for k, v in os.environ.items() if k not in ("SDL_VIDEODRIVER", "DISPLAY",
               "WAYLAND_DISPLAY")}  # fmt: skip
    if sys.platform.startswith(("win", "darwin")):
        pytest.skip("Windows and macOS always have a display")
    out = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("NoDisplayError no display"), out.stdout + out.stderr


# -- dynamics, rewards, episode end -----------------------------------------------------------
def test_hand_made_maze_walls_rewards_and_termination() -> None:
    env = MazeEnv(shape=(2, 3))
    obs, info = env.reset(options={"task": SNAKE})
    assert info["task"] == SNAKE and env.agent == (0, 0)
    assert (info["distance"], info["optimal_length"], info["manhattan"]) == (5, 5, 1)
    penalty = -1 / (4 * 6)  # default: -1 / max_steps, max_steps = 4 x cells
    obs, reward, terminated, truncated, info = env.step(Action.DOWN)  # a wall
    assert env.agent == (0, 0) and info["hit_wall"] and reward == pytest.approx(2 * penalty)
    for k, a in enumerate(SNAKE_PATH):
        obs, reward, terminated, truncated, info = env.step(a)
        assert not info["hit_wall"] and info["distance"] == 4 - k
        assert terminated == (k == 4) and not truncated
    assert reward == 1.0 and env.agent == (1, 0) and info["optimal_length"] == 5
    assert env.path == [(0, 0), (0, 1), (0, 2), (1, 2), (1, 1), (1, 0)]


def test_custom_rewards_and_truncation_at_max_steps() -> None:
    env = MazeEnv(shape=(2, 3), max_steps=3, goal_reward=2.0, step_penalty=-0.1, wall_penalty=-0.5)
    env.reset(options={"task": SNAKE})
    results = [env.step(Action.UP)[1:4] for _ in range(3)]
    assert results == [(-0.6, False, False), (-0.6, False, False), (-0.6, False, True)]
    env.reset(options={"task": SNAKE})
    env.step(Action.RIGHT), env.step(Action.RIGHT)
    assert env.step(Action.DOWN)[1:4] == (-0.1, False, True)  # the time limit, not the goal
    env = MazeEnv(shape=(2, 3), goal_reward=2.0)
    env.reset(options={"task": SNAKE})
    assert [env.step(a)[1] for a in SNAKE_PATH][-1] == 2.0


def test_a_finished_episode_raises_reset_needed_and_pays_nothing_more() -> None:
    env = MazeEnv(shape=(2, 3))
    env.reset(options={"task": SNAKE})
    rewards = [env.step(a)[1] for a in SNAKE_PATH]
    assert rewards[-1] == 1.0 and env.agent == SNAKE.target
    for action in (Action.LEFT, Action.UP):  # on the target: a wall bump, then a move off it
        with pytest.raises(gym.error.ResetNeeded, match=r"call reset\(\)"):
            env.step(action)
    assert env.agent == SNAKE.target and len(env.path) == len(SNAKE_PATH) + 1
    env.reset(options={"task": SNAKE})
    assert env.step(Action.RIGHT)[1:4] == (pytest.approx(-1 / 24), False, False)
    env = MazeEnv(shape=(2, 3), max_steps=2)
    env.reset(options={"task": SNAKE})
    assert [env.step(Action.UP)[3] for _ in range(2)] == [False, True]
    with pytest.raises(gym.error.ResetNeeded, match="truncated"):
        env.step(Action.UP)
    made = gym.make("maze_env/Maze-v0", shape=(2, 3), max_steps=1)  # through make's wrappers
    made.reset(seed=0)
    _, _, terminated, truncated, _ = made.step(Action.UP)
    assert terminated or truncated
    with pytest.raises(gym.error.ResetNeeded):
        made.step(Action.UP)
    made.reset()
    made.step(Action.UP)


def test_default_max_steps_scales_with_each_mazes_cells() -> None:
    env = MazeEnv(shape=[(2, 2), (3, 4)])
    seen = set()
    for seed in range(20):
        env.reset(seed=seed)
        rows, cols = env.task.maze.shape
        steps = 0
        while True:
            steps += 1
            *_, terminated, truncated, _ = env.step(Action.UP if steps % 2 else Action.DOWN)
            if terminated or truncated:
                break
        if truncated:
            assert steps == 4 * rows * cols
            seen.add((rows, cols))
    assert seen == {(2, 2), (3, 4)}


@pytest.mark.parametrize("action", [4, -1, 7])
def test_out_of_range_action_raises_naming_the_actions(action: int) -> None:
    env = MazeEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"0 \(UP\), 1 \(RIGHT\), 2 \(DOWN\), 3 \(LEFT\)"):
        env.step(action)


def test_action_types() -> None:
    env = MazeEnv()
    env.reset(seed=0)
    for a in (Action.UP, np.int64(1), np.array(2), np.array([3]), 0):
        env.step(a)
    for bad in (1.5, "up", np.array([1, 2]), None):
        with pytest.raises(TypeError, match="action must be"):
            env.step(bad)
    with pytest.raises(RuntimeError, match="reset"):
        MazeEnv().step(0)


# -- observations and info -----------------------------------------------------------------------
def test_grid_observation_layout_and_info_match_the_solver() -> None:
    env = MazeEnv(shape=(5, 7), visited=True)
    assert env.channels == ("wall", "agent", "target", "visited")
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=1)
    for _ in range(300):
        task = env.task
        (ar, ac), (tr, tc) = env.agent, task.target
        assert (obs[0] == task.maze.as_grid()).all()
        assert obs[1].sum() == 1 and obs[1, 2 * ar + 1, 2 * ac + 1] == 1
        assert obs[2].sum() == 1 and obs[2, 2 * tr + 1, 2 * tc + 1] == 1
        visited = {(r // 2, c // 2) for r, c in zip(*np.nonzero(obs[3]), strict=True)}
        assert visited == set(env.path)
        assert info["distance"] == bfs_distances(task.maze, task.target)[ar, ac]
        assert info["optimal_length"] == len(shortest_path(task.maze, task.origin, task.target)) - 1
        assert info["manhattan"] == abs(ar - tr) + abs(ac - tc)
        obs, _, terminated, truncated, info = env.step(int(rng.integers(4)))
        if terminated or truncated:
            obs, info = env.reset()


def test_variable_shapes_pad_with_a_mask_channel() -> None:
    env = MazeEnv(shape=[(3, 3), (5, 4)])
    assert env.channels[-1] == "mask" and env.observation_space.shape == (4, 11, 9)
    shapes = set()
    for seed in range(12):
        obs, info = env.reset(seed=seed)
        rows, cols = info["task"].maze.shape
        shapes.add((rows, cols))
        inside = np.zeros((11, 9), dtype=bool)
        inside[: 2 * rows + 1, : 2 * cols + 1] = True
        assert (obs[-1] == inside).all()
        assert (obs[0][~inside] == 1).all() and (
            obs[0][inside] == info["task"].maze.as_grid().ravel()
        ).all()
    assert shapes == {(3, 3), (5, 4)}
    assert MazeEnv(shape=range(3, 6)).observation_space.shape == (4, 11, 11)
    padded = MazeEnv(shape=(2, 3), pad_to=(4, 4))
    obs, info = padded.reset(options={"task": SNAKE})
    assert obs.shape == (4, 9, 9) and info["task"] == SNAKE


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        ("corner:br", lambda cell, maze: cell == (5, 6)),
        ("corner", lambda cell, maze: cell in {(0, 0), (0, 6), (5, 0), (5, 6)}),
        ("region:tr:2", lambda cell, maze: cell[0] < 2 and cell[1] >= 5),
        ("outside:tr:2", lambda cell, maze: not (cell[0] < 2 and cell[1] >= 5)),
        ("cell:2,3", lambda cell, maze: cell == (2, 3)),
        ((4, 1), lambda cell, maze: cell == (4, 1)),
        ("dead_end", lambda cell, maze: maze.degrees()[cell] == 1),
    ],
)
def test_target_and_origin_placements(spec, check) -> None:  # type: ignore[no-untyped-def]
    env = MazeEnv(shape=(6, 7), target=spec)
    for seed in range(15):
        _, info = env.reset(seed=seed)
        task = info["task"]
        assert check(task.target, task.maze) and task.origin != task.target
    env = MazeEnv(shape=(6, 7), origin=spec, target="random")
    for seed in range(15):
        _, info = env.reset(seed=seed)
        task = info["task"]
        assert task.origin != task.target
        if spec not in ("corner:br", "cell:2,3", (4, 1)):  # a fixed origin moves off the target
            assert check(task.origin, task.maze)


def test_origin_is_placed_where_the_target_can_be_reached() -> None:
    env = MazeEnv(shape=(6, 6), generator="dfs", generator_params={"accessible_cells": 0.5})
    for seed in range(30):
        _, info = env.reset(seed=seed)
        maze, target = info["task"].maze, info["task"].target
        if (bfs_distances(maze, target) > 0).any():
            assert info["optimal_length"] > 0


def test_set_target_mid_episode() -> None:
    env = MazeEnv(shape=(2, 3))
    env.reset(options={"task": SNAKE})
    env.step(Action.RIGHT)
    env.set_target((0, 2))
    obs = env._get_obs()
    assert env.task.target == (0, 2) and obs[2, 1, 5] == 1 and obs[2].sum() == 1
    _, reward, terminated, _, info = env.step(Action.RIGHT)
    assert terminated and reward == 1.0 and info["distance"] == 0 and info["optimal_length"] == 2
    with pytest.raises(ValueError, match="outside"):
        env.set_target((2, 0))


def test_pools_of_mazes_and_tasks() -> None:
    batch = generate_batch("kruskal", (4, 4), 3, seed=5)
    env = MazeEnv(mazes=batch, target="corner:br")
    pool = {batch[i] for i in range(3)}
    for seed in range(10):
        _, info = env.reset(seed=seed)
        assert info["task"].maze in pool and info["task"].target == (3, 3)
    dataset = MazeDataset.from_config(DatasetConfig(shape=(4, 5), n=4, seed=2))
    tasks = set(dataset.tasks())
    env = MazeEnv(mazes=dataset)
    assert {env.reset(seed=s)[1]["task"] for s in range(12)} <= tasks
    mixed = [Task(Maze(np.zeros((2, 1, 2), bool)), (0, 0), (0, 1)), SNAKE]
    env = MazeEnv(mazes=mixed)  # two shapes: padded
    assert env.observation_space.shape == (4, 5, 7)
    assert {env.reset(seed=s)[1]["task"] for s in range(12)} == set(mixed)


def test_reset_with_a_given_task_and_unknown_options() -> None:
    env = MazeEnv(shape=(2, 3))
    _, info = env.reset(seed=0, options={"task": SNAKE})
    assert info["task"] == SNAKE and env.agent == SNAKE.origin
    with pytest.raises(ValueError, match="allowed: 'task'"):
        env.reset(options={"tsak": SNAKE})
    with pytest.raises(TypeError, match="maze_env.Task"):
        env.reset(options={"task": SNAKE.maze})


# -- seeding, determinism, pickling --------------------------------------------------------------
def test_same_seed_same_rollouts_and_reseeding_restarts_the_sequence() -> None:
    actions = np.random.default_rng(0).integers(0, 4, 400).tolist()
    a, b = MazeEnv(shape=(4, 4)), MazeEnv(shape=(4, 4))
    assert same(play(a, actions, seed=7), play(b, actions, seed=7))
    first = [a.reset(seed=7)[1]["task"], a.reset()[1]["task"], a.reset()[1]["task"]]
    again = [b.reset(seed=7)[1]["task"], b.reset()[1]["task"], b.reset()[1]["task"]]
    assert first == again and len(set(first)) == 3
    assert MazeEnv(shape=(4, 4)).reset(seed=8)[1]["task"] != first[0]


def test_pickle_mid_episode_continues_identically() -> None:
    env = MazeEnv(shape=(5, 5), obs_mode="tokens")
    env.reset(seed=4)
    for a in [0, 1, 2, 3, 1]:
        env.step(a)
    clone = pickle.loads(pickle.dumps(env))
    actions = np.random.default_rng(1).integers(0, 4, 100).tolist()
    for act in actions:
        x, y = env.step(act), clone.step(act)
        assert same(x, y)
        if x[2] or x[3]:
            assert same(env.reset(), clone.reset())


# -- rendering -------------------------------------------------------------------------------------
def test_render_modes() -> None:
    env = MazeEnv(shape=(3, 4), render_mode="rgb_array", render_cell_px=8)
    env.reset(seed=0)
    env.step(Action.RIGHT)
    frame = env.render()
    expected = draw_frame(env.task, agent=env.agent, paths=[env.path], cell_px=8)
    assert frame.dtype == np.uint8 and (frame == expected).all()
    env = MazeEnv(shape=(3, 4), render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == render_ansi(env.task, agent=env.agent, path=env.path)
    env = MazeEnv(shape=(3, 4), render_mode="human")
    env.metadata = {**env.metadata, "render_fps": 0}  # no frame pacing in tests
    env.reset(seed=0)
    env.step(0)
    assert env.render() is None and env._window is not None
    env.close()
    env.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert MazeEnv().render() is None
    assert "render_mode" in str(caught[0].message)


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"generator": "nope"}, ValueError, "unknown generator 'nope'; known: dfs"),
        ({"generator_params": {"depth": 3}}, ValueError, "allowed: "),
        ({"shape": (1, 1)}, ValueError, "at least 1x2"),
        ({"shape": (0, 5)}, ValueError, "at least 1x2"),
        ({"shape": "6x6"}, ValueError, "shape must be"),
        ({"target": "cell:9,9"}, ValueError, "target placement.*outside the 6x6 grid"),
        ({"origin": (6, 0)}, ValueError, "origin placement.*outside"),
        ({"target": "nowhere"}, ValueError, "allowed: random, cell:R,C, corner"),
        ({"target": "cell:0,0", "origin": "corner:tl"}, ValueError, "both fix cell"),
        ({"obs_mode": "pixels"}, ValueError, "allowed: grid, tokens, rgb"),
        ({"max_steps": 0}, ValueError, "positive int"),
        ({"step_penalty": float("nan")}, ValueError, "finite"),
        ({"pad_to": (4, 4)}, ValueError, "smaller than the largest shape"),
        ({"render_mode": "window"}, ValueError, "'human', 'rgb_array', 'ansi'"),
        (
            {"obs_mode": "tokens", "vocab": Vocabulary((4, 4))},
            ValueError,
            "vocabulary with max_shape",
        ),
        ({"obs_mode": "tokens", "token_scheme": "bpe"}, ValueError, "unknown token scheme"),
        ({"mazes": []}, TypeError, "MazeBatch, a MazeDataset"),
        (
            {"mazes": MazeBatch(np.zeros((2, 2, 3, 3), bool)), "shape": (4, 4)},
            ValueError,
            "does not match",
        ),
    ],
)
def test_bad_arguments_name_the_allowed_values(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        MazeEnv(**kwargs)


def test_a_task_of_another_shape_needs_padding() -> None:
    env = MazeEnv(shape=(6, 6))
    with pytest.raises(ValueError, match=r"padding is off; make the env with shape=\(2, 3\)"):
        env.reset(options={"task": SNAKE})
    with pytest.raises(ValueError, match="larger than"):
        MazeEnv(shape=(2, 2), pad_to=(2, 2)).reset(options={"task": SNAKE})

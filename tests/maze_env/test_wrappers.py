"""Observation formats: tokens and rgb (native obs_mode and the wrappers), and the grid builder."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from maze_env import MazeEnv, Task
from maze_env.render import WALL, draw_frame
from maze_env.tokens import Vocabulary, parse
from maze_env.types import Action
from maze_env.wrappers import RGBObservation, TokensObservation

SNAKE = Task.from_ascii(
    """
#######
#S    #
##### #
#E    #
#######
"""
)


def decode(env: gym.Env, obs: np.ndarray):  # type: ignore[no-untyped-def]
    encoder = env.unwrapped._encoder if env.unwrapped._encoder is not None else env._encoder
    return parse(encoder.vocab.decode(obs, strip_padding=True))


def walk(env: gym.Env, seed: int, n: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for _ in range(n):
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        out.append(obs)
        if terminated or truncated:
            obs, _ = env.reset()
            out.append(obs)
    return out


# -- tokens ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["aotp", "aotp_split", "aotp_walls_sorted"])
def test_tokens_are_the_prompt_and_the_path_walked_so_far(scheme: str) -> None:
    env = MazeEnv(shape=(4, 5), obs_mode="tokens", token_scheme=scheme)
    vocab = env._encoder.vocab
    assert env.observation_space == gym.spaces.Box(
        0, len(vocab) - 1, (env._encoder.length,), np.int32
    )
    obs, info = env.reset(seed=2)
    rng = np.random.default_rng(0)
    for _ in range(120):
        parsed = parse(vocab.decode(obs, strip_padding=True), shape=(4, 5))
        unfinished = [p for p in parsed.problems if not p.startswith("path ends at")]
        assert not unfinished, parsed.problems  # a path under way does not end at the target yet
        task = env.task
        assert (parsed.maze, parsed.origin, parsed.target) == (task.maze, task.origin, task.target)
        assert parsed.path == env.path
        assert (obs[len(vocab.decode(obs, strip_padding=True)) :] == vocab.pad_id).all()
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        if terminated or truncated:
            obs, _ = env.reset()


def test_tokens_row_fits_the_longest_episode() -> None:
    env = MazeEnv(shape=(2, 3), obs_mode="tokens", max_steps=50)
    env.reset(options={"task": SNAKE})
    for _ in range(25):
        obs, *_ = env.step(Action.RIGHT)
        obs, *_ = env.step(Action.LEFT)
    parsed = decode(env, obs)
    assert len(parsed.path) == 51 and obs[-1] == env._encoder.vocab.pad_id


def test_tokens_edge_order_is_random_per_episode_but_seeded() -> None:
    env = MazeEnv(obs_mode="tokens", mazes=[SNAKE.maze], target="corner:br")
    a = env.reset(seed=0)[0]
    b = env.reset()[0]
    assert (a != b).any() and decode(env, a).maze == decode(env, b).maze == SNAKE.maze
    assert (env.reset(seed=0)[0] == a).all()


def test_tokens_follow_set_target() -> None:
    env = MazeEnv(shape=(2, 3), obs_mode="tokens")
    env.reset(options={"task": SNAKE})
    env.step(Action.RIGHT)
    env.set_target((0, 2))
    obs, *_ = env.step(Action.LEFT)
    parsed = decode(env, obs)
    assert parsed.target == (0, 2) and parsed.path == [(0, 0), (0, 1), (0, 0)]


def test_tokens_vocabulary_must_cover_the_grid() -> None:
    env = MazeEnv(shape=(3, 3), obs_mode="tokens", vocab=Vocabulary((8, 8)))
    assert env.observation_space.high.max() == len(Vocabulary((8, 8))) - 1
    with pytest.raises(
        ValueError, match=r"mazes up to 9x9 need a vocabulary with max_shape >= \(9, 9\)"
    ):
        MazeEnv(shape=(9, 9), obs_mode="tokens", vocab=Vocabulary((8, 8)))
    with pytest.raises(ValueError, match="vocabulary"):
        TokensObservation(MazeEnv(shape=[(3, 3), (9, 2)]), vocab=Vocabulary((8, 8)))


def test_tokens_wrapper_equals_the_native_mode() -> None:
    native = MazeEnv(shape=[(3, 3), (4, 5)], obs_mode="tokens")
    wrapped = TokensObservation(MazeEnv(shape=[(3, 3), (4, 5)]))
    assert wrapped.observation_space == native.observation_space
    for x, y in zip(walk(native, 3, 200), walk(wrapped, 3, 200), strict=True):
        assert (x == y).all()


# -- rgb ------------------------------------------------------------------------------------------------
def test_rgb_is_the_rendered_maze_target_and_agent() -> None:
    env = MazeEnv(shape=(6, 6), obs_mode="rgb")
    enc = env._encoder
    assert min(env.observation_space.shape[:2]) >= 36 and env.observation_space.dtype == np.uint8
    obs, _ = env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(100):
        expected = draw_frame(
            env.task.maze, agent=env.agent, target=env.task.target, cell_px=enc.cell_px
        )
        assert (obs == expected).all()
        obs, _, terminated, truncated, _ = env.step(int(rng.integers(4)))
        if terminated:
            expected = draw_frame(
                env.task.maze, agent=env.agent, target=env.task.target, cell_px=enc.cell_px
            )
            assert (obs == expected).all()  # the agent drawn over the target
        if terminated or truncated:
            obs, _ = env.reset()


def test_rgb_pads_smaller_mazes_with_wall_colour() -> None:
    env = MazeEnv(shape=[(2, 3), (5, 5)], obs_mode="rgb", rgb_cell_px=6)
    obs, _ = env.reset(options={"task": SNAKE})
    frame = draw_frame(SNAKE.maze, agent=SNAKE.origin, target=SNAKE.target, cell_px=6)
    h, w = frame.shape[:2]
    assert (obs[:h, :w] == frame).all()
    assert (obs[h:] == WALL).all() and (obs[:, w:] == WALL).all()


def test_rgb_wrapper_equals_the_native_mode() -> None:
    native = MazeEnv(shape=(4, 4), obs_mode="rgb")
    wrapped = RGBObservation(MazeEnv(shape=(4, 4)))
    for x, y in zip(walk(native, 5, 150), walk(wrapped, 5, 150), strict=True):
        assert (x == y).all()


def test_wrappers_need_a_maze_env() -> None:
    with pytest.raises(TypeError, match="MazeEnv underneath"):
        TokensObservation(gym.make("CartPole-v1"))

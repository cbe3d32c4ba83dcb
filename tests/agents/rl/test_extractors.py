"""Maze feature extractors: shapes at several sizes, the cell graph, VIN planning, policies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from agents.rl.extractors import (
    EXTRACTORS,
    MazeCNN,
    MazeDeepThink,
    MazeTokenTransformer,
    MazeVIN,
    cell_features,
    get_extractor,
)
from agents.rl.policies import MazeCnnPolicy, maze_policy_kwargs
from maze_env import Task, generate_batch
from maze_env.sb3 import MazeVecEnvAdapter
from maze_env.solve import shortest_path
from maze_env.types import action_between

GRID = ["cnn", "fcn", "deepthink", "vin"]


def _obs(
    shape: tuple[int, int], n: int = 3, **kw: object
) -> tuple[MazeVecEnvAdapter, torch.Tensor]:
    env = MazeVecEnvAdapter(num_envs=n, seed=1, shape=shape, **kw)
    return env, torch.as_tensor(env.reset())


@pytest.mark.parametrize("name", GRID)
@pytest.mark.parametrize("shape", [(3, 3), (6, 6), (5, 9)])
def test_grid_extractors_give_features_dim_at_every_size(name: str, shape: tuple[int, int]) -> None:
    env, obs = _obs(shape, visited=True)
    ext = EXTRACTORS[name](env.observation_space)
    out = ext(obs)
    assert out.shape == (3, ext.features_dim) and torch.isfinite(out).all()


@pytest.mark.parametrize("name", ["fcn", "deepthink", "vin"])
def test_size_independent_extractors_run_unchanged_on_larger_mazes(name: str) -> None:
    env6, _ = _obs((6, 6))
    ext = EXTRACTORS[name](env6.observation_space)
    assert ext.size_independent
    _, obs12 = _obs((12, 12))
    assert ext(obs12).shape == (3, ext.features_dim)


def test_cnn_is_tied_to_one_size() -> None:
    env6, _ = _obs((6, 6))
    _, obs8 = _obs((8, 8))
    ext = MazeCNN(env6.observation_space)
    assert not ext.size_independent
    with pytest.raises(RuntimeError):
        ext(obs8)


def test_cell_features_open_bits_match_the_maze() -> None:
    env, obs = _obs((5, 7), n=4)
    x, opened = cell_features(obs.float())
    for i in range(4):
        maze = env.venv.task(i).maze
        assert np.array_equal(opened[i].permute(1, 2, 0).numpy().astype(bool), maze.open_moves())
        assert x[i, 1].sum() == 1 and x[i, 2].sum() == 1  # one agent cell, one target cell


def test_vin_with_set_weights_follows_shortest_paths_at_any_size() -> None:
    env, _ = _obs((6, 6))
    vin = MazeVIN(env.observation_space)
    with torch.no_grad():  # reward 10 at the target, -1000 elsewhere, cost 1 per move everywhere
        vin.reward.weight.zero_()
        vin.reward.bias.fill_(-1000.0)
        vin.reward.weight[0, 2] = 1010.0
        vin.cost.weight.zero_()
        vin.cost.bias.fill_(float(np.log(np.e - 1)))  # softplus -> 1
    for shape in [(6, 6), (11, 13)]:
        env, obs = _obs(shape, n=8)
        feats = vin(obs)
        for i in range(8):
            task = env.venv.task(i)
            path = shortest_path(task.maze, task.origin, task.target)
            best = int(feats[i, 0:8:2].argmax())  # directional layout: (diff, open) per move
            assert best == int(action_between(path[0], path[1]))
            assert feats[i, 10].item() == pytest.approx(len(path) - 1, abs=1e-3)  # distance


def _set_vin(vin: MazeVIN, floor: float) -> None:
    """Reward 10 at the target and ``floor`` elsewhere; cost 1 a move everywhere."""
    with torch.no_grad():
        vin.reward.weight.zero_()
        vin.reward.bias.fill_(floor)
        vin.reward.weight[0, 2] = 10.0 - floor
        vin.cost.weight.zero_()
        vin.cost.bias.fill_(float(np.log(np.e - 1)))


def test_vin_peak_reward_propagates_past_the_learned_floor() -> None:
    """With a floor only 5 below the target's reward, values flatten 5 moves out ("learned");
    keeping only the peak's reward ("peak") points along the shortest path at any distance."""
    env, obs = _obs((9, 9), n=16)
    vin = MazeVIN(env.observation_space)
    _set_vin(vin, floor=5.0)
    far = []
    for i in range(16):
        task = env.venv.task(i)
        path = shortest_path(task.maze, task.origin, task.target)
        if len(path) - 1 > 8:
            far.append((i, int(action_between(path[0], path[1]))))
    assert len(far) >= 3
    feats = vin(obs)
    flat = [i for i, _ in far if torch.allclose(feats[i, 0:8:2], torch.zeros(4))]
    assert flat == [i for i, _ in far]  # beyond the floor every move looks the same
    vin.reward_mode = "peak"
    feats = vin(obs)
    for i, action in far:
        assert int(feats[i, 0:8:2].argmax()) == action
        assert feats[i, 9].item() == pytest.approx(5.0)  # the agent's own reward is unchanged


def test_vin_stops_at_its_fixed_point_without_changing_values() -> None:
    env, obs = _obs((7, 7), n=4)
    vin = MazeVIN(env.observation_space)
    _set_vin(vin, floor=-1000.0)
    with torch.no_grad():
        stopped = vin(obs)  # inference: stops once the values stop changing
    full = vin(obs).detach()  # with gradients: every iteration runs
    assert torch.equal(stopped, full)


def test_iterations_can_be_raised_at_test_time() -> None:
    env, obs = _obs((6, 6))
    dt = MazeDeepThink(env.observation_space, width=8, iterations=3)
    a = dt(obs)
    dt.test_iterations = 30
    b = dt(obs)
    assert dt.n_iterations(6, 6) == 30 and not torch.allclose(a, b)
    with pytest.raises(ValueError, match="iterations"):
        MazeDeepThink(env.observation_space, iterations=0)


def test_transformer_extractor_reads_tokens() -> None:
    env = MazeVecEnvAdapter(num_envs=2, seed=0, shape=(3, 3), obs_mode="tokens")
    ext = MazeTokenTransformer(env.observation_space, d_model=16, heads=2, layers=1)
    assert ext(torch.as_tensor(env.reset())).shape == (2, 32)
    with pytest.raises(ValueError, match="tokens"):
        MazeTokenTransformer(_obs((3, 3))[0].observation_space)


def test_grid_extractors_refuse_other_observations() -> None:
    env = MazeVecEnvAdapter(num_envs=1, seed=0, shape=(3, 3), obs_mode="tokens")
    with pytest.raises(ValueError, match="grid observation"):
        MazeVIN(env.observation_space)


def test_unknown_extractor_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: mlp, cnn, fcn, deepthink, vin"):
        get_extractor("resnet")
    with pytest.raises(ValueError, match="no argument"):
        maze_policy_kwargs("vin", width=3)


def test_maze_cnn_policy_works_where_cnn_policy_refuses_the_grid() -> None:
    env = MazeVecEnvAdapter(num_envs=2, seed=0, shape=(3, 3))
    with pytest.raises((AssertionError, ValueError)):
        PPO("CnnPolicy", env, device="cpu")
    for policy, kw in [
        (MazeCnnPolicy, {}),
        ("MlpPolicy", {"policy_kwargs": maze_policy_kwargs("vin")}),
    ]:
        model = PPO(policy, env, n_steps=8, batch_size=16, n_epochs=1, device="cpu", seed=0, **kw)
        model.learn(16)
        action, _ = model.predict(env.reset(), deterministic=True)
        assert action.shape == (2,)


def test_maze_generation_helper_is_deterministic() -> None:  # guards the fixtures above
    a = generate_batch("dfs", (4, 4), 2, seed=3)
    b = generate_batch("dfs", (4, 4), 2, seed=3)
    assert a[0] == b[0] and isinstance(Task(a[0], (0, 0), (3, 3)), Task)


@pytest.mark.parametrize("mode", ["learned", "peak"])
@pytest.mark.parametrize("shape", [(6, 6), (9, 13)])
def test_vin_inference_sweep_equals_the_iterated_fixed_point(mode: str, shape: tuple) -> None:
    """At inference the VIN takes its fixed point from a Dijkstra sweep (numba); with random
    weights it equals, bit for bit, what the iteration reaches (run with autograd on)."""
    torch.manual_seed(3)
    env, obs = _obs(shape, n=6)
    vin = MazeVIN(env.observation_space)
    with torch.no_grad():
        vin.reward.weight.normal_()
        vin.cost.weight.normal_()
    vin.reward_mode = mode
    with torch.no_grad():
        swept = vin.values(obs.float())[0]
    iterated = vin.values(obs.float())[0].detach()
    assert torch.equal(swept, iterated)
    vin.test_iterations = 3  # fewer iterations than cells: the iteration itself runs
    with torch.no_grad():
        assert not torch.equal(vin.values(obs.float())[0], swept)


def test_vin_reward_mode_can_be_built_in_from_training() -> None:
    """``extractor_kwargs: {reward_mode: peak}`` (the ``vin_peak`` preset) makes the peak floor
    part of the trained architecture: the same values as switching it on at test time."""
    env, obs = _obs((9, 9), n=8)
    built = MazeVIN(env.observation_space, reward_mode="peak")
    switched = MazeVIN(env.observation_space)
    for vin in (built, switched):
        _set_vin(vin, floor=5.0)
    switched.reward_mode = "peak"
    assert torch.equal(built(obs), switched(obs))
    with pytest.raises(ValueError, match="reward_mode must be 'learned' or 'peak'"):
        MazeVIN(env.observation_space, reward_mode="max")

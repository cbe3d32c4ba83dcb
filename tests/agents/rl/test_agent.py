"""The RL agent: loading checkpoints, batched play, stochastic seeds, size checks, MCTS hooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.rl.agent import load_hooks, make_dqn_agent, make_ppo_agent, read_meta
from agents.rl.rollout import PolicyRunner, evaluate, random_walk_floor
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.sb3 import MazeVecEnvAdapter
from maze_env.solve import shortest_path
from train.rl import RLConfig, train


@pytest.fixture(scope="module")
def vin_ckpt(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("rl") / "ppo_vin_tiny"
    train(RLConfig.preset("tiny"), out)
    return str(out)


@pytest.fixture(scope="module")
def cnn_ckpt(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("rl") / "ppo_cnn_tiny"
    train(RLConfig.preset("tiny").replace(extractor="cnn", total_steps=256, eval_n=5), out)
    return str(out)


def tasks(size: int, n: int = 40, seed: int = 5) -> list:
    return list(MazeDataset.from_config(DatasetConfig(shape=(size, size), n=n, seed=seed)))


def test_agent_plays_batches_like_single_tasks_and_walks_shortest_paths(vin_ckpt: str) -> None:
    agent = make_ppo_agent(ckpt=vin_ckpt)
    assert agent.start_method == "spawn"
    ts = tasks(3)
    batch = agent.solve_batch(ts)
    single = [agent.solve(t) for t in ts[:8]]
    assert [t.cells for t in batch[:8]] == [t.cells for t in single]
    exact = 0
    for task, traj in zip(ts, batch, strict=True):
        assert traj.cells[0] == task.origin and -1 not in traj.actions
        exact += list(traj.cells) == shortest_path(task.maze, task.origin, task.target)
    assert exact >= 0.9 * len(ts)


def test_size_independent_policy_runs_on_larger_mazes(vin_ckpt: str) -> None:
    agent = make_ppo_agent(ckpt=vin_ckpt)
    trajs = agent.solve_batch(tasks(5, n=10))
    assert len(trajs) == 10 and all(t.cells for t in trajs)


def test_observation_space_mismatch_names_both(cnn_ckpt: str) -> None:
    agent = make_ppo_agent(ckpt=cnn_ckpt)
    agent.solve_batch(tasks(3, n=2))
    with pytest.raises(
        ValueError,
        match=r"trained on observations MultiBinary\(3, 7, 7\).*5x5 mazes give MultiBinary\(3, 11, 11\).*not size-independent",
    ):
        agent.solve_batch(tasks(5, n=2))


def test_stochastic_play_is_seeded_per_task(vin_ckpt: str) -> None:
    ts = tasks(3, n=12)
    a = make_ppo_agent(ckpt=vin_ckpt, stochastic=True, seed=1).solve_batch(ts)
    b = make_ppo_agent(ckpt=vin_ckpt, stochastic=True, seed=1).solve_batch(ts[::-1])[::-1]
    assert [t.cells for t in a] == [t.cells for t in b]


def test_wrong_kind_missing_folder_and_bad_iterations(
    vin_ckpt: str, cnn_ckpt: str, tmp_path: Path
) -> None:
    assert read_meta(vin_ckpt)["kind"] == "ppo"
    with pytest.raises(ValueError, match="holds a 'ppo' checkpoint, not 'dqn'"):
        make_dqn_agent(ckpt=vin_ckpt)
    with pytest.raises(FileNotFoundError, match="no such checkpoint folder"):
        make_ppo_agent(ckpt=str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match="no iterations to change"):
        make_ppo_agent(ckpt=cnn_ckpt, iterations=5)
    assert make_ppo_agent(ckpt=vin_ckpt, iterations=50).runner.extractor.test_iterations == 50


def test_hooks_give_the_policy_probabilities_and_values(vin_ckpt: str) -> None:
    prior_fn, value_fn = load_hooks(vin_ckpt)
    ts = tasks(3, n=6)
    cells = np.array([t.origin for t in ts], dtype=np.int64)
    prior = prior_fn(ts, cells, [[t.origin] for t in ts])
    assert prior.shape == (6, 4) and prior.dtype == np.float32
    assert np.allclose(prior.sum(1), 1, atol=1e-5)
    # equal to the policy's probabilities on the env's own first observation
    env = MazeVecEnvAdapter(num_envs=6, shape=(3, 3))
    env.set_options([{"task": t} for t in ts])
    obs = env.reset()
    runner = make_ppo_agent(ckpt=vin_ckpt).runner
    assert np.allclose(prior, runner.probs(obs)[0], atol=1e-5)
    values = value_fn(ts, cells, [[t.origin] for t in ts])
    assert values.shape == (6,) and ((values >= 0) & (values <= 1)).all()
    # the prior points along the shortest path for a trained policy
    best = prior.argmax(1)
    from maze_env.types import action_between

    good = sum(
        best[i] == int(action_between(*shortest_path(t.maze, t.origin, t.target)[:2]))
        for i, t in enumerate(ts)
    )
    assert good >= 5


def test_evaluate_reports_exact_by_length_and_the_random_walk_floor(vin_ckpt: str) -> None:
    agent = make_ppo_agent(ckpt=vin_ckpt)
    ts = tasks(3, n=30)
    res = evaluate(agent.runner, ts, seed=0)
    assert set(res) >= {"success", "exact", "by_length", "random_walk_success", "n"}
    assert sum(v["n"] for v in res["by_length"].values()) == 30
    assert res["random_walk_success"] == random_walk_floor(ts, seed=0)
    assert 0 < res["random_walk_success"] < res["success"]


def test_runner_refuses_unknown_kinds(vin_ckpt: str) -> None:
    with pytest.raises(ValueError, match="kind must be"):
        PolicyRunner(make_ppo_agent(ckpt=vin_ckpt).model, "a2c")


@pytest.mark.parametrize("env_kwargs", [{"visited": True}, {"visited": True, "pad_to": [6, 6]}, {}])
def test_hook_observations_equal_the_envs_after_walking(env_kwargs: dict) -> None:
    from agents.rl.agent import _observations
    from agents.rl.rollout import _env_kwargs_for
    from maze_env.types import ACTION_DELTAS
    from maze_env.vector_env import MazeVectorEnv

    class AnySize:  # a stand-in runner: accepts every observation space
        observation_space = None
        size_independent = True

    ts = tasks(4, n=5)
    kw = _env_kwargs_for((4, 4), env_kwargs)
    venv = MazeVectorEnv(5, autoreset_mode="Disabled", **kw)
    obs, _ = venv.reset(options={"tasks": ts})
    walked = [[t.origin] for t in ts]
    for _ in range(2):
        acts = []
        for t, w in zip(ts, walked, strict=True):
            path = shortest_path(t.maze, w[-1], t.target)
            acts.append(
                int(np.flatnonzero((ACTION_DELTAS == np.subtract(path[1], path[0])).all(1))[0])
                if len(path) > 2
                else 0
            )
        obs, _, _, _, _ = venv.step(np.array(acts))
        for i in range(len(acts)):
            if venv.agent(i) != walked[i][-1]:
                walked[i].append(venv.agent(i))
    AnySize.observation_space = venv.single_observation_space
    cells = np.array([w[-1] for w in walked])
    ((rows, ours),) = _observations(AnySize(), env_kwargs, ts, cells, [w[:-1] for w in walked])
    assert list(rows) == list(range(5)) and np.array_equal(ours, obs)


def test_stopping_loops_changes_no_outcome(vin_ckpt: str) -> None:
    from agents.rl.rollout import rollout

    runner = make_ppo_agent(ckpt=vin_ckpt).runner
    ts = tasks(6, n=30)  # a 3x3-trained policy on 6x6 mazes: some tasks loop
    fast = rollout(runner, ts, stop_loops=True)
    full = rollout(runner, ts, stop_loops=False)
    assert [r.reached for r in fast] == [r.reached for r in full]
    assert any(r.extra.get("loop") for r in fast)
    assert sum(r.steps for r in fast) < sum(r.steps for r in full)


def test_vin_reward_option_reaches_the_extractor_and_names_the_agent(
    vin_ckpt: str, cnn_ckpt: str
) -> None:
    agent = make_ppo_agent(ckpt=vin_ckpt, vin_reward="peak")
    assert agent.runner.extractor.reward_mode == "peak"
    assert agent.name.endswith(",vin_reward=peak") and make_ppo_agent(ckpt=vin_ckpt).name != agent.name
    assert len(agent.solve_batch(tasks(5, n=4))) == 4
    with pytest.raises(ValueError, match="vin_reward must be 'learned' or 'peak'"):
        make_ppo_agent(ckpt=vin_ckpt, vin_reward="max")
    with pytest.raises(ValueError, match="not a VIN"):
        make_ppo_agent(ckpt=cnn_ckpt, vin_reward="peak")

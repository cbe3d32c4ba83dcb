"""train-rl with DQN and RecurrentPPO (tiny budgets: they build, train, save and load)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.rl.agent import load_hooks, make_dqn_agent, make_rppo_agent
from maze_env import Task
from train.rl import RLConfig, train

SNAKE = Task.from_ascii("#######\n#S    #\n##### #\n#E    #\n#######")


@pytest.mark.parametrize(
    ("algo", "extractor", "make"),
    [("dqn", "vin", make_dqn_agent), ("rppo", "cnn", make_rppo_agent)],
)
def test_other_algorithms_train_save_and_play(
    algo: str, extractor: str, make, tmp_path: Path
) -> None:
    cfg = RLConfig.preset("tiny").replace(
        algo=algo, extractor=extractor, shape=[2, 3], total_steps=512, learning_starts=64,
        buffer_size=1000, batch_size=64, eval_n=10,
    )  # fmt: skip
    meta = train(cfg, tmp_path / algo)
    assert meta["kind"] == algo and meta["env_steps"] >= 512
    agent = make(ckpt=str(tmp_path / algo))
    (traj,) = agent.solve_batch([SNAKE])
    assert traj.cells[0] == SNAKE.origin and len(traj.cells) >= 1
    prior_fn, value_fn = load_hooks(str(tmp_path / algo))
    prior = prior_fn(
        [SNAKE, SNAKE], np.array([SNAKE.origin, (0, 2)]), [[SNAKE.origin], [(0, 0), (0, 1), (0, 2)]]
    )
    assert prior.shape == (2, 4) and np.allclose(prior.sum(1), 1, atol=1e-5) and value_fn is None

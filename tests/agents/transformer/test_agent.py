"""agents.transformer.agent: checkpoints load into agents (every mode) and MCTS hooks; bad folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agents.registry import make_agent
from agents.transformer.agent import TransformerAgent, load_hooks, load_model
from maze_env.dataset import DatasetConfig, MazeDataset
from train.transformer import TrainConfig, train


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt")
    c = TrainConfig(
        out_dir=str(out), train_sets=[{"generator": "dfs", "shape": [3, 3], "n": 32, "seed": 5}],
        eval_sets=[{"generator": "dfs", "shape": [3, 3], "n": 4, "seed": 6}], n_layer=1, n_head=2,
        d_model=16, batch_size=8, max_steps=2, eval_every=2, eval_n=4, eval_beam_n=0,
        progress=False, tensorboard=False, threads=1, n_ctx=48,
    )  # fmt: skip
    meta = train(c, out, progress=False, command="pytest")
    assert meta["kind"] == "transformer" and meta["selection"]["rule"] == "last"
    return out


def tasks() -> list:
    return list(MazeDataset.from_config(DatasetConfig(shape=(3, 3), n=5, seed=11)))


@pytest.mark.parametrize("decode", ["greedy", "constrained", "beam", "sample"])
def test_every_mode_returns_a_trajectory_per_task(ckpt: Path, decode: str) -> None:
    agent = make_agent(f"transformer:ckpt={ckpt},decode={decode},k=2")
    assert isinstance(agent, TransformerAgent) and agent.start_method == "spawn"
    ts = tasks()
    out = agent.solve_batch(ts)
    assert len(out) == len(ts)
    for task, traj in zip(ts, out, strict=True):
        assert traj.cells[0] == task.origin
        assert isinstance(traj.extra["problems"], list)
        if decode == "constrained":  # only moves through passages
            assert all(
                task.maze.has_passage(a, b)
                for a, b in zip(traj.cells, traj.cells[1:], strict=False)
            )
    assert agent.solve(ts[0]).cells == out[0].cells


def test_hooks_give_a_move_distribution(ckpt: Path) -> None:
    from agents.checkpoint import load_hooks as dispatch

    prior_fn, value_fn = load_hooks(str(ckpt))
    assert value_fn is None
    ts = tasks()
    cells = np.array([t.origin for t in ts])
    p = prior_fn(ts, cells, [[t.origin] for t in ts])
    assert p.shape == (5, 4) and p.dtype == np.float32
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)
    p2 = dispatch(str(ckpt))[0](ts, cells, [[t.origin] for t in ts])
    np.testing.assert_array_equal(p, p2)
    assert json.loads((ckpt / "meta.json").read_text())["kind"] == "transformer"


def test_bad_checkpoints_give_clear_errors(tmp_path: Path, ckpt: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_model(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        load_model(tmp_path / "empty")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((ckpt / "config.json").read_text())
    (bad / "model.safetensors").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="corrupt transformer checkpoint"):
        load_model(bad)
    with pytest.raises(ValueError, match="decode must be one of"):
        TransformerAgent(ckpt=str(ckpt), decode="nucleus")

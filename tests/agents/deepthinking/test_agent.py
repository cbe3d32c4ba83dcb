"""The deepthinking agent: loading, bad input, batched solving over mixed shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from agents.deepthinking.agent import AUTO_ITERS, DeepThinkingAgent, auto_iters
from agents.deepthinking.model import DTConfig, DTNet
from agents.deepthinking.weights import save_weights
from agents.harness.metrics import judge_trajectory
from maze_env.dataset import DatasetConfig, MazeDataset


@pytest.fixture()
def ckpt(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    folder = tmp_path / "dt"
    folder.mkdir()
    save_weights(DTNet(DTConfig(width=4, head_width=4, gate=True)), folder / "model.safetensors")
    (folder / "meta.json").write_text(
        json.dumps({"kind": "deepthinking", "n_iter_auto": {"min": 3, "per_cell": 0.1}})
    )
    return folder


def test_solve_batch_keeps_order_and_groups_shapes(ckpt: Path) -> None:
    tasks = []
    for shape, seed in [((4, 4), 1), ((6, 5), 2), ((4, 4), 3)]:
        tasks += list(MazeDataset.from_config(DatasetConfig(shape=shape, n=3, seed=seed)))
    agent = DeepThinkingAgent(ckpt=str(ckpt), batch_size=2)
    trajs = agent.solve_batch(tasks)
    assert len(trajs) == len(tasks)
    for task, traj in zip(tasks, trajs, strict=False):
        assert traj.cells[0] == task.origin
        judged = judge_trajectory(task, traj)
        assert judged.invalid_kind is None  # the walker never crosses a wall
        assert traj.extra["n_iter"] == auto_iters(task.maze.shape, {"min": 3, "per_cell": 0.1})
        assert traj.extra["stop"] in ("target", "dead_end", "loop")
        assert traj.gave_up == (traj.extra["stop"] != "target")
    alone = agent.solve(tasks[4])  # a batch of one gives the same walk as inside a batch
    assert (alone.cells, alone.extra) == (trajs[4].cells, trajs[4].extra)


def test_fixed_n_iter_and_auto_rule(ckpt: Path) -> None:
    task = next(iter(MazeDataset.from_config(DatasetConfig(shape=(5, 5), n=1, seed=0))))
    assert DeepThinkingAgent(ckpt=str(ckpt), n_iter=7).solve(task).extra["n_iter"] == 7
    assert auto_iters((64, 64)) == max(
        AUTO_ITERS["min"], round(AUTO_ITERS["per_cell"] * 4096 + 0.4999)
    )


def test_bad_inputs(ckpt: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        DeepThinkingAgent(ckpt=str(tmp_path / "missing"))
    from agents.registry import make_agent

    with pytest.raises(ValueError, match="ckpt"):
        make_agent("deepthinking:n_iter=5")
    for bad in (0, -3, "lots", 2.5, True):
        with pytest.raises(ValueError, match="n_iter"):
            DeepThinkingAgent(ckpt=str(ckpt), n_iter=bad)
    with pytest.raises(ValueError, match="batch_size"):
        DeepThinkingAgent(ckpt=str(ckpt), batch_size=0)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        DeepThinkingAgent(ckpt=str(empty))
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "model.safetensors").write_bytes(b"\x00" * 40)
    with pytest.raises(ValueError, match="cannot read"):
        DeepThinkingAgent(ckpt=str(corrupt))
    (ckpt / "meta.json").write_text(json.dumps({"kind": "ppo"}))
    with pytest.raises(ValueError, match="not deepthinking"):
        DeepThinkingAgent(ckpt=str(ckpt))
    (ckpt / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="corrupt"):
        DeepThinkingAgent(ckpt=str(ckpt))


def test_built_by_name_from_a_spec(ckpt: Path) -> None:
    from agents.registry import make_agent

    agent = make_agent(f"deepthinking:ckpt={ckpt},n_iter=5,batch_size=8")
    assert isinstance(agent, DeepThinkingAgent)
    assert agent.n_iter == 5 and agent.batch_size == 8
    assert DeepThinkingAgent.start_method == "spawn"
    # the name tells two checkpoints (and a fixed iteration count) apart in a report
    assert agent.name == f"deepthinking:{ckpt.name},n_iter=5"
    assert make_agent(f"deepthinking:ckpt={ckpt}").name == f"deepthinking:{ckpt.name}"

"""agents.interp: probes on planted features and noise, controls, self-patching, the report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from agents.interp import activations as acts
from agents.interp.edits import dt_target_move, edit, new_targets
from agents.interp.pipeline import cell_probes, suite_tasks
from agents.interp.probes import control_labels, probe, split_by_maze
from agents.interp.report import write_report
from agents.interp.truth import truth_of

torch.set_num_threads(1)


def _fake(n_mazes: int = 60, rows: int = 20, f: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_mazes * rows, f))
    groups = np.repeat(np.arange(n_mazes), rows)
    return rng, X, groups


def test_probe_recovers_a_planted_linear_feature_and_not_noise():
    rng, X, groups = _fake()
    _, test = split_by_maze(60)
    w = rng.normal(size=X.shape[1])
    y_real = X @ w + 0.1 * rng.normal(size=len(X))
    assert probe(X, y_real, groups, "r2", test).score > 0.95
    assert probe(X, y_real > 0, groups, "balanced_accuracy", test).score > 0.9
    noise = rng.normal(size=len(X))
    s = probe(X, noise, groups, "r2", test)
    assert s.score < 0.05 and s.low <= 0.05
    b = probe(X, noise > 0, groups, "balanced_accuracy", test)
    assert abs(b.score - 0.5) < 0.06 and b.low < 0.5 + 1e-9 < b.high + 0.06


def test_multi_output_probe_and_interval_contains_score():
    rng, X, groups = _fake(n_mazes=200, rows=1, f=6)
    _, test = split_by_maze(200)
    Y = np.stack([X[:, 0] > 0.5, X[:, 1] < 0, rng.normal(size=200) > 0], axis=1)
    s = probe(X, Y, groups, "balanced_accuracy", test)
    assert 0.7 < s.score < 0.95  # two readable outputs, one noise: mean of ~1, ~1, ~0.5
    assert s.low <= s.score <= s.high and (s.n_train, s.n_test) == (140, 60)


def test_split_is_by_maze_and_control_labels_are_consistent_per_type():
    train, test = split_by_maze(10)
    assert not set(train) & set(test) and len(train) + len(test) == 10
    y = np.arange(100) % 7
    types = np.arange(100) % 5
    c = control_labels(y, types, seed=3)
    for t in range(5):
        assert len(set(c[types == t])) == 1
    assert set(c) <= set(y)


@pytest.fixture(scope="module")
def tasks():
    return suite_tasks("size_4", 24)


def _tiny_dt():
    from agents.deepthinking.model import DTConfig, DTNet

    torch.manual_seed(0)
    return acts.Model("deepthinking", DTNet(DTConfig(width=8, stride=2, mixer="graph")).eval())


def test_random_models_score_at_control_level(tasks):
    truth = truth_of(tasks)
    _, test = split_by_maze(truth.n)
    a, b = _tiny_dt(), acts.random_init(_tiny_dt(), seed=5)
    S, Sr = acts.dt_states(a.net, tasks, [0, 3]), acts.dt_states(b.net, tasks, [0, 3])
    assert S.shape == (2, 24, 4, 4, 8)
    recs = cell_probes("state", [0, 3], S, Sr, truth, test)
    for r in recs:  # two untrained nets: neither is far from the other
        assert abs(r["score"] - r["control_random_init"]) < 0.25
        assert r["metric"] == ("r2" if r["target"] == "distance" else "balanced_accuracy")


def test_dt_self_patch_changes_nothing(tasks):
    net = _tiny_dt().net
    x = torch.from_numpy(acts.dt_input(tasks))
    with torch.inference_mode():
        whole, _ = net(x, 6)
        _, h = net(x, 3)
        rest, _ = net(x, 3, state=h)  # patched with its own state after 3 iterations
    assert torch.equal(whole, rest)
    recs = dt_target_move(net, tasks, 6, [3])
    unedited = next(r for r in recs if r.kind == "dt_unedited")
    patched = next(r for r in recs if r.kind == "dt_self_patch")
    assert (unedited.k, unedited.n) == (patched.k, patched.n)


def test_vin_values_match_the_extractor_and_edits_are_sane(tasks):
    import gymnasium as gym

    from agents.rl.extractors import MazeVIN

    ext = MazeVIN(gym.spaces.MultiBinary([3, 9, 9])).eval()
    obs = acts.grid_obs(tasks, None, 3)
    mine = acts.vin_values(ext, obs, [16])[0]
    with torch.no_grad():
        v, *_ = ext.values(torch.from_numpy(obs))
    np.testing.assert_allclose(mine[..., 0], v[:, 0].numpy(), atol=1e-4)
    # patching the reward map with itself changes nothing
    same = acts.vin_values(ext, obs, [16], reward_hook=lambda r: r.clone())
    np.testing.assert_array_equal(same[0], mine)
    goals = new_targets(tasks)
    assert all(tuple(g) not in (t.origin, t.target) for g, t in zip(goals, tasks, strict=True))
    e = edit("x", np.array([True, False, True, True]))
    assert e.k == 3 and e.n == 4 and e.low < 0.75 < e.high


def test_report_writes_json_md_and_figures(tmp_path):
    rec = {
        "checkpoint": "ck", "kind": "deepthinking", "suite": "s", "n": 10, "shape": [4, 4],
        "seed": 0, "heads": [],
        "probes": [{"target": "on_path", "site": "state", "layer": i, "j": None, "score": 0.9,
                    "low": 0.8, "high": 0.95, "metric": "balanced_accuracy",
                    "control_random_init": 0.5, "control_shuffled": 0.6, "n_train": 7,
                    "n_test": 3} for i in (0, 1, 2)],
        "interventions": [edit("dt_target_move", np.array([True, False]), 3).to_dict()],
    }  # fmt: skip
    paths = write_report(rec, tmp_path)
    assert json.loads(paths["json"].read_text())["probes"][0]["control_shuffled"] == 0.6
    assert (tmp_path / "figures" / "probe_state_on_path.png").stat().st_size > 1000
    assert "dt_target_move" in paths["md"].read_text()


def test_cli_refuses_bad_input_in_one_line(tmp_path, capsys):
    from train.cli import main

    assert main(["inspect", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such checkpoint folder" in err[0]
    ckpt = Path(__file__).resolve().parents[3] / "checkpoints" / "transformer_tiny"
    assert main(["inspect", str(ckpt), "--out", str(tmp_path / "o"), "--ahead", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ahead 0" in err[0] and "1..10" in err[0]
    assert not (tmp_path / "o").exists()

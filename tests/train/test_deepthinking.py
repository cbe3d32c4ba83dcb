"""train-dt: configs, the progressive loss, atomic checkpoints, resume == uninterrupted, the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from train.deepthinking import (
    PRESETS,
    DTTrainConfig,
    load_weights,
    lr_at,
    main,
    make_batch,
    progressive_loss,
)


def _tiny(out: Path, **kw: object) -> DTTrainConfig:
    """The tiny preset, cut down further for tests: one small set, 16 tasks."""
    base = dict(training_sets=["dt_dfs_5"], n_per_set=16, eval_n=2, eval_sizes=[5], eval_iters=[4])
    return DTTrainConfig.preset("tiny", out_dir=str(out), **{**base, **kw})


def _log(out: Path) -> list[dict]:
    rows = [json.loads(ln) for ln in (out / "log.jsonl").read_text().splitlines() if ln.strip()]
    # the training curve only: a cut run also validates at its last step
    return [{k: v for k, v in r.items() if k.startswith("train/") or k == "step"} for r in rows]


def test_resume_equals_uninterrupted(tmp_path: Path) -> None:
    whole = _tiny(tmp_path / "whole", steps=4)
    main(whole, progress=False)
    cut = _tiny(tmp_path / "cut", steps=2)
    main(cut, progress=False)
    main(_tiny(tmp_path / "cut", steps=4), resume=True, progress=False)
    a = load_file(str(tmp_path / "whole" / "model.safetensors"))
    b = load_file(str(tmp_path / "cut" / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    assert _log(tmp_path / "whole") == _log(tmp_path / "cut")
    opt_a = load_file(str(tmp_path / "whole" / "checkpoint" / "optimizer.safetensors"))
    opt_b = load_file(str(tmp_path / "cut" / "checkpoint" / "optimizer.safetensors"))
    for k in opt_a:
        torch.testing.assert_close(opt_a[k], opt_b[k], rtol=0, atol=0)
    meta = json.loads((tmp_path / "cut" / "meta.json").read_text())
    assert meta["kind"] == "deepthinking" and meta["steps"] == 4
    assert not list((tmp_path / "cut").glob(".checkpoint.*"))  # no temp folders left


def test_resume_refuses_missing_or_different_runs(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        main(_tiny(tmp_path / "none", steps=2), resume=True, progress=False)
    main(_tiny(tmp_path / "run", steps=2), progress=False)
    with pytest.raises(ValueError, match="already holds a checkpoint"):
        main(_tiny(tmp_path / "run", steps=2), progress=False)
    with pytest.raises(ValueError, match="differs"):
        main(_tiny(tmp_path / "run", steps=4, lr=0.5), resume=True, progress=False)


def test_weights_round_trip_and_corrupt_files(tmp_path: Path) -> None:
    main(_tiny(tmp_path / "run", steps=1), progress=False)
    net = load_weights(tmp_path / "run" / "model.safetensors")
    assert net.config.width == PRESETS["tiny"]["model"]["width"]
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="cannot read"):
        load_weights(bad)
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "missing.safetensors")


def test_batches_mix_sizes_padded_with_walls(tmp_path: Path) -> None:
    from train.deepthinking import load_training_sets

    cfg = _tiny(tmp_path, training_sets=["dt_dfs_5", "dt_dfs_7"])
    sets = load_training_sets(cfg)
    x, y, mask = make_batch(sets, np.random.default_rng(0), 16)
    assert x.shape == (16, 3, 15, 15)
    small = [b for b in range(16) if x[b, 0, 11:, :].all()]  # 5x5 mazes padded to 7x7
    assert 0 < len(small) < 16
    assert (y * (1 - mask)).sum() == 0  # path pixels are open
    assert (x[:, 1].flatten(1).sum(1) == 1).all() and (x[:, 2].flatten(1).sum(1) == 1).all()


def test_progressive_loss_draws_n_and_k_within_max_iters(tmp_path: Path) -> None:
    from agents.deepthinking.model import DTNet
    from train.deepthinking import load_training_sets

    cfg = _tiny(tmp_path, max_iters=5, alpha=0.5)
    sets = load_training_sets(cfg)
    rng = np.random.default_rng(1)
    net = DTNet(cfg.model)
    seen = set()
    for _ in range(30):
        x, y, mask = make_batch(sets, rng, 2)
        loss, parts = progressive_loss(net, x, y, mask, cfg, rng)
        assert 0 <= parts["n"] < 5 and 1 <= parts["k"] <= 5 - parts["n"]
        assert parts["loss"] == pytest.approx(
            0.5 * parts["loss_full"] + 0.5 * parts["loss_progressive"], rel=1e-5
        )
        seen.add(parts["n"])
    assert len(seen) > 2
    loss.backward()
    assert net.project.weight.grad is not None


def test_warm_iters_grade_states_after_more_iterations_than_max_iters(tmp_path: Path) -> None:
    from agents.deepthinking.model import DTNet
    from train.deepthinking import load_training_sets

    cfg = _tiny(tmp_path, max_iters=6, warm_iters=20, alpha=1.0)
    sets = load_training_sets(cfg)
    rng = np.random.default_rng(2)
    net = DTNet(cfg.model)
    ns = []
    for _ in range(60):
        x, y, mask = make_batch(sets, rng, 2)
        _, parts = progressive_loss(net, x, y, mask, cfg, rng)
        n, k = parts["n"], parts["k"]
        assert 0 <= n < 26
        assert 1 <= k <= (6 - n if n < 6 else 3)
        ns.append(n)
    assert max(ns) >= 6  # some states are graded after more than max_iters iterations
    with pytest.raises(ValueError, match="warm_iters must be an int >= 0"):
        dataclasses.replace(cfg, warm_iters=-1)


def test_config_validation_and_yaml(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("steps: 7\nmodel: {width: 12, gate: true}\n")
    cfg = DTTrainConfig.from_yaml(path)
    assert cfg.steps == 7 and cfg.model.width == 12 and cfg.model.gate
    with pytest.raises(ValueError, match="unknown deepthinking config key"):
        DTTrainConfig.from_dict({"stepz": 3})
    with pytest.raises(ValueError, match="alpha"):
        DTTrainConfig(alpha=1.5)
    with pytest.raises(ValueError, match="unknown deepthinking preset"):
        DTTrainConfig.preset("huge")
    with pytest.raises(ValueError, match="unknown training set"):
        main(_tiny(tmp_path / "x", training_sets=["nope"]), progress=False)
    cfg = DTTrainConfig(steps=100, warmup_steps=10, lr=1.0)
    assert lr_at(0, cfg) == pytest.approx(0.1) and lr_at(9, cfg) == pytest.approx(1.0)
    assert lr_at(99, cfg) < 0.1


def test_cli_trains_with_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from train import cmd_train_dt

    parser = argparse.ArgumentParser()
    cmd_train_dt.add_parser(parser.add_subparsers())
    out = tmp_path / "cli"
    args = parser.parse_args(
        [
            "train-dt",
            "--preset",
            "tiny",
            "--set",
            "steps=1",
            "--set",
            "training_sets=[dt_dfs_5]",
            "--set",
            "n_per_set=8",
            "--set",
            "eval_n=2",
            "--set",
            "model.width=4",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert args.func(args) == 0
    assert load_weights(out / "model.safetensors").config.width == 4
    assert "1 steps" in capsys.readouterr().out
    from train.config_args import apply_set

    with pytest.raises(ValueError, match="KEY=VALUE"):
        apply_set({}, "steps")
    with pytest.raises(ValueError, match="model is not a mapping"):
        apply_set({"model": 3}, "model.width=4")
    nested: dict = {"model": {"width": 8}}
    apply_set(nested, "model.width=16")
    assert nested == {"model": {"width": 16}}


def test_best_validation_weights_are_kept_and_survive_a_resume(tmp_path: Path) -> None:
    from train.deepthinking import val_score

    both = {"val/exact_9x9_it60": 0.9, "val/exact_32x32_it600": 0.2}
    assert val_score(both, max_side=32) == (0.2, 0.55)
    assert val_score(both, max_side=9) == (0.9, 0.9)  # 32x32 is off distribution: never ranks
    assert val_score(both, max_side=6) is None
    out = tmp_path / "run"
    main(_tiny(out, steps=2, eval_every=1, eval_sizes=[3, 5, 7], eval_iters=[2, 4, 4]),
         progress=False)  # fmt: skip
    best = json.loads((out / "best" / "best.json").read_text())
    assert best["step"] in (1, 2) and "val/exact_5x5_it4" in best
    assert load_weights(out / "best" / "model.safetensors").config == _tiny(out).model
    # a resume may change how often it validates (the weights' path does not depend on it)
    main(_tiny(out, steps=4, eval_every=2, eval_sizes=[3, 5, 7], eval_iters=[2, 4, 4]), resume=True,
         progress=False)  # fmt: skip
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["best"][2] == json.loads((out / "best" / "best.json").read_text())["step"]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["best_step"] == state["best"][2]
    assert meta["selection"]["rule"] == "last" and meta["selection"]["in_distribution"]
    assert meta["n_iter_auto"]["per_cell"] == round(4 / 25, 4)  # tiny: max_iters=4 at 5x5
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"


def test_validation_beyond_the_training_sizes_keeps_no_best(tmp_path: Path) -> None:
    """A validation size larger than every training maze is a curve, never a selection."""
    out = tmp_path / "run"
    main(_tiny(out, steps=2, eval_every=1, eval_sizes=[7], eval_iters=[4]), progress=False)
    assert "val/exact_7x7_it4" in json.loads((out / "log.jsonl").read_text().splitlines()[-1])
    assert not (out / "best").exists()
    assert json.loads((out / "meta.json").read_text())["best_step"] is None

"""train-rl: config checks, a tiny PPO run that learns, the run folder, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from train.rl import ALGOS, PRESETS, RLConfig, train


def tiny(**changes: object) -> RLConfig:
    return RLConfig.preset("tiny").replace(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"algo": "a3c"}, r"algo: unknown algorithm 'a3c'; known: ppo, dqn, rppo"),
        ({"extractor": "resnet"}, r"extractor: unknown extractor 'resnet'; known: mlp, cnn, fcn"),
        ({"extractor_kwargs": {"depth": 3}}, r"extractor_kwargs: .*no argument"),
        ({"training_set": "nope"}, r"training_set: unknown training set 'nope'; known: .*default"),
        ({"total_steps": -5}, r"total_steps: must be a positive int, got -5"),
        (
            {"n_steps": 4, "n_envs": 2, "batch_size": 64},
            r"batch_size: n_steps x n_envs = 4 x 2 = 8 is smaller than batch_size=64",
        ),
        ({"learning_rate": 0.0}, r"learning_rate: must be in \(0, 1\]"),
        ({"shaping": -1.0}, r"shaping: must be a number >= 0"),
        (
            {"curriculum": [{"steps": 10, "size": 4}]},
            r"curriculum\[0\]: unknown key\(s\) \['size'\]",
        ),
    ],
)
def test_bad_config_values_fail_before_training_naming_the_field(
    changes: dict, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match=message):  # checked when the config is made
        train(tiny(**changes), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_unknown_fields_and_presets_list_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown rl config key.*'lr'.*allowed:.*learning_rate"):
        RLConfig.from_dict({"lr": 1e-3})
    with pytest.raises(ValueError, match="unknown rl preset 'huge'; known: vin, vin_peak, vin_peak_warm, vin_mix8, deepthink"):
        RLConfig.preset("huge")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"algo": "dqn", "total_steps": 10}))
    cfg = RLConfig.from_yaml(path)
    assert cfg.algo == "dqn" and cfg.total_steps == 10


def test_every_preset_is_valid() -> None:
    for name in PRESETS:
        assert RLConfig.preset(name).algo in ALGOS


def test_cli_reports_bad_values_as_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from train.cli import main

    code = main(["train-rl", "--preset", "tiny", "--set", "algo=sac", "--out", str(tmp_path / "r")])
    assert code != 0
    assert "mazebench train-rl: error: algo: unknown algorithm 'sac'" in capsys.readouterr().err


def test_tiny_ppo_learns_3x3_mazes_and_writes_the_run_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    meta = train(tiny(), out, command="test")
    for f in (
        "config.yaml",
        "meta.json",
        "curve.jsonl",
        "model.zip",
        "best_model.zip",
        "last_model.zip",
    ):
        assert (out / f).is_file(), f
    assert any((out / "tb").rglob("events.out.tfevents*")) and (out / "curve.png").is_file()
    saved = json.loads((out / "meta.json").read_text())
    assert saved == meta
    assert meta["kind"] == "ppo" and meta["env_steps"] == 8192 and meta["reward"] == "sparse"
    assert {"name", "training_set", "command", "cpu_minutes"} <= set(meta)
    e = meta["best_eval"]["eval"]
    # a random walk solves about half of these 3x3 tasks; the trained policy walks shortest paths
    assert e["random_walk_success"] < 0.7 and e["exact"] >= 0.9 and e["success"] >= e["exact"]
    assert RLConfig.from_yaml(out / "config.yaml") == tiny()


def test_resume_continues_a_cut_run_to_the_full_budget(tmp_path: Path) -> None:
    out = tmp_path / "run"
    train(tiny(total_steps=2048, save_every=1024), out)
    with pytest.raises(ValueError, match="already holds a run"):
        train(tiny(total_steps=2048), out)
    with pytest.raises(ValueError, match=r"config differs .* in learning_rate"):
        train(tiny(total_steps=4096, learning_rate=1e-4), out, resume=True)
    meta = train(tiny(total_steps=4096, save_every=1024), out, resume=True)
    state = json.loads((out / "state.json").read_text())
    assert meta["env_steps"] == 4096 and state["resumes"] == 1 and state["steps"] == 4096
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(tiny(), tmp_path / "empty", resume=True)


def test_shaping_is_recorded_in_meta(tmp_path: Path) -> None:
    meta = train(tiny(total_steps=512, shaping=1.0, eval_n=10), tmp_path / "s")
    assert meta["reward"] == "potential-based distance shaping k=1.0"


def test_curriculum_over_sizes_pads_to_one_observation_space(tmp_path: Path) -> None:
    from agents.rl.agent import make_ppo_agent
    from maze_env.dataset import DatasetConfig, MazeDataset

    cfg = tiny(
        shape=[4, 4], total_steps=1024, eval_n=10, curriculum=[{"steps": 512, "shape": [3, 3]}]
    )
    meta = train(cfg, tmp_path / "c")
    assert meta["env"]["pad_to"] == [4, 4] and meta["env_steps"] == 1024
    agent = make_ppo_agent(ckpt=str(tmp_path / "c"))
    for size in (3, 4, 6):  # padded to 4x4, or to the maze when larger (size-independent VIN)
        ts = list(MazeDataset.from_config(DatasetConfig(shape=(size, size), n=3, seed=1)))
        assert [t.cells[0] for t in agent.solve_batch(ts)] == [t.origin for t in ts]


def test_a_learned_reward_stage_trains_learned_and_evaluates_as_it_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agents.rl.extractors import MazeVIN

    seen: list[str] = []
    maps = MazeVIN.maps

    def spy(self, observations, reward_hook=None):  # type: ignore[no-untyped-def]
        seen.append(self.reward_mode)
        return maps(self, observations, reward_hook)

    monkeypatch.setattr(MazeVIN, "maps", spy)
    cfg = tiny(extractor="vin", extractor_kwargs={"reward_mode": "peak"}, total_steps=1536,
               eval_every=256, eval_n=5, curriculum=[{"steps": 1024, "reward_mode": "learned"}])  # fmt: skip
    meta = train(cfg, tmp_path / "w")
    first_learned, last_learned = seen.index("learned"), len(seen) - 1 - seen[::-1].index("learned")
    assert first_learned == 0 or "learned" in seen[:5]  # the first stage plays learned
    assert "peak" in seen[first_learned:last_learned]  # an evaluation inside it ran as it loads
    assert seen[-1] == "peak" and meta["env_steps"] == 1536
    with pytest.raises(ValueError, match="reward_mode is a VIN stage's"):
        tiny(extractor="cnn", curriculum=[{"steps": 10, "reward_mode": "peak"}])

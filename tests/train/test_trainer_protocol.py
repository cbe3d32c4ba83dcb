"""The trainer protocol: one config base (train/config_base.py), one table (train/trainers.py),
one argument block for every `train-*` command (train/trainer_cli.py)."""

from __future__ import annotations

import dataclasses
import inspect
from pathlib import Path

import pytest
import yaml

from agents.checkpoint import read_meta
from train.cli import main
from train.config_base import TrainerConfig, merge
from train.trainers import TRAINERS, trainer

KINDS = sorted(TRAINERS)

TINY_DT = ["training_sets=[dt_dfs_5]", "n_per_set=16", "eval_n=2", "eval_sizes=[5]", "eval_iters=[4]"]
"""--set overrides that make the deep-thinking tiny preset a one-second run."""


@pytest.mark.parametrize("kind", KINDS)
def test_every_trainer_has_the_same_shape(kind: str) -> None:
    config, train = trainer(kind)
    assert issubclass(config, TrainerConfig) and dataclasses.is_dataclass(config)
    assert config.KIND == kind and config.PRESETS
    fields = {f.name for f in dataclasses.fields(config)}
    assert config.RESUME_FREE <= fields, config.RESUME_FREE - fields
    params = inspect.signature(train).parameters
    assert list(params)[:2] == ["cfg", "out"]
    for name in ("resume", "progress", "command"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, (kind, name)
    for name in config.PRESETS:
        assert isinstance(config.preset(name), config)  # every preset is a valid config


def test_an_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown trainer kind 'svm'; known: transformer, deepthinking, rl"):
        trainer("svm")


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_fields_and_presets_are_refused_by_name(kind: str) -> None:
    config = trainer(kind).config
    with pytest.raises(ValueError, match=rf"unknown {kind} config key\(s\) \['nope'\]; allowed: "):
        config.from_dict({"nope": 1})
    with pytest.raises(ValueError, match=rf"unknown {kind} preset 'huge'; known: "):
        config.preset("huge")
    with pytest.raises(ValueError, match="is a mapping of fields, got list"):
        config.from_dict([1, 2])


@pytest.mark.parametrize("kind", KINDS)
def test_to_dict_round_trips_through_yaml(kind: str, tmp_path: Path) -> None:
    config = trainer(kind).config
    cfg = config.preset(sorted(config.PRESETS)[0])
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg.to_dict()))
    again = config.from_yaml(path)
    # what resumes and caches compare: the plain fields and their hash (a tuple default such as
    # RLConfig.shape comes back as a list, so the dataclasses themselves need not be equal)
    assert again.to_dict() == cfg.to_dict() and again.resume_diff(cfg.to_dict()) == []
    assert again.config_hash() == cfg.config_hash()


def test_from_sources_layers_preset_file_sets_and_fields(tmp_path: Path) -> None:
    config = trainer("deepthinking").config
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump({"steps": 7, "model": {"gate": True}}))
    cfg = config.from_sources(preset="tiny", file=file, sets=["model.width=12", "seed=3"], lr=0.5)
    preset = config.PRESETS["tiny"]
    assert (cfg.steps, cfg.seed, cfg.lr) == (7, 3, 0.5)
    # nested mappings merge key by key: the preset's other model fields stay
    assert cfg.model.width == 12 and cfg.model.gate is True
    assert cfg.model.head_width == preset["model"]["head_width"]
    assert cfg.batch_size == preset["batch_size"]
    with pytest.raises(ValueError, match="unknown deepthinking preset 'x'"):
        config.from_sources(preset="x")


def test_merge_keeps_nested_keys_and_copies() -> None:
    base = {"a": 1, "m": {"x": 1, "y": 2}}
    out = merge(base, {"m": {"y": 3}, "b": 4})
    assert out == {"a": 1, "m": {"x": 1, "y": 3}, "b": 4}
    assert base == {"a": 1, "m": {"x": 1, "y": 2}}  # the base is not changed


def test_checks_run_on_every_construction() -> None:
    config = trainer("rl").config
    with pytest.raises(ValueError, match="algo: unknown algorithm 'sac'"):
        config.preset("tiny", algo="sac")
    cfg = config.preset("tiny")
    with pytest.raises(ValueError, match="n_envs: must be a positive int"):
        cfg.replace(n_envs=0)  # replace checks again


@pytest.mark.parametrize("kind", KINDS)
def test_config_hash_ignores_the_resume_free_fields_only(kind: str) -> None:
    config = trainer(kind).config
    cfg = config.preset(sorted(config.PRESETS)[0])
    free = sorted(config.RESUME_FREE)[0]
    value = getattr(cfg, free)
    changed = (not value) if isinstance(value, bool) else (
        value + 1 if isinstance(value, (int, float)) else f"{value}_other"
    )
    assert cfg.replace(**{free: changed}).config_hash() == cfg.config_hash()
    assert cfg.replace(seed=cfg.seed + 1).config_hash() != cfg.config_hash()
    assert len(cfg.config_hash()) == 12


def test_resume_rules_name_the_fields_that_differ() -> None:
    config = trainer("deepthinking").config
    cfg = config.preset("tiny")
    saved = cfg.to_dict()
    assert cfg.resume_diff(saved) == []
    assert cfg.replace(steps=99).resume_diff(saved) == []  # steps may grow on resume
    assert cfg.replace(lr=0.5, seed=9).resume_diff(saved) == ["lr", "seed"]
    del saved["alpha"]  # an older run's config without a field compares as its default
    assert cfg.resume_diff(saved) == ([] if cfg.alpha == config().alpha else ["alpha"])
    with pytest.raises(ValueError, match=r"--resume: the config differs from here\.yaml in lr \(only .*steps"):
        cfg.replace(lr=0.5).check_resume(cfg.to_dict(), "here.yaml")


def test_the_cli_trains_resumes_and_refuses_through_one_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dt"
    argv = ["train-dt", "--preset", "tiny", "--no-progress", "--out", str(out)]
    sets = [a for s in [*TINY_DT, "steps=2"] for a in ("--set", s)]
    assert main([*argv, *sets]) == 0
    assert "train-dt: 2 steps" in capsys.readouterr().out
    meta = read_meta(out)
    assert meta["kind"] == "deepthinking" and meta["steps"] == 2
    assert meta["command"].startswith("mazebench ") and meta["selection"]["rule"] == "last"
    # a second run into the same folder needs --resume; a resume may add steps, not change lr
    assert main([*argv, *sets]) == 2
    assert "--resume" in capsys.readouterr().err
    more = [a for s in [*TINY_DT, "steps=4"] for a in ("--set", s)]
    assert main([*argv, *more, "--resume"]) == 0
    assert read_meta(out)["steps"] == 4
    assert main([*argv, *more, "--set", "lr=0.9", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "mazebench train-dt: error: --resume: the config differs" in err and " in lr " in err


@pytest.mark.parametrize("command", ["train-transformer", "train-rl", "train-dt"])
def test_every_train_command_offers_the_same_options(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    for option in ("--preset", "--config", "--set", "--out", "--resume", "--no-progress"):
        assert option in text, (command, option)
    with pytest.raises(SystemExit) as err:
        main([command, "--preset", "tiny"])  # --out is required
    assert err.value.code == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"seed": "zero"}, ".seed must be an integer, got 'zero' (str)"),
        ({"seed": 1.5}, ".seed must be an integer, got 1.5 (float)"),
        ({"seed": True}, ".seed must be an integer, got True (bool)"),
    ],
)
def test_a_scalar_field_of_the_wrong_type_is_one_clear_error(
    kind: str, override: dict, message: str
) -> None:
    config, _ = trainer(kind)
    with pytest.raises(ValueError, match=message.replace(".", r"\.", 1).replace("(", r"\(")
                       .replace(")", r"\)")):  # fmt: skip
        config.from_dict(override)


def test_field_types_accept_an_int_as_a_float_and_none_where_optional() -> None:
    from train.config_base import check_field_types

    @dataclasses.dataclass
    class Cfg:
        lr: float = 0.1
        limit: int | None = None
        name: str = "x"
        flag: bool = False

    check_field_types(Cfg, {"lr": 1, "limit": None, "name": "y", "flag": True})
    for bad, want in [({"lr": "fast"}, "a number"), ({"limit": "3"}, "an integer or null"),
                      ({"flag": 1}, "true or false"), ({"lr": False}, "a number")]:  # fmt: skip
        with pytest.raises(ValueError, match=want):
            check_field_types(Cfg, bad)


def test_an_unknown_option_is_reported_by_its_subcommand(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["train-dt", "--preset", "tiny", "--out", "runs/never", "--nope", "3"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("mazebench train-dt: error: unrecognized arguments: --nope 3"), err

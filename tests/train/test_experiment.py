"""The experiment pipeline (`mazebench run`): config parsing, model resolution, the main job end to end."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from agents.checkpoint import make_meta, read_meta, selection, write_meta
from train.cli import main
from train.experiment import (
    DEFAULT_EXPERIMENT,
    ExperimentConfig,
    ModelSpec,
    model_folders,
    resolve_agents,
    train_model,
)


def test_default_experiment_parses_and_names_every_agent_kind():
    cfg = ExperimentConfig.load(DEFAULT_EXPERIMENT)
    kinds = {spec.split(":")[0] for spec in cfg.agents}
    assert {"bfs", "mcts", "transformer", "ppo", "deepthinking"} <= kinds
    # every shipped checkpoint the default experiment names is in the repository
    for m in cfg.models:
        assert m.checkpoint and Path(m.checkpoint).is_dir(), m


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"agents": ["ppo:ckpt=@missing"]}, "refers to model @missing"),
        ({"colour": "red"}, "unknown key(s) ['colour']"),
        ({"models": [{"name": "m", "kind": "svm"}]}, "unknown kind 'svm'"),
        ({"models": [{"name": "m"}]}, "needs at least 'name' and 'kind'"),
        ({"n": 0}, "n must be at least 1"),
        ({"quick": {"speed": 2}}, "quick: unknown key(s) ['speed']"),
    ],
)
def test_bad_experiment_fails_naming_the_problem(data, message):
    with pytest.raises(ValueError, match=None) as err:
        ExperimentConfig.from_dict(data)
    assert message in str(err.value)


def test_agents_expand_per_model_seed(tmp_path):
    folders = {"t": [tmp_path / "a", tmp_path / "b"], "p": [tmp_path / "p"]}
    specs = resolve_agents(["bfs", "transformer:ckpt=@t,decode=beam", "mcts:prior=@p"], folders)
    assert specs == [
        "bfs",
        f"transformer:ckpt={tmp_path / 'a'},decode=beam",
        f"transformer:ckpt={tmp_path / 'b'},decode=beam",
        f"mcts:prior={tmp_path / 'p'}",
    ]


def _fake_checkpoint(folder: Path) -> None:
    folder.mkdir()
    (folder / "model.zip").write_bytes(b"x")
    write_meta(folder, make_meta("ppo", name=folder.name, training_set="default",
                                 selected=selection("last")))  # fmt: skip


def test_models_resolve_to_shipped_checkpoints_else_to_a_cache_keyed_by_config(tmp_path):
    shipped = tmp_path / "shipped"
    _fake_checkpoint(shipped)
    half = tmp_path / "half"  # weights but no meta.json: not a finished checkpoint
    half.mkdir()
    (half / "model.zip").write_bytes(b"x")
    cfg = ExperimentConfig.from_dict(
        {
            "models": [
                {"name": "a", "kind": "rl", "preset": "tiny", "checkpoint": str(shipped)},
                {"name": "b", "kind": "rl", "preset": "tiny", "checkpoint": str(tmp_path / "none")},
                {"name": "unused", "kind": "rl"},
            ],
            "agents": ["ppo:ckpt=@a", "ppo:ckpt=@b"],
        }
    )
    with pytest.raises(FileNotFoundError, match="model 'b' .* is not trained"):
        model_folders(cfg, tmp_path / "cache", train=False)
    b = cfg.models[1]
    cached = tmp_path / "cache" / f"b-{b.config_hash(0)}"
    cached.mkdir(parents=True)
    (cached / ".trained").write_text("{}")
    folders = model_folders(cfg, tmp_path / "cache", train=False)
    assert folders == {"a": [shipped], "b": [cached]}  # the unused model is never trained
    assert cached.name.startswith("b-rl-")
    halfcfg = ExperimentConfig.from_dict({"models": [{"name": "h", "kind": "rl", "preset": "tiny",
                                                      "checkpoint": str(half)}], "agents": ["ppo:ckpt=@h"]})  # fmt: skip
    with pytest.raises(FileNotFoundError, match="model 'h' .* is not trained"):
        model_folders(halfcfg, tmp_path / "cache", train=False)
    # one shipped folder per seed
    other = tmp_path / "shipped_s1"
    _fake_checkpoint(other)
    per_seed = {"name": "a", "kind": "rl", "preset": "tiny", "seeds": [0, 1],
                "checkpoint": [str(shipped), str(other)]}  # fmt: skip
    cfg = ExperimentConfig.from_dict({"models": [per_seed], "agents": ["ppo:ckpt=@a"]})
    assert model_folders(cfg, tmp_path / "cache", train=False) == {"a": [shipped, other]}
    with pytest.raises(ValueError, match="1 checkpoints for 2 seeds"):
        ExperimentConfig.from_dict({"models": [{**per_seed, "checkpoint": [str(shipped)]}]})


def test_config_hash_covers_the_fields_not_the_presets_name():
    m = ModelSpec(name="x", kind="transformer", preset="tiny")
    assert m.config_hash(0) != m.config_hash(1)
    assert m.config_hash(0) != ModelSpec(name="x", kind="transformer", preset="grid6").config_hash(0)
    assert m.config_hash(0) != ModelSpec(
        name="x", kind="transformer", preset="tiny", set={"lr": 0.1}
    ).config_hash(0)
    assert m.config_hash(0) == ModelSpec(name="other", kind="transformer").config_hash(0)
    # the same fields under another preset name, or a field that does not shape the weights
    from train.transformer import PRESETS

    same = ModelSpec(name="x", kind="transformer", preset="tiny", set={"lr": PRESETS["tiny"]["lr"]})
    assert same.config_hash(0) == m.config_hash(0)
    assert ModelSpec(name="x", kind="transformer", set={"threads": 2}).config_hash(0) == m.config_hash(0)
    with pytest.raises(ValueError, match="unknown transformer config key"):
        ModelSpec(name="x", kind="transformer", set={"nope": 1}).config_hash(0)


def test_train_model_runs_in_process_and_resumes_a_cut_run(tmp_path):
    base = {"training_sets": ["dt_dfs_5"], "n_per_set": 16, "eval_n": 2, "eval_sizes": [5],
            "eval_iters": [4]}  # fmt: skip
    folder = tmp_path / "run"
    train_model(ModelSpec(name="x", kind="deepthinking", preset="tiny", set={**base, "steps": 2}),
                3, folder, progress=False)  # fmt: skip
    meta = read_meta(folder)
    assert (meta["kind"], meta["seed"], meta["steps"]) == ("deepthinking", 3, 2)
    assert meta["selection"]["rule"] == "last" and (folder / ".trained").is_file()
    train_model(ModelSpec(name="x", kind="deepthinking", preset="tiny", set={**base, "steps": 4}),
                3, folder, progress=False)  # fmt: skip
    assert read_meta(folder)["steps"] == 4  # resumed: steps may grow


def test_run_quick_end_to_end(tmp_path, capsys):
    config = tmp_path / "exp.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "tiny",
                "agents": ["bfs", "random_fork", "mcts:simulations=5"],
                "suites": ["in_distribution", "size_4", "open_field"],
                "n": 50,
                "quick": {"n": 12},
            }
        )
    )
    out = tmp_path / "run"
    rc = main(["run", "--config", str(config), "--quick", "--out", str(out), "--workers", "1",
               "--no-progress", "--cache-dir", str(tmp_path / "cache")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "bfs" in printed and "report:" in printed
    for name in ("results.json", "report.md", "report.html", "experiment.json"):
        assert (out / name).is_file(), name
    results = json.loads((out / "results.json").read_text())
    names = [a["name"] for a in results["agents"]]
    assert len(names) == 3
    for suite in results["suites"]:
        assert suite["n"] == 12
        assert results["results"]["bfs"][suite["name"]]["exact"]["mean"] == 1.0
    random_fork = next(n for n in names if n.startswith("random_fork"))
    assert results["results"][random_fork]["in_distribution"]["exact"]["mean"] < 1.0
    assert json.loads((out / "experiment.json").read_text())["quick"] is True
    # the terminal's headline table labels agents as the report does
    from agents.harness.plots import agent_labels

    table = printed[printed.index("exact %") :]
    for label in agent_labels(results).values():
        assert label in table
    assert re.search(r"^bfs +100\.0 ", table, re.M)


@pytest.mark.slow
def test_run_trains_a_missing_model_once(tmp_path):
    config = tmp_path / "exp.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "name": "t",
                "models": [{"name": "p", "kind": "rl", "preset": "tiny"}],
                "agents": ["bfs", "ppo:ckpt=@p"],
                "suites": ["size_4"],
                "n": 5,
            }
        )
    )
    args = ["run", "--config", str(config), "--workers", "1", "--no-progress",
            "--models-dir", str(tmp_path / "models")]
    assert main([*args, "--out", str(tmp_path / "r1")]) == 0
    (trained,) = (tmp_path / "models").iterdir()
    stamp = (trained / ".trained").stat().st_mtime_ns
    assert main([*args, "--out", str(tmp_path / "r2")]) == 0
    assert (trained / ".trained").stat().st_mtime_ns == stamp  # cached: not retrained


EXAMPLE_SUITES = sorted(Path("examples").glob("*_suites.yaml"))
"""Suite definition files the example experiments name in ``suites_file``."""


@pytest.mark.parametrize("path", EXAMPLE_SUITES, ids=lambda p: p.name)
def test_every_example_suites_file_loads(path):
    from agents.harness.suites import load_suites

    registry = load_suites(path)
    assert registry.suites and registry.groups


@pytest.mark.parametrize(
    "path",
    sorted(set(Path("examples").glob("*.yaml")) - set(EXAMPLE_SUITES)),
    ids=lambda p: p.name,
)
def test_every_example_experiment_parses(path):
    cfg = ExperimentConfig.load(path)
    assert cfg.agents and cfg.suites
    for m in cfg.models:  # every shipped folder an example names is in the repository
        for i in range(len(m.seeds)):
            shipped = m.shipped(i)
            assert shipped is None or shipped.is_dir(), (m.name, str(shipped))
    if cfg.suites_file:
        assert Path(cfg.suites_file) in EXAMPLE_SUITES
    from train.transformer import TrainConfig

    for m in cfg.models:  # the overrides name real fields of the trainer's config
        if m.kind == "transformer":
            TrainConfig.from_dict({k: v for k, v in m.set.items()})
            from maze_env.tokens import SCHEMES

            assert m.set.get("scheme", "grid_cells") in SCHEMES


def test_suite_n_sets_tasks_per_suite(tmp_path):
    config = tmp_path / "exp.yaml"
    config.write_text(
        yaml.safe_dump(
            {"agents": ["bfs", "random_fork"], "suites": ["in_distribution", "size_4"], "n": 8,
             "suite_n": {"size_4": 5}}
        )
    )
    out = tmp_path / "run"
    assert main(["run", "--config", str(config), "--out", str(out), "--workers", "1",
                 "--no-progress", "--cache-dir", str(tmp_path / "cache")]) == 0
    results = json.loads((out / "results.json").read_text())
    assert {s["name"]: s["n"] for s in results["suites"]} == {"in_distribution": 8, "size_4": 5}
    with pytest.raises(ValueError, match="n must be at least 1"):
        ExperimentConfig.from_dict({"suite_n": {"size_4": 0}})


def _tiny_transformer(seeds: tuple[int, ...]) -> ModelSpec:
    """A transformer run of a few seconds: 3x3 mazes, 3 steps."""
    return ModelSpec(
        name="t",
        kind="transformer",
        preset="tiny",
        seeds=seeds,
        set={"train_sets": [{"generator": "dfs", "shape": [3, 3], "n": 64, "seed": 5}],
             "eval_sets": [{"generator": "dfs", "shape": [3, 3], "n": 8, "seed": 6}],
             "n_layer": 1, "d_model": 16, "n_head": 2, "batch_size": 8, "max_steps": 3,
             "warmup_steps": 1, "eval_every": 3, "eval_n": 4, "eval_beam_n": 0,
             "max_minutes": 0, "anneal_by_time": False, "tensorboard": False},
    )  # fmt: skip


def test_ray_backend_trains_the_seeds_as_tasks_with_the_local_weights(tmp_path):
    """Training runs dispatched as Ray tasks write the same weights as the same runs trained here,
    where the comparison finds them; a second resolution finds them cached."""
    cfg = ExperimentConfig(models=(_tiny_transformer((0, 1)),), agents=("transformer:ckpt=@t",))
    ray_folders = model_folders(cfg, tmp_path / "ray", progress=False, backend="ray", num_cpus=2)
    local_folders = model_folders(cfg, tmp_path / "local", progress=False)
    assert [p.name for p in ray_folders["t"]] == [p.name for p in local_folders["t"]]
    for r, loc in zip(ray_folders["t"], local_folders["t"], strict=True):
        assert (r / ".trained").is_file()
        assert (r / "model.safetensors").read_bytes() == (loc / "model.safetensors").read_bytes()
    a, b = ray_folders["t"]
    assert (a / "model.safetensors").read_bytes() != (b / "model.safetensors").read_bytes()
    # cached: resolving again trains nothing (train=False would raise if it had to)
    assert model_folders(cfg, tmp_path / "ray", train=False) == ray_folders
    with pytest.raises(ValueError, match="backend must be one of local, ray"):
        model_folders(cfg, tmp_path / "x", backend="slurm")


def test_seed_groups_feed_the_reports_spread_table(tmp_path):
    from agents.harness.seeds import load_seed_groups, seed_table
    from train.experiment import seed_groups

    folders = {"t": [tmp_path / "a", tmp_path / "b", tmp_path / "c"], "p": [tmp_path / "p"]}
    groups = seed_groups(["bfs", "transformer:ckpt=@t", "ppo:ckpt=@p"], folders)
    specs = [f"transformer:ckpt={tmp_path / x}" for x in "abc"]
    assert groups == {"transformer:ckpt=@t": specs}  # single-seed models are not groups
    (tmp_path / "experiment.json").write_text(json.dumps({"seed_groups": groups}))
    assert load_seed_groups(tmp_path) == groups

    def rate(mean):
        return {"exact": {"mean": mean}}

    results = {
        "suites": [{"name": "s1"}, {"name": "s2"}],
        "results": {specs[0]: {"s1": rate(0.5), "s2": rate(1.0)},
                    specs[1]: {"s1": rate(0.7), "s2": rate(None)},
                    specs[2]: {"s1": rate(0.9), "s2": rate(0.0)}},
    }  # fmt: skip
    header, body = seed_table(results, groups)
    assert header == ["suite", "transformer:ckpt=@t (3 seeds)"]
    assert body == [["s1", "70.0% [50.0, 90.0]"], ["s2", "50.0% [0.0, 100.0] (2 seeds)"]]


def test_run_address_needs_the_ray_backend(tmp_path, capsys):
    assert main(["run", "--address", "auto", "--out", str(tmp_path / "r")]) == 2
    assert "mazebench run: error: --address needs --backend ray" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()

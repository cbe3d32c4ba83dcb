"""Suites: built-ins, reproducibility, disjointness from training sets, user files, errors."""

from __future__ import annotations

import dataclasses
import json
import warnings

import pytest

from agents.harness import suites as suites_mod
from agents.harness.suites import (
    DEFAULT_N,
    TRAINING_SETS,
    Suite,
    SuiteRegistry,
    build_suites,
    builtin_suites,
    check_disjoint,
    load_suites,
    resolve_suites,
    suite_from_dict,
)
from maze_env import GENERATORS
from maze_env.dataset import DatasetConfig, MazeDataset

SMALL_TRAIN = DatasetConfig(generator="dfs", shape=(4, 4), n=300, seed=0)


def test_builtin_families_cover_the_issue() -> None:
    suites = builtin_suites()
    assert suites["in_distribution"].generator == "dfs" and suites["in_distribution"].shape == (
        6,
        6,
    )
    for k in (4, 5, 7, 8, 10, 12, 16, 24, 32, 48, 64):
        assert suites[f"size_{k}"].shape == (k, k)
        assert suites[f"size_{k}"].metadata["size"] == k
    for k in (24, 32, 48, 64):  # large sizes: fewer tasks by default (costly for slow agents)
        assert suites[f"size_{k}"].n is not None and suites[f"size_{k}"].n <= 200
        assert f"size_{k}" not in SuiteRegistry.builtin().groups["quick"]
    for g in ("wilson", "kruskal", "prim", "recursive_division"):
        if g in GENERATORS:
            assert suites[f"gen_{g}"].generator == g
    assert suites["gen_hallway"].params == {"do_forks": False}
    assert suites["target_held_out"].metadata["training_target_region"] == "region:br:2"
    assert suites["target_held_out"].disjoint_from[0] == TRAINING_SETS["corner_targets"]
    # every dfs suite is disjoint from each declared dfs training set of its shape
    for suite in suites.values():
        if suite.generator == "dfs" and not suite.params:
            declared = {c.hash() for c in suite.disjoint_from}
            for name, config in TRAINING_SETS.items():
                if config.generator == "dfs" and tuple(config.shape) == suite.shape:
                    assert config.hash() in declared, (suite.name, name)
    covered = {s.generator for s in suites.values()}
    assert covered == set(GENERATORS), "every registered generator gets a 6x6 suite"


def test_groups_and_resolve_order() -> None:
    reg = SuiteRegistry.builtin()
    assert reg.groups["default"] == list(reg.suites)
    assert set(reg.groups["quick"]) <= set(reg.suites)
    picked = reg.resolve(["size_4", "sizes", "size_4"])
    assert [s.name for s in picked][0] == "size_4"
    assert len({s.name for s in picked}) == len(picked) == 11


def test_unknown_suite_lists_known() -> None:
    with pytest.raises(
        ValueError, match=r"unknown suite or group 'nope'.*in_distribution.*groups: default"
    ):
        resolve_suites(["nope"])


def test_unregistered_generator_is_skipped_with_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    data = dict(suites_mod._BUILTIN_DATA)
    data["suites"] = [
        *data["suites"],
        {"name": "gen_x", "generator": "no_such_generator", "shape": [6, 6]},
    ]
    monkeypatch.setattr(suites_mod, "_BUILTIN_DATA", data)
    with pytest.warns(UserWarning, match="skipping built-in suite 'gen_x'.*not registered"):
        suites = builtin_suites()
    assert "gen_x" not in suites and "in_distribution" in suites


def test_user_suite_family_defaults_to_its_first_group() -> None:
    suite = suite_from_dict({"name": "s", "generator": "dfs", "shape": [9, 9], "groups": ["sizes"]})
    assert suite.metadata == {"family": "sizes", "size": 9, "generator": "dfs"}
    assert Suite("t", "dfs", (4, 4)).family == "custom"


def test_suite_tasks_reproducible_and_seed_dependent() -> None:
    suite = Suite("t", "dfs", (5, 5))
    a = MazeDataset.from_config(suite.dataset_config(30, seed=0))
    b = MazeDataset.from_config(suite.dataset_config(30, seed=0))
    c = MazeDataset.from_config(suite.dataset_config(30, seed=1))
    assert a.content_hash() == b.content_hash() != c.content_hash()
    assert suite.dataset_config().n == DEFAULT_N


def test_suites_are_disjoint_from_training_sets() -> None:
    # a tiny 2x2 training set covers most 2x2 tasks: exclusion must still hold
    train = DatasetConfig(generator="dfs", shape=(2, 3), n=40, seed=0)
    suite = Suite("tiny", "dfs", (2, 3), disjoint_from=(train,))
    data = build_suites([suite], {"tiny": 20}, seed=0)["tiny"].dataset
    train_keys = set(MazeDataset.from_config(train).task_keys())
    assert not train_keys & set(data.task_keys())


def test_check_disjoint_raises_on_overlap() -> None:
    ds = MazeDataset.from_config(SMALL_TRAIN)
    with pytest.raises(ValueError, match="shares 300 task"):
        check_disjoint(Suite("x", "dfs", (4, 4)), ds, [(ds, set(ds.task_keys()))])


def test_builtin_in_distribution_is_disjoint_from_default_training(tmp_path) -> None:
    suite = builtin_suites()["in_distribution"]
    data = build_suites([suite], {suite.name: 50}, seed=0, cache_dir=tmp_path)[suite.name].dataset
    train = MazeDataset.from_config(TRAINING_SETS["default"], cache_dir=tmp_path)  # cached above
    assert not set(train.task_keys()) & set(data.task_keys())


def test_target_shift_suite_targets_avoid_training_region() -> None:
    suite = dataclasses.replace(builtin_suites()["target_held_out"], disjoint_from=())
    data = build_suites([suite], {suite.name: 50}, seed=0)[suite.name].dataset
    assert ((data.targets < 4).any(axis=1)).all(), "no target in the bottom-right 2x2 block"


USER_YAML = """
training_sets:
  mine: {generator: dfs, shape: [5, 5], n: 200, seed: 3}
suites:
  - name: big_prim
    generator: prim
    shape: [7, 7]
    target: corner:br
    n: 15
    disjoint_from: [default]
    metadata: {note: hi}
  - name: small
    generator: dfs
    shape: [5, 5]
    seed: 11
    disjoint_from: [mine, {generator: dfs, shape: [5, 5], n: 10, seed: 9}]
    groups: [mine_group]
groups:
  both: [big_prim, small]
"""


def test_user_yaml_suites_load(tmp_path) -> None:
    if "prim" not in GENERATORS:
        pytest.skip("prim generator not registered")
    path = tmp_path / "suites.yaml"
    path.write_text(USER_YAML)
    reg = load_suites(path)
    assert set(reg.suites) == {"big_prim", "small"}
    assert reg.groups == {"both": ["big_prim", "small"]}
    small = reg.suites["small"]
    assert small.seed == 11 and small.disjoint_from[0].n == 200 and small.disjoint_from[1].seed == 9
    assert reg.suites["big_prim"].n == 15
    picked = resolve_suites(["both", "mine_group", "size_4"], suites_file=path)
    assert [s.name for s in picked] == ["big_prim", "small", "size_4"]
    data = build_suites([small], {"small": 10}, seed=0)["small"].dataset
    assert data.config.seed == 11


def test_user_json_round_trip(tmp_path) -> None:
    suite = builtin_suites()["target_held_out"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"suites": [suite.to_dict()]}))
    again = load_suites(path).suites[suite.name]
    assert again == suite


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"name": "a", "shape": [4, 4]}, "missing required key 'generator'"),
        (
            {"name": "a", "generator": "nope", "shape": [4, 4]},
            "unknown generator 'nope'; known: dfs",
        ),
        ({"name": "a", "generator": "dfs", "shape": [4, 4], "colour": 1}, "unknown key.*allowed"),
        ({"name": "a b", "generator": "dfs", "shape": [4, 4]}, "bad suite name"),
        (
            {"name": "a", "generator": "dfs", "shape": [4, 4], "disjoint_from": ["zz"]},
            "unknown training set 'zz'",
        ),
    ],
)
def test_bad_user_suites_say_what_is_allowed(entry: dict, match: str) -> None:
    with warnings.catch_warnings(), pytest.raises(ValueError, match=match):
        suite_from_dict(entry)

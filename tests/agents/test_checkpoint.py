"""agents.checkpoint: the one checkpoint-folder contract (meta.json schema, kinds, loading)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.checkpoint import (
    KINDS,
    CheckpointError,
    config_hash,
    has_model,
    make_meta,
    read_kind,
    read_meta,
    selection,
    weights_path,
    write_meta,
)

SHIPPED = sorted(p for p in Path("checkpoints").iterdir() if p.is_dir())


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_checkpoint_keeps_the_contract(folder: Path) -> None:
    meta = read_meta(folder)
    assert meta["kind"] in KINDS and has_model(folder)
    assert weights_path(folder).name in KINDS[meta["kind"]].weights
    sel = meta["selection"]
    assert sel["rule"] in ("last", "best") and isinstance(sel["in_distribution"], bool)
    assert meta["config"] and meta["config_hash"] and meta["seed"] is not None


@pytest.mark.parametrize("folder", SHIPPED, ids=lambda p: p.name)
def test_no_shipped_checkpoint_was_selected_off_distribution(folder: Path) -> None:
    """Issue 19: a shipped model is its last step or the best on held-out tasks of its own
    training distribution, never one chosen on a suite the report judges off distribution."""
    assert read_meta(folder)["selection"]["in_distribution"] is True


def _meta(**over: object) -> dict:
    return make_meta("ppo", name="x", training_set="default", selected=selection("last"), **over)


def test_round_trip_and_kind_checks(tmp_path: Path) -> None:
    write_meta(tmp_path, _meta(seed=3, steps=10, config={"lr": 0.1}))
    meta = read_meta(tmp_path)
    assert (meta["seed"], meta["steps"], meta["config_hash"]) == (3, 10, config_hash({"lr": 0.1}))
    assert read_kind(tmp_path, ("ppo",)) == "ppo"
    with pytest.raises(CheckpointError, match="holds a 'ppo' checkpoint, not 'transformer'"):
        read_kind(tmp_path, ("transformer",))
    assert not has_model(tmp_path)  # meta.json but no weights
    (tmp_path / "model.zip").write_bytes(b"")
    assert has_model(tmp_path)


def test_config_hash_is_of_the_fields_and_stable() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert config_hash({"a": 1, "b": [1, 2]}) == "8baa73198470"  # golden: same on every machine


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "svm"}, "kind 'svm' is unknown; known: transformer"),
        ({"schema": 7}, "schema 7; this version reads 1"),
        ({"selection": {"rule": "luck", "in_distribution": True}}, "selection rule 'luck'"),
        ({"selection": {"rule": "best", "on": [], "in_distribution": True}}, "must name the held-out sets"),
        ({"selection": {"rule": "last"}}, "in_distribution must be true or false"),
        ({"seed": "zero"}, "'seed' is 'zero'; expected an int or null"),
    ],
)
def test_a_broken_meta_names_the_file_and_the_field(tmp_path: Path, change: dict, message: str) -> None:
    (tmp_path / "meta.json").write_text(json.dumps({**_meta(), **change}))
    with pytest.raises(CheckpointError, match=f"{tmp_path / 'meta.json'}: .*{message}"):
        read_meta(tmp_path)


def test_missing_and_corrupt(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such checkpoint folder"):
        read_meta(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no meta.json"):
        read_meta(tmp_path)
    (tmp_path / "meta.json").write_bytes(b"\xff\x00garbage")
    with pytest.raises(CheckpointError, match="meta.json: not valid JSON"):
        read_meta(tmp_path)

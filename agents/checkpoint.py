"""The checkpoint folder: one home for what a trained model's folder holds and how it is read.

Every trainer writes, and every agent, MCTS prior and experiment reads, a folder through this
module::

    meta.json        the contract below (written last, atomically: a folder with a valid
                     meta.json and its kind's weights is a finished model)
    <weights>        model.safetensors (transformer, deepthinking) or model.zip (ppo, dqn, rppo:
                     SB3's format, loaded without unpickling: agents.rl.safe_load)
    config.*         the training config (config.json / config.yaml), log.jsonl / curve.*,
                     eval.md: kind-specific extras

``meta.json`` (schema 1)::

    {"schema": 1, "kind": "transformer" | "deepthinking" | "ppo" | "dqn" | "rppo",
     "name": str, "training_set": NAME | {dataset config} | [...], "seed": int | null,
     "steps": int | null, "cpu_seconds": float | null,
     "config": {...training config fields...} | null, "config_hash": str | null,
     "selection": {"rule": "last" | "best", "on": [str, ...], "metric": str | null,
                   "step": int | null, "in_distribution": bool, "note": str},
     "metrics": {...}, "command": str, ...kind-specific keys...}

``selection`` says how the weights in the folder were chosen: the last step of the run, or the
best evaluation on the named held-out sets, and whether every one of those sets is of the training
distribution (the project's rule: select only in distribution; a folder that was not is marked so).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maze_env.files import atomic_write_text

SCHEMA = 1
META = "meta.json"
SELECTION_RULES = ("last", "best")


@dataclass(frozen=True)
class Kind:
    """What a checkpoint kind is made of.

    Attributes:
        weights: weight files, in the order an agent looks for them (the first found is loaded).
        hooks: ``"module:function"`` giving ``(prior_fn, value_fn | None)`` for MCTS, or None.
        trainer: the trainer kind of :data:`train.trainers.TRAINERS` that writes it.
    """

    weights: tuple[str, ...]
    hooks: str | None
    trainer: str


_RL = Kind(("model.zip", "best_model.zip", "last_model.zip"), "agents.rl.agent:load_hooks", "rl")
KINDS: dict[str, Kind] = {
    "transformer": Kind(("model.safetensors",), "agents.transformer.agent:load_hooks", "transformer"),
    "deepthinking": Kind(("model.safetensors",), None, "deepthinking"),
    "ppo": _RL,
    "dqn": _RL,
    "rppo": _RL,
}
"""Checkpoint kind (``meta.json`` "kind", also the agent's registry name) -> :class:`Kind`."""


class CheckpointError(ValueError):
    """A checkpoint folder that breaks the contract; the message names the file and the fix."""


# -- the meta record --------------------------------------------------------------------------
def config_hash(config: Mapping[str, Any]) -> str:
    """12 hex digits of a config's fields (canonical JSON): equal fields, equal hash."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def selection(
    rule: str,
    *,
    on: list[str] | tuple[str, ...] = (),
    metric: str | None = None,
    step: int | None = None,
    in_distribution: bool = True,
    note: str = "",
) -> dict[str, Any]:
    """A ``selection`` record: ``rule`` "last" (the run's last step) or "best" (the best value of
    ``metric`` on the held-out sets ``on``, at ``step``)."""
    return {"rule": rule, "on": list(on), "metric": metric, "step": step,
            "in_distribution": bool(in_distribution), "note": note}  # fmt: skip


def make_meta(
    kind: str,
    *,
    name: str,
    training_set: str | dict[str, Any] | list[Any],
    selected: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
    hashed: Mapping[str, Any] | None = None,
    seed: int | None = None,
    steps: int | None = None,
    cpu_seconds: float | None = None,
    metrics: Mapping[str, Any] | None = None,
    command: str = "",
    **extra: Any,
) -> dict[str, Any]:
    """A valid ``meta.json`` record (see the module docstring); ``extra`` keys are kept as given.

    ``config_hash`` is of ``hashed`` when given (a trainer passes the fields that shape the
    weights, leaving out e.g. the output folder), else of ``config``.
    """
    meta = {
        "schema": SCHEMA, "kind": kind, "name": name, "training_set": training_set,
        "seed": seed, "steps": steps,
        "cpu_seconds": None if cpu_seconds is None else round(float(cpu_seconds), 1),
        "config": None if config is None else dict(config),
        "config_hash": config_hash(hashed if hashed is not None else config) if config else None,
        "selection": dict(selected), "metrics": dict(metrics or {}), "command": command,
        **extra,
    }  # fmt: skip
    validate_meta(meta)
    return meta


def _expect(meta: Mapping[str, Any], key: str, types: Any, where: str, allowed: str) -> None:
    if key not in meta:
        raise CheckpointError(f"{where}: no {key!r} (expected {allowed})")
    if not isinstance(meta[key], types) or isinstance(meta[key], bool) and bool not in types:
        raise CheckpointError(f"{where}: {key!r} is {meta[key]!r}; expected {allowed}")


def validate_meta(meta: Any, where: str = META) -> None:
    """Raise :class:`CheckpointError` naming ``where`` and the field when ``meta`` breaks schema 1."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{where}: expected a JSON object, got {type(meta).__name__}")
    _expect(meta, "schema", (int,), where, f"{SCHEMA}")
    if meta["schema"] != SCHEMA:
        raise CheckpointError(f"{where}: schema {meta['schema']!r}; this version reads {SCHEMA}")
    _expect(meta, "kind", (str,), where, "one of " + ", ".join(KINDS))
    if meta["kind"] not in KINDS:
        raise CheckpointError(
            f"{where}: kind {meta['kind']!r} is unknown; known: {', '.join(KINDS)}"
        )
    _expect(meta, "name", (str,), where, "a string")
    _expect(meta, "training_set", (str, dict, list), where,
            "a training set's name, a dataset config mapping, or a list of them")
    for key, types, allowed in (("seed", (int, type(None)), "an int or null"),
                                ("steps", (int, type(None)), "an int or null"),
                                ("cpu_seconds", (int, float, type(None)), "seconds or null"),
                                ("config", (dict, type(None)), "a mapping or null"),
                                ("metrics", (dict,), "a mapping")):  # fmt: skip
        _expect(meta, key, types, where, allowed)
    _expect(meta, "selection", (dict,), where, "a mapping with rule, on, in_distribution")
    sel = meta["selection"]
    if sel.get("rule") not in SELECTION_RULES:
        raise CheckpointError(
            f"{where}: selection rule {sel.get('rule')!r}; allowed: {', '.join(SELECTION_RULES)}"
        )
    if not isinstance(sel.get("in_distribution"), bool):
        raise CheckpointError(f"{where}: selection.in_distribution must be true or false")
    if sel["rule"] == "best" and not sel.get("on"):
        raise CheckpointError(f"{where}: a 'best' selection must name the held-out sets it used")


# -- reading and writing a folder -------------------------------------------------------------
def read_meta(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The validated ``meta.json`` of a checkpoint folder.

    Raises:
        FileNotFoundError: no such folder, or no meta.json in it (the message says what a
            checkpoint folder holds).
        CheckpointError: meta.json is not JSON or breaks the schema (the message names the file).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such checkpoint folder")
    path = folder / META
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder}: no {META} (a checkpoint folder from a mazebench trainer holds meta.json "
            f"with its kind, one of {', '.join(KINDS)}, and its weights)"
        )
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: not valid JSON ({err})") from None
    validate_meta(meta, str(path))
    return meta


def write_meta(folder: str | os.PathLike[str], meta: Mapping[str, Any]) -> Path:
    """Validate ``meta`` and write it to ``folder/meta.json`` atomically."""
    path = Path(folder) / META
    validate_meta(dict(meta), str(path))
    return atomic_write_text(path, json.dumps(meta, indent=1) + "\n")


def read_kind(folder: str | os.PathLike[str], expected: tuple[str, ...] | None = None) -> str:
    """The folder's kind; with ``expected``, a :class:`CheckpointError` when it is another."""
    kind = str(read_meta(folder)["kind"])
    if expected is not None and kind not in expected:
        raise CheckpointError(
            f"{folder} holds a {kind!r} checkpoint, not {' or '.join(map(repr, expected))}; "
            f"use {kind}:ckpt={folder}"
        )
    return kind


def weights_path(folder: str | os.PathLike[str], kind: str | None = None) -> Path:
    """The weight file an agent of the folder's kind loads (the first of its ``weights``)."""
    kind = kind or read_kind(folder)
    for name in KINDS[kind].weights:
        if (Path(folder) / name).is_file():
            return Path(folder) / name
    raise FileNotFoundError(f"{folder}: no weights (looked for {', '.join(KINDS[kind].weights)})")


def has_model(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` is a finished checkpoint: a valid meta.json and its kind's weights."""
    try:
        weights_path(folder)
    except (FileNotFoundError, CheckpointError):
        return False
    return True


def load_hooks(folder: str | os.PathLike[str], **kwargs: Any) -> tuple[Any, Any]:
    """``(prior_fn, value_fn or None)`` of the model in ``folder``, for MCTS (by its kind).

    Raises:
        FileNotFoundError: no folder, meta.json or weights.
        CheckpointError: a kind without MCTS hooks, or a package that cannot be imported.
    """
    kind = read_kind(folder)
    entry = KINDS[kind].hooks
    if entry is None:
        with_hooks = sorted(k for k, v in KINDS.items() if v.hooks)
        raise CheckpointError(
            f"prior={str(folder)!r}: a {kind!r} checkpoint has no MCTS prior; kinds with one: "
            + ", ".join(with_hooks)
        )
    module_name, _, fn_name = entry.partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), fn_name)
    except (ImportError, AttributeError) as err:
        raise CheckpointError(
            f"prior={str(folder)!r}: kind {kind!r} loads through {entry}, which cannot be "
            f"imported ({err})"
        ) from err
    prior_fn, value_fn = fn(str(folder), **kwargs)
    if not callable(prior_fn) or (value_fn is not None and not callable(value_fn)):
        raise CheckpointError(
            f"{entry} must return (prior_fn, value_fn or None), got ({prior_fn!r}, {value_fn!r})"
        )
    return prior_fn, value_fn


def load_agent(folder: str | os.PathLike[str], **params: Any) -> Any:
    """The agent of the folder's kind on these weights (``make_agent(KIND, ckpt=folder, ...)``)."""
    from agents.registry import make_agent

    return make_agent(read_kind(folder), ckpt=str(folder), **params)

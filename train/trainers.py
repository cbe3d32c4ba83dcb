"""The trainer protocol: one table from a model kind to its config class and training function.

Every trainer is called the same way, by the command line (``mazebench train-*``), by
experiments (``mazebench run`` training a model it lacks) and by Ray tasks, all in-process::

    Config, train = trainer("deepthinking")
    cfg = Config.from_sources(preset="graph", sets=["seed=1"])
    meta = train(cfg, "runs/dt", resume=False, progress=True, command="...")

``train(cfg, out, *, resume, progress, command) -> meta`` writes a checkpoint folder
(:mod:`agents.checkpoint`) into ``out`` and returns its ``meta.json``. Entries are
``"module:attribute"`` strings so that reading the table imports no trainer (and no torch).
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

TRAINERS: dict[str, tuple[str, str]] = {
    "transformer": ("train.transformer:TrainConfig", "train.transformer:train"),
    "deepthinking": ("train.deepthinking:DTTrainConfig", "train.deepthinking:train"),
    "rl": ("train.rl:RLConfig", "train.rl:train"),
}
"""Trainer kind -> (config class, training function), as ``"module:attribute"``."""


class Trainer(NamedTuple):
    """A resolved :data:`TRAINERS` entry."""

    config: Any
    train: Any


def _resolve(entry: str) -> Any:
    module, _, attr = entry.partition(":")
    return getattr(importlib.import_module(module), attr)


def trainer(kind: str) -> Trainer:
    """The config class and training function of ``kind`` (``ValueError`` listing the kinds)."""
    if kind not in TRAINERS:
        raise ValueError(f"unknown trainer kind {kind!r}; known: {', '.join(TRAINERS)}")
    config, train = TRAINERS[kind]
    return Trainer(_resolve(config), _resolve(train))

"""The named training datasets, one home read by the training code and by the harness.

``TRAINING_SETS[name]`` is a :class:`~maze_env.dataset.DatasetConfig`; the sets are declared in
``agents/training_sets.yaml``. Built-in suites name the sets they must never share a task with
(``disjoint_from``), so a model trained on a set not declared here is not covered by the
harness's disjointness check: declare it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from maze_env.dataset import DatasetConfig

TRAINING_SETS_FILE = Path(__file__).with_name("training_sets.yaml")


def load_training_sets(path: str | Path = TRAINING_SETS_FILE) -> dict[str, DatasetConfig]:
    """Read ``{name: DatasetConfig}`` from a YAML mapping of DatasetConfig fields."""
    path = Path(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of training-set names to DatasetConfig fields")
    out: dict[str, DatasetConfig] = {}
    for name, spec in data.items():
        try:
            out[str(name)] = DatasetConfig.from_dict(spec)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path}: training set {name!r}: {err}") from None
    return out


TRAINING_SETS: dict[str, DatasetConfig] = load_training_sets()
"""``default`` (dfs 6x6, origin and target anywhere), ``corner_targets`` and
``no_corner_targets`` (target shift), and the sets the shipped models were trained on."""


def training_config(value: Any) -> DatasetConfig | None:
    """What a model's ``meta.json`` says it was trained on, as a DatasetConfig: a name of
    :data:`TRAINING_SETS`, or an inline mapping of DatasetConfig fields (a training run given its
    set inline, e.g. examples/memorize.yaml); ``None`` for anything else (search, unknown)."""
    if isinstance(value, str):
        return TRAINING_SETS.get(value)
    if isinstance(value, Mapping):
        try:
            return DatasetConfig.from_dict(dict(value))
        except (TypeError, ValueError):
            return None
    return None


def training_label(value: Any) -> str:
    """A short human label of a training set: its name, or ``"dfs 5x5, n=1000, seed 105"``."""
    if isinstance(value, str):
        return value
    config = training_config(value)
    if config is None:
        return str(value)
    rows, cols = config.shape
    return f"{config.generator} {rows}x{cols}, n={config.n}, seed {config.seed}"

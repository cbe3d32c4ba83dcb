"""The named training datasets, one home read by the training code and by the harness.

``TRAINING_SETS[name]`` is a :class:`~maze_env.dataset.DatasetConfig`; the sets are declared in
``agents/training_sets.yaml``. Built-in suites name the sets they must never share a task with
(``disjoint_from``), so a model trained on a set not declared here is not covered by the
harness's disjointness check: declare it.
"""

from __future__ import annotations

from pathlib import Path

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

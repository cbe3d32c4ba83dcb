"""Results across training seeds: one row per trained model, its spread over seeds per suite.

``mazebench run`` expands a model trained with several seeds into one agent per seed and records
which agents belong together in the run folder's ``experiment.json`` (``seed_groups``: ``{group
label: [agent spec per seed]}``). The report then adds a table with, per group and suite, the
mean exact rate over the seeds and its range (lowest and highest seed), so a reader sees how much
of a difference between models is the training seed's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.harness.answer import cannot_read

EXPERIMENT_FILE = "experiment.json"
"""Written by ``mazebench run`` beside ``results.json``; holds ``seed_groups``."""


def load_seed_groups(out_dir: str | Path) -> dict[str, list[str]]:
    """``{label: [spec, ...]}`` of the run's models trained with more than one seed ({} if none)."""
    path = Path(out_dir) / EXPERIMENT_FILE
    if not path.is_file():
        return {}
    try:
        groups = json.loads(path.read_text(encoding="utf-8")).get("seed_groups") or {}
    except ValueError:
        return {}
    return {str(k): [str(s) for s in v] for k, v in groups.items() if len(v) > 1}


def seed_table(
    results: Mapping[str, Any], groups: Mapping[str, Sequence[str]], key: str = "exact"
) -> tuple[list[str], list[list[str]]]:
    """Suites x groups: ``mean% [min, max]`` of the rate ``key`` over each group's seeds.

    Groups none of whose agents are in ``results`` are left out; a group's cell uses the seeds
    present for that suite, and says how many when that is fewer than the group's; "cannot read"
    when no seed could take the suite's tasks in (:func:`agents.harness.answer.cannot_read`).
    """
    per = results["results"]
    cols = {g: [s for s in specs if s in per] for g, specs in groups.items()}
    cols = {g: specs for g, specs in cols.items() if specs}
    header = ["suite", *[f"{g} ({len(specs)} seeds)" for g, specs in cols.items()]]
    body = []
    for suite in results["suites"]:
        name = suite["name"]
        row = [name]
        for specs in cols.values():
            if all(cannot_read(per[s].get(name)) for s in specs):
                row.append("cannot read")
                continue
            rates = [
                per[s][name][key]["mean"]
                for s in specs
                if name in per[s] and per[s][name][key]["mean"] is not None
            ]
            if not rates:
                row.append("-")
                continue
            mean = 100 * sum(rates) / len(rates)
            text = f"{mean:.1f}% [{100 * min(rates):.1f}, {100 * max(rates):.1f}]"
            if len(rates) < len(specs):
                text += f" ({len(rates)} seeds)"
            row.append(text)
        body.append(row)
    return header, body

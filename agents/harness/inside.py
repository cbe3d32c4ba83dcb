"""The report's "Inside the models" table: each learned agent's checkpoint ``inspect.json``.

The main job does not run ``mazebench inspect`` (minutes a model); a checkpoint folder that
holds an ``inspect.json`` (``mazebench inspect CKPT --out CKPT``) is read and summarised by
:func:`agents.interp.summary.findings`: one row per agent whose checkpoint has one, with the
suite and mazes it was measured on. Agents without one are left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def _checkpoint(spec: str) -> Path | None:
    """The ``ckpt=`` folder of an agent spec (``prior=`` for a search on a model), if any."""
    from agents.registry import parse_agent_spec

    try:
        _, kwargs = parse_agent_spec(spec)
    except ValueError:
        return None
    for key in ("ckpt", "prior"):
        value = kwargs.get(key)
        if isinstance(value, str) and Path(value).is_dir():
            return Path(value)
    return None


def inside_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """``(header, rows)``, or ``None`` when no agent's checkpoint holds an ``inspect.json``.

    A file that is not a JSON object with ``probes`` and ``interventions`` lists is skipped (a
    report never fails on it)."""
    from agents.harness.figures import agent_labels
    from agents.interp.summary import QUESTIONS, findings
    from maze_env.files import read_json_object

    labels = agent_labels(results)
    rows, seen = [], set()
    own_first = sorted(results["agents"], key=lambda a: "ckpt=" not in a["spec"])  # stable
    for agent in own_first:  # a model's own agent names its row, not a search on top of it
        ckpt = _checkpoint(agent["spec"])
        if ckpt is None or ckpt in seen or not (ckpt / "inspect.json").is_file():
            continue
        try:
            record = read_json_object(ckpt / "inspect.json")
        except (OSError, ValueError):
            continue
        if not all(isinstance(record.get(k), list) for k in ("probes", "interventions")):
            continue
        seen.add(ckpt)
        found = findings(record)
        where = f"{record.get('suite', '?')}, n={record.get('n', '?')}"
        rows.append([labels[agent["spec"]], where, *(found[q] for q in QUESTIONS)])
    if not rows:
        return None
    return ["agent", "measured on", *QUESTIONS], rows

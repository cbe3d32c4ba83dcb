"""What one ``inspect.json`` record says, in four short cells: the report's "Inside the models".

For each learned agent the main job's report reads its checkpoint's ``inspect.json`` (written by
``mazebench inspect CKPT --out CKPT``; the job itself does not run the probes, which cost minutes
a model) and answers four questions, each beside its control:

* **route**: does it hold the shortest path before it acts? (the best ``on_path`` probe at
  ``<PATH_START>`` for a transformer, of the recurrent state for the others, vs the random-init
  model at the same layer);
* **look-ahead**: is the move two ahead decodable beyond the local view, and is it used? (the
  transformer's ``move_ahead`` ``j = 2`` probe vs its local-view control; the plan-patching rate);
* **retarget**: does an internal edit of the goal redirect it? (the transformer's target-cell
  patch per layer, the VIN's reward-map edit, the deep-thinking net's target moved after k
  iterations; each beside its control);
* **world model**: is the maze itself decodable where it acts? (every passage at
  ``<PATH_START>`` vs random init; distance to the target in the recurrent state).

Every cell is a string of measured figures; nothing here is a verdict. No imports beyond the
standard library: the harness reads it without the interpretability stack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

QUESTIONS = ("route", "look-ahead", "retarget", "world model")


def _best(probes: Sequence[Mapping[str, Any]], target: str, site: str, **match: Any) -> Mapping[str, Any] | None:
    rows = [p for p in probes if p["target"] == target and p["site"] == site
            and all(p.get(k) == v for k, v in match.items())]  # fmt: skip
    rows = [p for p in rows if p["score"] == p["score"]]  # not NaN
    return max(rows, key=lambda p: p["score"]) if rows else None


def _probe_text(p: Mapping[str, Any] | None, where: str, control: str = "control_random_init",
                name: str = "random init") -> str:  # fmt: skip
    if p is None:
        return "not measured"
    return f"{p['score']:.2f} vs {p[control]:.2f} {name} ({where} {p['layer']})"


def _pct(e: Mapping[str, Any]) -> str:
    return f"{100 * e['rate']:.0f}%"


def _edits(record: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return sorted((e for e in record.get("interventions", []) if e["kind"] == kind),
                  key=lambda e: -1 if e["layer"] is None else e["layer"])  # fmt: skip


def findings(record: Mapping[str, Any]) -> dict[str, str]:
    """``{question: text}`` for the four :data:`QUESTIONS` of one ``inspect.json`` record."""
    probes = record.get("probes", [])
    kind = record.get("kind")
    step = "iteration" if kind in ("deepthinking", "vin") else "layer"
    out = dict.fromkeys(QUESTIONS, "not measured")
    if kind == "transformer":
        out["route"] = _probe_text(_best(probes, "on_path", "path_start"), "layer")
        ahead = _best(probes, "move_ahead", "path_step", j=2)
        if ahead is not None:
            used = [e["rate"] for e in _edits(record, "plan_patch")]
            out["look-ahead"] = (
                f"j=2: {ahead['score']:.2f} vs {ahead['control_local']:.2f} local view"
                + (f"; used: {100 * max(used):.0f}% at most (plan patch)" if used else "")
            )
        moved = _edits(record, "retarget")
        control = _edits(record, "retarget_random_cells")
        if moved:
            above = [e for e in moved if e["layer"] > 0]
            text = f"{_pct(moved[0])} at the embedding"
            if above:
                top = max(above, key=lambda e: e["rate"])
                text += f", {_pct(top)} at most above it (site {top['layer']})"
            if control:
                text += f"; random cells {100 * max(e['rate'] for e in control):.0f}% at most"
            out["retarget"] = text
        out["world model"] = _probe_text(_best(probes, "passage", "path_start"), "layer")
    else:
        out["route"] = _probe_text(_best(probes, "on_path", "state"), step)
        out["world model"] = "distance to target: " + _probe_text(_best(probes, "distance", "state"), step)
        out["look-ahead"] = "not applicable (no sequence of moves inside the model)"
        if kind == "vin":
            goal = _edits(record, "vin_goal_edit")
            base = _edits(record, "vin_goal_edit_control_unedited")
            if goal:
                out["retarget"] = f"reward map moved: {_pct(goal[0])} reach the new cell" + (
                    f" (unedited, on the way: {_pct(base[0])})" if base else ""
                )
        elif kind == "deepthinking":
            moved = _edits(record, "dt_target_move")
            if moved:
                out["retarget"] = "target moved after k iterations, output follows: " + ", ".join(
                    f"k={e['layer']}: {_pct(e)}" for e in moved
                )
    return out

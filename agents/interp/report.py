"""``inspect.json``, ``inspect.md`` and the figures of one inspected checkpoint.

``inspect.json``::

    {"checkpoint", "kind", "suite", "n", "shape", "seed",
     "probes": [{"target", "site", "layer", "j", "score", "low", "high", "metric",
                 "control_random_init", "control_shuffled", "n_train", "n_test", ...}],
     "heads": [{"layer", "head", "adjacency", "uniform_open", "current", "target", "open",
                "closed", "path", "other"}],
     "interventions": [{"kind", "layer", "rate", "k", "n", "low", "high"}]}

Figures ``figures/probe_<site>_<target>.png``: the probe score per layer / iteration with its
bootstrap interval, beside the random-init and control-task scores; for the look-ahead probes
(records with ``j``), the score against ``j`` per layer beside the local-view control.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from maze_env.files import atomic_path, atomic_write_text


def _groups(record: Mapping[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for p in record["probes"]:
        out.setdefault((p["site"], p["target"]), []).append(p)
    return out


def write_figures(record: Mapping[str, Any], folder: str | Path) -> list[Path]:
    """One PNG per (site, target): score per layer beside both controls; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for (site, target), rows in _groups(record).items():
        if any(p.get("j") is not None for p in rows):
            paths.append(_lookahead_figure(record, site, target, rows, folder, plt))
            continue
        rows = sorted(rows, key=lambda p: p["layer"])
        x = [p["layer"] for p in rows]
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(x, [p["score"] for p in rows], "o-", label="probe")
        ax.fill_between(x, [p["low"] for p in rows], [p["high"] for p in rows], alpha=0.25)
        ax.plot(x, [p["control_random_init"] for p in rows], "s--", label="random init")
        ax.plot(x, [p["control_shuffled"] for p in rows], "^:", label="control task")
        ax.set_xlabel("iteration" if site == "state" else "layer (0 = embedding)")
        ax.set_ylabel(rows[0]["metric"])
        ax.set_title(f"{Path(str(record['checkpoint'])).name}: {target} at {site}", fontsize=9)
        ax.legend(fontsize=7)
        paths.append(_save(fig, plt, folder, f"probe_{site}_{target}"))
    if _edit_curves(record)[0]:
        paths.append(_edits_figure(record, folder, plt))
    return paths


def _edit_curves(
    record: Mapping[str, Any],
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """Edits by kind measured at several layers (curves), and those measured once (levels)."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for e in record["interventions"]:
        ablation = e["kind"] == "unablated" or e["kind"].startswith("ablate")
        if not ablation and "head" not in e and "heads" not in e:  # those have their own table
            by_kind.setdefault(e["kind"], []).append(e)
    curves = {k: v for k, v in by_kind.items() if len({e["layer"] for e in v}) > 1}
    levels = [v[0] for k, v in by_kind.items() if k not in curves]
    return curves, levels


_LEVEL_PANEL = {"unedited_new_target": "retarget", "self_patch": "retarget",
                "unedited_new_maze": "reroute", "self_patch_reroute": "reroute",
                "plan_unpatched": "plan", "plan_twin": "plan"}
"""Edits measured once that belong beside one family of curves (the rest go in every panel)."""


def _edits_figure(record: Mapping[str, Any], folder: str | Path, plt: Any) -> Path:
    """Each edit measured at several layers (or iterations): rate with its Wilson interval against
    the layer, one panel per family (the kind's first word: ``retarget*``, ``reroute*``, ...),
    beside the rates measured once as horizontal lines."""
    curves, levels = _edit_curves(record)
    families = sorted({k.split("_")[0] for k in curves})
    fig, axes = plt.subplots(1, len(families), figsize=(5.0 * len(families), 3.4), squeeze=False)
    for ax, fam in zip(axes[0], families, strict=True):
        mine = {k: v for k, v in curves.items() if k.split("_")[0] == fam}
        for kind, rows in mine.items():
            rows = sorted(rows, key=lambda e: e["layer"])
            x = [e["layer"] for e in rows]
            ax.plot(x, [e["rate"] for e in rows], "o-", ms=3, label=kind)
            ax.fill_between(x, [e["low"] for e in rows], [e["high"] for e in rows], alpha=0.2)
        shown = [e for e in levels if _LEVEL_PANEL.get(e["kind"], fam) == fam]
        for i, e in enumerate(shown):
            ax.axhline(e["rate"], ls="--", lw=0.9, color=f"C{(len(mine) + i) % 10}", label=e["kind"])
        ax.set_xlabel("iteration k" if record["kind"] == "deepthinking" else "layer (0 = embedding)")
        ax.set_ylabel("rate")
        ax.set_ylim(-0.03, 1.03)
        ax.set_title(f"{Path(str(record['checkpoint'])).name}: {fam}", fontsize=9)
        ax.legend(fontsize=6)
    return _save(fig, plt, folder, "edits")


def _save(fig: Any, plt: Any, folder: str | Path, stem: str) -> Path:
    """Write ``fig`` to ``folder/figures/<stem>.png`` (atomically) and close it."""
    fig.tight_layout()
    path = Path(folder) / "figures" / f"{stem}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path


def _lookahead_figure(record: Mapping[str, Any], site: str, target: str,
                      rows: list[dict[str, Any]], folder: str | Path, plt: Any) -> Path:  # fmt: skip
    """Score against moves ahead ``j``, one line per layer, beside the local and random-init
    controls (each layer's random-init score: its best) and chance."""
    layers = sorted({p["layer"] for p in rows})
    js = sorted({p["j"] for p in rows})
    fig, ax = plt.subplots(figsize=(5.4, 3.4))
    cmap = plt.get_cmap("viridis")
    for li, layer in enumerate(layers):
        by_j = {p["j"]: p for p in rows if p["layer"] == layer}
        ax.plot(js, [by_j[j]["score"] for j in js], "o-", ms=3, lw=1,
                color=cmap(li / max(1, len(layers) - 1)), label=f"layer {layer}")  # fmt: skip
    first = {j: next(p for p in rows if p["j"] == j) for j in js}
    ax.plot(js, [first[j]["control_local"] for j in js], "k--", lw=2, label="local view only")
    ax.plot(js, [max(p["control_random_init"] for p in rows if p["j"] == j) for j in js], "s:",
            color="grey", label="random init (best layer)")  # fmt: skip
    ax.axhline(first[js[0]].get("chance", 0.25), color="grey", lw=0.8, ls="-.", label="chance")
    ax.set_xlabel("moves ahead j (j = 1: the next move, the model's output)")
    ax.set_ylabel(rows[0]["metric"])
    ax.set_xticks(js)
    ax.set_title(f"{Path(str(record['checkpoint'])).name}: {target} at {site}", fontsize=9)
    ax.legend(fontsize=6, ncol=2)
    return _save(fig, plt, folder, f"probe_{site}_{target}")


def _f(v: Any) -> str:
    return "nan" if v is None or v != v else f"{v:.3f}"


def markdown(record: Mapping[str, Any], figures: list[Path], folder: str | Path) -> str:
    """``inspect.md``: the probe table (score [interval], both controls) and the edits."""
    lines = [
        f"# inspect: {record['checkpoint']} ({record['kind']})", "",
        f"{record['n']} tasks of suite `{record['suite']}` ({record['shape'][0]}x{record['shape'][1]}), "
        f"split by maze; intervals: 95% bootstrap over test mazes (probes), Wilson (edits).", "",
        "| site | target | layer | j | metric | score [95%] | random init | control task | local view | train/test mazes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for p in record["probes"]:
        j = "" if p.get("j") is None else p["j"]
        local = _f(p["control_local"]) if "control_local" in p else ""
        lines.append(
            f"| {p['site']} | {p['target']} | {p['layer']} | {j} | {p['metric']} | {_f(p['score'])} "
            f"[{_f(p['low'])}, {_f(p['high'])}] | {_f(p['control_random_init'])} | "
            f"{_f(p['control_shuffled'])} | {local} | {p['n_train']}/{p['n_test']} |"
        )
    if record.get("heads"):
        rule = record.get("adjacency_rule", {})
        groups = [k for k in record["heads"][0] if k not in ("layer", "head", "adjacency", "uniform_open")]
        lines += ["", f"Attention from each path step, mean mass per key group; adjacency head: open "
                  f">= {rule.get('threshold')} and >= {rule.get('ratio')}x uniform "
                  f"({_f(record['heads'][0]['uniform_open'])}).", "",
                  "| layer | head | adjacency | " + " | ".join(groups) + " |",
                  "|---|---|---|" + "---|" * len(groups)]  # fmt: skip
        for h in record["heads"]:
            lines.append(f"| {h['layer']} | {h['head']} | {'yes' if h['adjacency'] else ''} | "
                         + " | ".join(_f(h[g]) for g in groups) + " |")  # fmt: skip
    if record["interventions"]:
        lines += ["", "| edit | layer / k | rate [95%] | k/n |", "|---|---|---|---|"]
        for e in record["interventions"]:
            where = e["layer"] if "head" not in e else f"{e['layer']}.{e['head']}"
            lines.append(f"| {e['kind']} | {where} | {_f(e['rate'])} [{_f(e['low'])}, "
                         f"{_f(e['high'])}] | {e['k']}/{e['n']} |")  # fmt: skip
    lines += [""] + [f"![{p.stem}]({p.relative_to(folder).as_posix()})" for p in figures]
    return "\n".join(lines) + "\n"


def write_report(record: Mapping[str, Any], folder: str | Path) -> dict[str, Path]:
    """Write ``inspect.json``, the figures and ``inspect.md`` into ``folder`` (atomically)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    js = atomic_write_text(folder / "inspect.json", json.dumps(record, indent=1) + "\n")
    figures = write_figures(record, folder)
    md = atomic_write_text(folder / "inspect.md", markdown(record, figures, folder))
    return {"json": js, "md": md, **{p.stem: p for p in figures}}

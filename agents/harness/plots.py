"""What the report shows, from a ``results.json`` dict: figures, tables and the generated text.

Each figure function takes the results dict and a path, draws one figure with matplotlib (Agg
backend) and returns the path, or ``None`` when the run has no suite the figure needs (no size
suites: no generalization curve). Agents keep one colour and marker across figures (``tab10``, in
the order they were given). Tables are ``(header, rows)`` of strings for Markdown and HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.harness.answer import cannot_read, is_learned, mcts_budget_figure
from agents.harness.figures import MARKERS, agent_labels, pyplot, save_figure
from agents.harness.metrics import FAILURE_KINDS
from agents.training_sets import training_label
from maze_env import Maze

SIZE_FAMILIES = ("in_distribution", "sizes")
GENERATOR_FAMILIES = ("in_distribution", "generators", "loops", "open")


def _colors(results: Mapping[str, Any]) -> dict[str, Any]:
    plt = pyplot()
    cmap = plt.get_cmap("tab10")
    return {a["spec"]: cmap(i % 10) for i, a in enumerate(results["agents"])}


def training_sizes(results: Mapping[str, Any]) -> dict[str, int]:
    """``{spec: side}`` of the agents trained on a known training set (search agents: absent)."""
    from agents.training_sets import training_config

    out = {}
    for a in results["agents"]:
        config = training_config(a.get("training_set"))
        if config is not None:
            out[a["spec"]] = int(config.shape[0])
    return out


def _rate(
    results: Mapping[str, Any], agent: str, suite: str, key: str
) -> tuple[float, float, float]:
    r = results["results"][agent][suite][key]
    return r["mean"], r["low"], r["high"]


def size_suites(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dfs suites of the size curve (``in_distribution`` and ``sizes``), smallest first."""
    suites = [s for s in results["suites"] if s["family"] in SIZE_FAMILIES]
    return sorted((s for s in suites if s["generator"] == "dfs"), key=lambda s: s["size"])


def generalization_curve(results: Mapping[str, Any], path: Path) -> Path | None:
    """Exact and reached vs maze side, one small panel per agent (so agents that coincide, e.g.
    several at 100%, stay visible), 95% bands; the suites' difficulty (the baseline's reached
    rate) dotted in every panel; a learned agent's training size as a dashed line."""
    suites = size_suites(results)
    if not suites:
        return None
    plt = pyplot()
    colors, labels, trained = _colors(results), agent_labels(results), training_sizes(results)
    agents = results["agents"]
    n_cols = min(4, len(agents))
    n_rows = -(-len(agents) // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(3.1 * n_cols, 2.5 * n_rows + 0.8), sharex=True, sharey=True,
        squeeze=False,
    )  # fmt: skip
    sizes = [s["size"] for s in suites]
    diff = [s["difficulty"]["mean"] for s in suites]
    for ax in axes.ravel()[len(agents) :]:
        ax.axis("off")
    for ax, a in zip(axes.ravel(), agents, strict=False):
        color = colors[a["spec"]]
        unread = [cannot_read(results["results"][a["spec"]].get(s["name"])) for s in suites]
        for key, style in (("exact", "-"), ("reached", "--")):
            vals = np.array(
                [_rate(results, a["spec"], s["name"], key) for s in suites], dtype=float
            )
            vals[np.array(unread, dtype=bool)] = np.nan  # "cannot read" is no point, not 0%
            ax.plot(sizes, vals[:, 0], style, color=color, marker="o" if key == "exact" else None,
                    ms=3.5, lw=1.6 if key == "exact" else 1.1, label=key)  # fmt: skip
            ax.fill_between(sizes, vals[:, 1], vals[:, 2], color=color, alpha=0.15, lw=0)
        ax.plot(
            sizes,
            diff,
            ":",
            color="0.45",
            lw=1.1,
            label=f"difficulty ({results['baseline']} reached)",
        )
        if a["spec"] in trained:
            ax.axvline(trained[a["spec"]], color="0.55", ls="-.", lw=1, label="training size")
        ax.set_title(labels[a["spec"]], fontsize=9, color=color)
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(k) for k in sizes], fontsize=7)
        ax.minorticks_off()
        ax.set_ylim(-0.04, 1.06)
        ax.grid(alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("maze side K (dfs, K x K)", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("fraction of tasks", fontsize=8)
    handles, names = [], []
    for ax in axes.ravel()[: len(agents)]:
        for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
            if n not in names:
                handles.append(h)
                names.append(n)
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False, fontsize=8)
    n = sorted({s["n"] for s in suites})
    fig.suptitle(
        f"Generalization to maze size: exact (solid) and reached (dashed), one panel per agent "
        f"(n = {'/'.join(map(str, n))} per point, 95% Wilson bands)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return save_figure(fig, path)


def generator_bars(results: Mapping[str, Any], path: Path) -> Path | None:
    """Grouped bars: exact rate per generator suite, one bar per agent, 95% error bars."""
    suites = [s for s in results["suites"] if s["family"] in GENERATOR_FAMILIES]
    if not suites:
        return None
    plt = pyplot()
    colors, labels = _colors(results), agent_labels(results)
    agents = results["agents"]
    width = 0.8 / max(1, len(agents))
    fig, ax = plt.subplots(figsize=(max(7, 0.9 * len(suites) + 2), 4))
    x = np.arange(len(suites))
    for i, a in enumerate(agents):
        vals = np.array(
            [_rate(results, a["spec"], s["name"], "exact") for s in suites], dtype=float
        )
        err = np.abs(vals[:, 1:].T - vals[:, 0])
        ax.bar(
            x + (i - (len(agents) - 1) / 2) * width,
            vals[:, 0],
            width,
            yerr=err,
            color=colors[a["spec"]],
            label=labels[a["spec"]],
            error_kw={"lw": 0.8, "ecolor": "0.3"},
        )
    ax.set_xticks(x, [s["name"] for s in suites], rotation=30, ha="right")
    ax.set_ylabel("exact (a shortest path)")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.set_title("Exact rate by maze generator (6x6)")
    return save_figure(fig, path)


def cost_accuracy(results: Mapping[str, Any], path: Path) -> Path | None:
    """Mean nodes expanded and wall time per task (log x) against the pooled exact rate."""
    plt = pyplot()
    colors, labels = _colors(results), agent_labels(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for a in results["agents"]:
        res = list(results["results"][a["spec"]].values())
        k, n = sum(r["exact"]["k"] for r in res), sum(r["exact"]["n"] for r in res)
        nodes = max(np.mean([r["nodes_expanded"]["mean"] or 0.0 for r in res]), 0.5)
        ms = max(1000 * np.mean([r["seconds"]["mean"] or 0.0 for r in res]), 1e-4)
        marker = MARKERS[len(axes[0].collections) % len(MARKERS)]
        for ax, x in zip(axes, (nodes, ms), strict=True):
            style = {"color": colors[a["spec"]], "marker": marker, "edgecolor": "white"}
            ax.scatter([x], [k / max(n, 1)], s=70, label=labels[a["spec"]], zorder=3, **style)
    labels = ("nodes expanded per task (mean over suites)", "milliseconds per task")
    for ax, label in zip(axes, labels, strict=True):
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("exact, pooled over suites")
    axes[0].set_ylim(-0.03, 1.08)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Cost vs accuracy", fontsize=11)
    return save_figure(fig, path)


def difficulty_bars(results: Mapping[str, Any], path: Path) -> Path | None:
    """random_fork's success rate per suite, hardest at the bottom."""
    suites = sorted(results["suites"], key=lambda s: -s["difficulty"]["mean"])
    if not suites:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(suites) + 1.2))
    vals = np.array(
        [[s["difficulty"][k] for k in ("mean", "low", "high")] for s in suites], dtype=float
    )
    y = np.arange(len(suites))[::-1]
    err = np.abs(vals[:, 1:].T - vals[:, 0])
    ax.barh(y, vals[:, 0], xerr=err, color="#7a8fb0", error_kw={"lw": 0.8})
    ax.set_yticks(y, [s["name"] for s in suites], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"{results['baseline']} success rate (lower = harder)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Suite difficulty")
    return save_figure(fig, path)


# -- gallery ----------------------------------------------------------------------------------
def gallery(results: Mapping[str, Any], path: Path, cell_px: int = 14) -> Path | None:
    """Failed tasks drawn with the renderer, one row per agent: a shortest path (blue) and the
    agent's path (orange), the origin (sky-blue square) and target (green square); cells the
    agent entered more than once are shaded purple by visit count. A legend says all of this."""
    items = results.get("gallery") or []
    if not items:
        return None
    import textwrap

    from maze_env.render import HEAT_HIGH, ORIGIN, PATH_COLORS, TARGET, draw_frame

    plt = pyplot()
    names = agent_labels(results)
    rows = list(dict.fromkeys(item["agent"] for item in items))
    n_cols = max(sum(1 for it in items if it["agent"] == a) for a in rows)
    fig, axes = plt.subplots(
        len(rows), n_cols, figsize=(3.3 * n_cols, 4.0 * len(rows) + 0.6), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    slots = {a: 0 for a in rows}
    for item in items:
        ax = axes[rows.index(item["agent"]), slots[item["agent"]]]
        slots[item["agent"]] += 1
        ax.imshow(_draw_item(item, draw_frame, cell_px), interpolation="nearest")
        kind = item.get("failure_kind")
        why = FAILURE_KINDS.get(kind, kind) if kind else (item["invalid_kind"] or "did not reach")
        why += " (reached, not shortest)" if item["reached"] else ""
        name = textwrap.shorten(names.get(item["agent"], item["agent"]), 44, placeholder="...")
        ax.set_title(f"{name}\n{item['suite']} #{item['index']}: {why}", fontsize=8)
    rgb = lambda c: np.array(c) / 255  # noqa: E731
    square = {"marker": "s", "ls": "none", "ms": 9}
    handles = [
        *[plt.Line2D([], [], color=rgb(c), lw=3) for c in PATH_COLORS[:2]],
        plt.Line2D([], [], color=rgb(ORIGIN), **square),
        plt.Line2D([], [], color=rgb(TARGET), **square),
        plt.Line2D([], [], color=rgb(HEAT_HIGH), alpha=0.8, **square),
    ]
    labels = [
        "a shortest path",
        "agent's path",
        "origin (start)",
        "target",
        "cells the agent entered more than once (darker = more often)",
    ]
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False, fontsize=8.5)
    fig.suptitle("Failures: the agent's path vs a shortest path on the same maze", fontsize=11)
    fig.tight_layout(rect=(0, 0.6 / fig.get_figheight(), 1, 1 - 0.35 / fig.get_figheight()))
    fig.subplots_adjust(hspace=0.3)  # room for each panel's two-line title
    return save_figure(fig, path)


def _draw_item(item: Mapping[str, Any], draw_frame: Any, cell_px: int) -> np.ndarray:
    maze = Maze.from_grid(np.array([[ch == "#" for ch in row] for row in item["maze"]], dtype=bool))
    rows, cols = maze.shape

    def inside(cells: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
        return [(int(r), int(c)) for r, c in cells if 0 <= r < rows and 0 <= c < cols]

    agent = inside(item["agent_path"])
    visits = np.zeros((rows, cols))
    for r, c in agent:
        visits[r, c] += 1
    return draw_frame(
        maze,
        origin=tuple(item["origin"]),
        target=tuple(item["target"]),
        paths=[inside(item["optimal_path"]), agent],
        visits=visits if visits.max() > 1 else None,
        cell_px=max(6, 2 * cell_px * 6 // max(6, rows, cols)),
    )


# -- text and tables ------------------------------------------------------------------------
def pct(rate: Mapping[str, Any] | None, interval: bool = True) -> str:
    """``"97.5% [96.4, 98.3]"`` from an aggregate rate; ``"n/a"`` when undefined."""
    if not rate or rate.get("mean") is None:
        return "n/a"
    text = f"{100 * rate['mean']:.1f}%"
    return f"{text} [{100 * rate['low']:.1f}, {100 * rate['high']:.1f}]" if interval else text


def summary_lines(results: Mapping[str, Any]) -> list[str]:
    """What the numbers say, agent by agent, without claiming more than the suites support."""
    suites = results["suites"]
    names = [s["name"] for s in suites]
    ns = sorted({s["n"] for s in suites})
    n_text = (
        f"n = {ns[0]} tasks per suite"
        if len(ns) == 1
        else f"n = {ns[0]} to {ns[-1]} tasks per suite"
    )
    lines = [
        f"On these {len(suites)} suites ({n_text}; brackets are 95% Wilson intervals; "
        "exact = the path is a shortest path, reached = it ends at the target):"
    ]
    for agent in results["agents"]:
        res = results["results"][agent["spec"]]
        exact = {s: res[s]["exact"] for s in names}
        reached = {s: res[s]["reached"] for s in names}
        failing = sorted(
            (s for s in names if exact[s]["k"] < exact[s]["n"]), key=lambda s: exact[s]["mean"]
        )
        label = f"**{agent['name']}**"
        if not failing:
            low = min(exact[s]["low"] for s in names)
            lines.append(
                f"- {label} solved every task exactly on all {len(names)} suites (lowest 95% lower bound {100 * low:.1f}%)."
            )
            continue
        worst = ", ".join(f"{s} {pct(exact[s])}" for s in failing[:3])
        all_reach = all(reached[s]["k"] == reached[s]["n"] for s in names)
        base = "in_distribution" if "in_distribution" in names else None
        start = f"exact {pct(exact[base])} in distribution; " if base else ""
        reach = "reaches the target on every task but " if all_reach else ""
        lines.append(
            f"- {label}: {start}{reach}falls short of exact on {len(failing)} of {len(names)} suites; "
            f"lowest: {worst}.{_size_trend(results, agent['spec'])}"
        )
    hardest = sorted(suites, key=lambda s: s["difficulty"]["mean"])[:3]
    lines.append(
        "- Difficulty (random_fork's success rate; lower is harder): hardest here "
        + ", ".join(f"{s['name']} {pct(s['difficulty'], False)}" for s in hardest)
        + "."
    )
    shift = [s for s in suites if s["metadata"].get("training_target_region")]
    for s in shift:
        rates = ", ".join(
            f"{a['name']} {pct(results['results'][a['spec']][s['name']]['went_to_region'], False)}"
            for a in results["agents"]
        )
        lines.append(
            f"- {s['name']}: share of tasks where the agent detoured into the training-time target region "
            f"({s['metadata']['training_target_region']}): {rates}."
        )
    lines.append(
        "These statements hold for these generators, sizes and sample sizes only; 100% on n tasks "
        "bounds the failure rate (its 95% upper bound is about 3.8/n), it does not prove there is none."
    )
    return lines


def _size_trend(results: Mapping[str, Any], agent: str) -> str:
    """``" Exact by maze size (dfs): 100.0% at 4x4, ..."`` or ``""`` without a size curve."""
    sizes = size_suites(results)
    if len(sizes) < 2:
        return ""
    exact = [results["results"][agent][s["name"]]["exact"] for s in sizes]
    side = [f"{s['size']}x{s['size']}" for s in sizes]
    if all(e["k"] == e["n"] for e in exact):
        return f" Exact on every task of every dfs size, {side[0]} to {side[-1]}."
    steps = ", ".join(f"{pct(e, False)} at {k}" for e, k in zip(exact, side, strict=True))
    return f" Exact by maze size (dfs): {steps}."


def rate_table(results: Mapping[str, Any], key: str) -> tuple[list[str], list[list[str]]]:
    """Suites x agents: the rate ``key`` (``"exact"``, ``"reached"``) with its interval.

    Agents are headed by their short labels (:func:`agent_labels`). When the baseline is not
    among the agents, its rate for the same ``key`` comes first as ``random_fork (baseline)``,
    so every column of the table measures the same thing (the suite's difficulty, the
    baseline's *reached* rate, is in the suites table).
    """
    labels = agent_labels(results)
    specs = [a["spec"] for a in results["agents"]]
    base = results["baseline"]
    extra = [base] if base not in specs and base in results["results"] else []
    header = ["suite", *[f"{base} (baseline)" for _ in extra], *[labels[a] for a in specs]]
    body = []
    for s in results["suites"]:
        row = [s["name"]]
        for a in [*extra, *specs]:
            agg = results["results"][a][s["name"]]
            row.append("cannot read" if cannot_read(agg) else pct(agg[key]))
        body.append(row)
    return header, body


def failure_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """Learned agents x failure kinds: each kind's share of the agent's failed tasks, pooled over
    every suite (``share% (count)``); ``None`` when no learned agent failed a task. Learned:
    :func:`agents.harness.answer.is_learned`."""
    learned = [a for a in results["agents"] if is_learned(a)]
    counts = {}
    for a in learned:
        total: Counter = Counter()
        for r in results["results"][a["spec"]].values():
            total.update(r.get("failure_kinds") or {})
        counts[a["spec"]] = total
    kinds = [k for k in FAILURE_KINDS if any(c[k] for c in counts.values())]
    if not kinds:
        return None
    labels = agent_labels(results)
    header = ["agent", "failed tasks", *[FAILURE_KINDS[k] for k in kinds]]
    body = []
    for spec, c in counts.items():
        n = sum(c.values())
        cells = [f"{100 * c[k] / n:.0f}% ({c[k]})" if n and c[k] else "-" for k in kinds]
        body.append([labels[spec], str(n), *cells])
    return header, body


def cost_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per agent: pooled exact rate, mean cost per task, tasks with an invalid move."""
    header = ["agent", "exact (pooled)", "nodes expanded / task", "ms / task", "invalid tasks"]
    labels = agent_labels(results)
    body = []
    for a in results["agents"]:
        res = results["results"][a["spec"]].values()
        k, n = sum(r["exact"]["k"] for r in res), sum(r["exact"]["n"] for r in res)
        nodes = np.mean([r["nodes_expanded"]["mean"] or 0.0 for r in res])
        ms = 1000 * np.mean([r["seconds"]["mean"] or 0.0 for r in res])
        invalid = sum(r["invalid"]["k"] for r in res)
        body.append(
            [
                labels[a["spec"]],
                f"{100 * k / max(n, 1):.1f}%",
                f"{nodes:.1f}",
                f"{ms:.3f}",
                str(invalid),
            ]
        )
    return header, body


def suites_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per suite: name, family, description, n, difficulty (the baseline's reached rate)."""
    base = results["baseline"]
    header = ["suite", "family", "what", "n", f"difficulty ({base} reached)"]
    rows = [
        [s["name"], s["family"], s["description"], str(s["n"]), pct(s["difficulty"])]
        for s in results["suites"]
    ]
    return header, rows


def agents_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per agent: the label used in tables and figures, its full name, its spec, and
    what it was trained on (``search (no training)`` for a search agent,
    :func:`agents.harness.answer.is_learned`)."""
    labels = agent_labels(results)
    rows = [[labels[a["spec"]], a["name"], a["spec"], _trained_on(a)] for a in results["agents"]]
    return ["label", "agent", "spec", "trained on"], rows


def _trained_on(agent: Mapping[str, Any]) -> str:
    if agent.get("training_set"):
        return training_label(agent["training_set"])
    return "learned (training set not recorded)" if is_learned(agent) else "search (no training)"


# -- all figures ----------------------------------------------------------------------------
def mcts_budget(results: Mapping[str, Any], path: Path) -> Path | None:
    """Exact vs MCTS simulations (:func:`agents.harness.answer.mcts_budget_figure`)."""
    return mcts_budget_figure(results, path)


FIGURES = {
    "generalization": generalization_curve,
    "generators": generator_bars,
    "mcts_budget": mcts_budget,
    "cost": cost_accuracy,
    "difficulty": difficulty_bars,
    "gallery": gallery,
}


def make_figures(results: Mapping[str, Any], fig_dir: str | Path) -> dict[str, Path]:
    """Draw every figure into ``fig_dir`` as ``<name>.png``; returns those drawn by name."""
    fig_dir = Path(fig_dir)
    out = {}
    for name, fn in FIGURES.items():
        p = fn(results, fig_dir / f"{name}.png")
        if p is not None:
            out[name] = p
    return out

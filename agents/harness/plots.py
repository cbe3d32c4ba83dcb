"""What the report shows, from a ``results.json`` dict: figures, tables and the generated text.

Each figure function takes the results dict and a path, draws one figure with matplotlib (Agg
backend) and returns the path, or ``None`` when the run has no suite the figure needs (no size
suites: no generalization curve). Agents keep one colour and marker across figures (``tab10``, in
the order they were given). Tables are ``(header, rows)`` of strings for Markdown and HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from maze_env import Maze

TRAINING_SIZE = 6
"""Side of the default training distribution (dfs 6x6), marked on the generalization curve."""
SIZE_FAMILIES = ("in_distribution", "sizes")
GENERATOR_FAMILIES = ("in_distribution", "generators", "loops", "open")
DPI = 110
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(results: Mapping[str, Any]) -> dict[str, Any]:
    plt = _plt()
    cmap = plt.get_cmap("tab10")
    return {a["spec"]: cmap(i % 10) for i, a in enumerate(results["agents"])}


def _rate(
    results: Mapping[str, Any], agent: str, suite: str, key: str
) -> tuple[float, float, float]:
    r = results["results"][agent][suite][key]
    return r["mean"], r["low"], r["high"]


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=DPI, bbox_inches="tight", facecolor="white")
    _plt().close(fig)
    tmp.replace(path)
    return path


def size_suites(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dfs suites of the size curve (``in_distribution`` and ``sizes``), smallest first."""
    suites = [s for s in results["suites"] if s["family"] in SIZE_FAMILIES]
    return sorted((s for s in suites if s["generator"] == "dfs"), key=lambda s: s["size"])


def generalization_curve(results: Mapping[str, Any], path: Path) -> Path | None:
    """Exact (left) and reached (right) vs maze side, one line per agent, 95% bands."""
    suites = size_suites(results)
    if not suites:
        return None
    plt = _plt()
    colors = _colors(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    sizes = [s["size"] for s in suites]
    specs = [a["spec"] for a in results["agents"]]
    panels = (("exact", "exact (a shortest path)"), ("reached", "reached the target"))
    for ax, (key, label) in zip(axes, panels, strict=True):
        for i, a in enumerate(results["agents"]):
            vals = np.array(
                [_rate(results, a["spec"], s["name"], key) for s in suites], dtype=float
            )
            # small horizontal offsets and distinct markers keep agents that coincide visible
            x = np.array(sizes, dtype=float) * (1 + 0.018 * (i - (len(specs) - 1) / 2))
            style = {"color": colors[a["spec"]], "marker": MARKERS[i % len(MARKERS)], "ms": 5}
            ax.plot(x, vals[:, 0], "-", label=a["name"], lw=1.6, alpha=0.9, **style)
            ax.fill_between(x, vals[:, 1], vals[:, 2], color=colors[a["spec"]], alpha=0.12, lw=0)
        if results["baseline"] not in specs:
            diff = [s["difficulty"]["mean"] for s in suites]
            ax.plot(
                sizes, diff, ":", color="0.45", lw=1.2, label=f"difficulty ({results['baseline']})"
            )
        ax.axvline(TRAINING_SIZE, color="0.6", ls="--", lw=1)
        ax.text(TRAINING_SIZE, 1.04, " training size", color="0.4", fontsize=8, va="bottom")
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(k) for k in sizes])
        ax.minorticks_off()
        ax.set_ylim(-0.03, 1.1)
        ax.set_xlabel("maze side K (dfs, K x K cells)")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("fraction of tasks")
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    n = sorted({s["n"] for s in suites})
    fig.suptitle(
        f"Generalization to maze size (n = {'/'.join(map(str, n))} per point, 95% Wilson bands)",
        fontsize=11,
    )
    return _save(fig, path)


def generator_bars(results: Mapping[str, Any], path: Path) -> Path | None:
    """Grouped bars: exact rate per generator suite, one bar per agent, 95% error bars."""
    suites = [s for s in results["suites"] if s["family"] in GENERATOR_FAMILIES]
    if not suites:
        return None
    plt = _plt()
    colors = _colors(results)
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
            label=a["name"],
            error_kw={"lw": 0.8, "ecolor": "0.3"},
        )
    ax.set_xticks(
        x,
        [
            s["name"].removeprefix("gen_").removeprefix("loops_").removeprefix("open_")
            for s in suites
        ],
        rotation=30,
        ha="right",
    )
    ax.set_ylabel("exact (a shortest path)")
    ax.set_ylim(0, 1.05)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.set_title("Exact rate by maze generator (6x6)")
    return _save(fig, path)


def cost_accuracy(results: Mapping[str, Any], path: Path) -> Path | None:
    """Mean nodes expanded and wall time per task (log x) against the pooled exact rate."""
    plt = _plt()
    colors = _colors(results)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for a in results["agents"]:
        res = list(results["results"][a["spec"]].values())
        k, n = sum(r["exact"]["k"] for r in res), sum(r["exact"]["n"] for r in res)
        nodes = max(np.mean([r["nodes_expanded"]["mean"] or 0.0 for r in res]), 0.5)
        ms = max(1000 * np.mean([r["seconds"]["mean"] or 0.0 for r in res]), 1e-4)
        marker = MARKERS[len(axes[0].collections) % len(MARKERS)]
        for ax, x in zip(axes, (nodes, ms), strict=True):
            style = {"color": colors[a["spec"]], "marker": marker, "edgecolor": "white"}
            ax.scatter([x], [k / max(n, 1)], s=70, label=a["name"], zorder=3, **style)
    labels = ("nodes expanded per task (mean over suites)", "milliseconds per task")
    for ax, label in zip(axes, labels, strict=True):
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel("exact, pooled over suites")
    axes[0].set_ylim(-0.03, 1.08)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Cost vs accuracy", fontsize=11)
    return _save(fig, path)


def difficulty_bars(results: Mapping[str, Any], path: Path) -> Path | None:
    """random_fork's success rate per suite, hardest at the bottom."""
    suites = sorted(results["suites"], key=lambda s: -s["difficulty"]["mean"])
    if not suites:
        return None
    plt = _plt()
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
    return _save(fig, path)


# -- gallery ----------------------------------------------------------------------------------
def gallery(results: Mapping[str, Any], path: Path, cell_px: int = 14) -> Path | None:
    """Failed tasks drawn with the renderer, one row per agent: a shortest path (blue) and the
    agent's path (orange); cells the agent entered more than once are shaded by visit count."""
    items = results.get("gallery") or []
    if not items:
        return None
    import textwrap

    from maze_env.render import PATH_COLORS, draw_frame

    plt = _plt()
    names = {a["spec"]: a["name"] for a in results["agents"]}
    rows = list(dict.fromkeys(item["agent"] for item in items))
    n_cols = max(sum(1 for it in items if it["agent"] == a) for a in rows)
    fig, axes = plt.subplots(
        len(rows), n_cols, figsize=(3.3 * n_cols, 3.6 * len(rows)), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    slots = {a: 0 for a in rows}
    for item in items:
        ax = axes[rows.index(item["agent"]), slots[item["agent"]]]
        slots[item["agent"]] += 1
        ax.imshow(_draw_item(item, draw_frame, cell_px), interpolation="nearest")
        why = f"failed ({item['invalid_kind'] or 'did not reach'})"
        why = "reached, not shortest" if item["reached"] else why
        name = textwrap.shorten(names.get(item["agent"], item["agent"]), 44, placeholder="...")
        ax.set_title(f"{name}\n{item['suite']} #{item['index']}: {why}", fontsize=8)
    handles = [plt.Line2D([], [], color=np.array(c) / 255, lw=3) for c in PATH_COLORS[:2]]
    labels = ["a shortest path", "agent's path"]
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False, fontsize=9)
    fig.suptitle("Failures: the agent's path vs a shortest path on the same maze", fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    return _save(fig, path)


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
    """Suites x agents: the rate ``key`` (``"exact"``, ``"reached"``) with its interval."""
    header = ["suite", "difficulty", *[a["name"] for a in results["agents"]]]
    body = []
    for s in results["suites"]:
        row = [s["name"], pct(s["difficulty"], False)]
        row += [pct(results["results"][a["spec"]][s["name"]][key]) for a in results["agents"]]
        body.append(row)
    return header, body


def cost_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per agent: pooled exact rate, mean cost per task, tasks with an invalid move."""
    header = ["agent", "exact (pooled)", "nodes expanded / task", "ms / task", "invalid tasks"]
    body = []
    for a in results["agents"]:
        res = results["results"][a["spec"]].values()
        k, n = sum(r["exact"]["k"] for r in res), sum(r["exact"]["n"] for r in res)
        nodes = np.mean([r["nodes_expanded"]["mean"] or 0.0 for r in res])
        ms = 1000 * np.mean([r["seconds"]["mean"] or 0.0 for r in res])
        invalid = sum(r["invalid"]["k"] for r in res)
        body.append(
            [a["name"], f"{100 * k / max(n, 1):.1f}%", f"{nodes:.1f}", f"{ms:.3f}", str(invalid)]
        )
    return header, body


def suites_table(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """One row per suite: name, family, description, n."""
    rows = [[s["name"], s["family"], s["description"], str(s["n"])] for s in results["suites"]]
    return ["suite", "family", "what", "n"], rows


# -- all figures ----------------------------------------------------------------------------
FIGURES = {
    "generalization": generalization_curve,
    "generators": generator_bars,
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

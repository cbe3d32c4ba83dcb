"""The report's opening: does each agent generalize like search? Sentences, one figure and
``verdicts.json``, generated from ``results.json`` alone.

Operational criteria, the same for every agent (learned ones and, as calibration rows, the search
agents). Rates are exact (the path is a shortest path). An agent's reference is its
in-distribution suite (drawn like its training set; else the ``in_distribution`` family's). Each
off-distribution suite is judged on its own, so one failing size is not averaged away, by the
difference ``d = suite - reference`` with its 95% Newcombe interval ``[low, high]``
(:func:`agents.harness.metrics.newcombe_difference`) against a margin :data:`DELTA`:

- a suite **holds** when ``low > -DELTA`` (the whole interval above the margin), **falls** when
  ``high < -DELTA`` (entirely below it), and is **unclear** otherwise; an unclear suite gets the
  ``n`` per suite that would decide it at the same rates (:func:`n_to_decide`).
- a family falls when some suite of it falls, holds when every suite holds, else is unclear.
- Overall, in this order: **memorizes** when the agent's own training tasks (a suite of family
  ``training``) beat held-out tasks of its training distribution by more than the margin (the
  difference's whole interval above ``+DELTA``); **did not learn**: reference exact below
  :data:`LEARNED_MIN`; **heuristics**: falls on some family; **search-like**: holds on every
  family it was tested on; else **unclear**.
- Suites an agent could not read at all (:func:`cannot_read`) are shown as such and not judged.

Search agents (:func:`agents.registry.is_search_agent`) are judged by the same rules: bfs and
astar must come out search-like and random_fork must fall (tested), or the criteria do not tell
search from heuristics at this run's n.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.harness.figures import MARKERS, agent_labels, pyplot, save_figure
from agents.harness.metrics import newcombe_difference, wilson_interval
from agents.registry import is_search_agent, parse_agent_spec
from agents.training_sets import training_label

LEARNED_MIN = 0.5
"""In-distribution exact below this: the agent did not learn the task."""
IN_DISTRIBUTION = "in_distribution"
TRAINING = "training"
"""Family of suites made of training tasks (examples/memorize_suites.yaml): shown in the tables,
left out of the verdict, which is about held-out tasks."""
FAMILY_ORDER = ("sizes", "generators", "loops", "open", "target_shift")


def is_learned(agent: Mapping[str, Any]) -> bool:
    """True for a learned agent of ``results.json``: any agent whose results record a training
    set, else any spec that is not a search agent (:func:`agents.registry.is_search_agent`; MCTS
    with a learned prior is learned)."""
    return bool(agent.get("training_set")) or not is_search_agent(str(agent["spec"]))


def _rate(k: int, n: int) -> dict[str, Any]:
    low, high = wilson_interval(k, n)
    return {"mean": k / n if n else None, "k": k, "n": n, "low": low, "high": high}


def pct(rate: Mapping[str, Any]) -> str:
    """``"97.5% [96.4, 98.3], n=1000"``."""
    return (
        f"{100 * rate['mean']:.1f}% [{100 * rate['low']:.1f}, {100 * rate['high']:.1f}], "
        f"n={rate['n']}"
    )


def families(
    results: Mapping[str, Any], reference: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Off-distribution suites by family (known families first, sizes by side): every suite but
    ``reference`` (default: the ``in_distribution`` family's)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for s in results["suites"]:
        if s["family"] == TRAINING:
            continue  # the agents' own training tasks: not a distance from the training distribution
        if s["name"] != reference and (reference is not None or s["family"] != IN_DISTRIBUTION):
            out.setdefault(s["family"], []).append(s)
    if "sizes" in out:
        out["sizes"].sort(key=lambda s: s["size"])
    known = [f for f in FAMILY_ORDER if f in out]
    return {f: out[f] for f in [*known, *[f for f in out if f not in known]]}


def _in_distribution(results: Mapping[str, Any]) -> str | None:
    names = [s["name"] for s in results["suites"] if s["family"] == IN_DISTRIBUTION]
    return names[0] if names else None


def reference_suite(results: Mapping[str, Any], agent: Mapping[str, Any]) -> str | None:
    """The agent's in-distribution suite: the suite drawn like its training set (same generator,
    shape, parameters, origin and target placement; ``in_distribution`` first among several),
    else the ``in_distribution`` family's suite (older results.json: no ``recipe``)."""
    from agents.training_sets import training_config

    config = training_config(agent.get("training_set"))
    if config is not None:
        for s in sorted(results["suites"], key=lambda s: s["family"] != IN_DISTRIBUTION):
            r = s.get("recipe") or {}
            if (
                r.get("generator") == config.generator
                and list(s["shape"]) == list(config.shape)
                and (r.get("params") or {}) == dict(config.params or {})
                and r.get("origin") == config.origin
                and r.get("target") == config.target
            ):
                return s["name"]
    return _in_distribution(results)


DELTA = 0.05
"""The margin of the verdicts (5 points of exact rate): a drop smaller than this counts as
holding; the report states it."""
N_DECIDE_MAX = 100_000
"""Largest n per suite :func:`n_to_decide` searches."""


def difference(ref: Mapping[str, Any], rate: Mapping[str, Any]) -> dict[str, float]:
    """``{"diff", "low", "high"}``: ``rate - ref`` (two exact-rate records) with its Newcombe
    interval."""
    d, low, high = newcombe_difference(ref["k"], ref["n"], rate["k"], rate["n"])
    return {"diff": d, "low": low, "high": high}


def suite_verdict(diff: Mapping[str, float], delta: float = DELTA) -> str:
    """``"holds"`` (interval above ``-delta``), ``"falls"`` (below it) or ``"unclear"``."""
    if diff["low"] > -delta:
        return "holds"
    if diff["high"] < -delta:
        return "falls"
    return "unclear"


def n_to_decide(ref: Mapping[str, Any], rate: Mapping[str, Any], delta: float = DELTA) -> int | None:
    """The smallest n (a power of two times 100, for both the reference and the suite) at which
    the same two rates would give a verdict other than unclear; ``None`` beyond
    :data:`N_DECIDE_MAX` (the drop sits on the margin)."""
    p1, p2 = ref["k"] / ref["n"], rate["k"] / rate["n"]
    n = 100
    while n <= N_DECIDE_MAX:
        d, low, high = newcombe_difference(round(p1 * n), n, round(p2 * n), n)
        if suite_verdict({"diff": d, "low": low, "high": high}, delta) != "unclear":
            return n
        n *= 2
    return None


def judge(results: Mapping[str, Any], spec: str, delta: float = DELTA) -> dict[str, Any]:
    """The criteria (module docstring) applied to one agent.

    Returns:
        ``{"in": rate | None, "suite": reference suite, "verdict": "memorizes" | "did not learn"
        | "heuristics" | "search-like" | "unclear" | "no in-distribution suite", "families":
        {family: {"verdict": "holds" | "falls" | "unclear", "worst": suite, "rate": its exact
        rate, "diff", "low", "high": its difference to the reference and interval, "n_to_decide":
        int | None (unclear only)}}, "memorize": {"suite", "diff", "low", "high"} | None,
        "cannot_read": [suite, ...]}``.
    """
    res = results["results"][spec]
    entry = next((a for a in results["agents"] if a["spec"] == spec), {"spec": spec})
    base = reference_suite(results, entry)
    if base is None:
        return {"in": None, "suite": None, "verdict": "no in-distribution suite", "families": {},
                "memorize": None, "cannot_read": []}  # fmt: skip
    ref = res[base]["exact"]
    fams = {}
    unreadable = [s["name"] for s in results["suites"] if cannot_read(res.get(s["name"]))]
    for fam, suites in families(results, base).items():
        rates = {s["name"]: res[s["name"]]["exact"] for s in suites if s["name"] not in unreadable}
        rates = {name: r for name, r in rates.items() if r["n"]}
        if not rates:
            continue  # the agent could read none of this family's tasks: nothing to judge
        diffs = {name: difference(ref, r) for name, r in rates.items()}
        verdicts = {name: suite_verdict(d, delta) for name, d in diffs.items()}
        if "falls" in verdicts.values():
            verdict = "falls"
            worst = min((n for n in verdicts if verdicts[n] == "falls"),
                        key=lambda n: diffs[n]["high"])  # fmt: skip
        elif all(v == "holds" for v in verdicts.values()):
            verdict, worst = "holds", min(diffs, key=lambda n: diffs[n]["low"])
        else:
            verdict = "unclear"
            worst = min((n for n in verdicts if verdicts[n] == "unclear"),
                        key=lambda n: diffs[n]["low"])  # fmt: skip
        fams[fam] = {"verdict": verdict, "worst": worst, "rate": rates[worst], **diffs[worst]}
        if verdict == "unclear":
            fams[fam]["n_to_decide"] = n_to_decide(ref, rates[worst], delta)
    memorize = None
    for s in results["suites"]:
        if s["family"] == TRAINING and s["name"] in res and res[s["name"]]["exact"]["n"]:
            d = difference(ref, res[s["name"]]["exact"])
            if memorize is None or d["low"] > memorize["low"]:
                memorize = {"suite": s["name"], **d}
    learned = is_learned(entry)  # a search agent learns nothing: only its families count
    if learned and memorize is not None and memorize["low"] > delta:
        overall = "memorizes"
    elif learned and (ref["mean"] is None or ref["mean"] < LEARNED_MIN):
        overall = "did not learn"
    elif any(f["verdict"] == "falls" for f in fams.values()):
        overall = "heuristics"
    elif fams and all(f["verdict"] == "holds" for f in fams.values()):
        overall = "search-like"
    else:
        overall = "unclear"
    return {"in": ref, "suite": base, "verdict": overall, "families": fams,
            "memorize": memorize, "cannot_read": unreadable}  # fmt: skip


def verdicts(results: Mapping[str, Any], delta: float = DELTA) -> dict[str, Any]:
    """The run folder's ``verdicts.json``: every agent (search agents too) judged by
    :func:`judge`, keyed by its report label::

        {"delta": 0.05, "agents": {LABEL: {"spec", "kind": "learned" | "search", "overall",
         "in_distribution": {"suite", "mean", "low", "high", "n"}, "memorize": ... | None,
         "families": {FAMILY: {"verdict", "worst_suite", "diff", "low", "high", "n",
         "n_to_decide"}}}}}
    """
    labels = agent_labels(results)
    out: dict[str, Any] = {}
    for a in results["agents"]:
        spec = a["spec"]
        if spec not in results["results"]:
            continue
        j = judge(results, spec, delta)
        ref = j["in"]
        out[labels[spec]] = {
            "spec": spec,
            "kind": "learned" if is_learned(a) else "search",
            "overall": j["verdict"],
            "in_distribution": None if ref is None else {
                "suite": j["suite"], "mean": ref["mean"], "low": ref["low"], "high": ref["high"],
                "n": ref["n"]},
            "memorize": j["memorize"],
            "families": {
                fam: {"verdict": f["verdict"], "worst_suite": f["worst"], "diff": f["diff"],
                      "low": f["low"], "high": f["high"], "n": f["rate"]["n"],
                      "n_to_decide": f.get("n_to_decide")}
                for fam, f in j["families"].items()
            },
            "cannot_read": j["cannot_read"],
        }  # fmt: skip
    return {"delta": delta, "agents": out}


def write_verdicts(out_dir: str | Path, results: Mapping[str, Any]) -> Path:
    """Write ``out_dir/verdicts.json`` (:func:`verdicts`) atomically; returns its path."""
    import json

    from maze_env.files import atomic_write_text

    path = Path(out_dir) / "verdicts.json"
    atomic_write_text(path, json.dumps(verdicts(results), indent=1) + "\n")
    return path


def cannot_read(agg: Mapping[str, Any] | None) -> bool:
    """True when an agent could not take in any task of a suite (its aggregate's ``cannot_read``
    rate is 1: e.g. a token model whose context cannot hold mazes that large). Such a suite is
    shown as "cannot read" and left out of the verdict, instead of counting as 0%."""
    rate = (agg or {}).get("cannot_read") or {}
    return bool(rate.get("n")) and rate.get("k") == rate.get("n")


CRITERIA = (
    "Criteria, the same for every agent (exact rates; each off-distribution suite judged on its "
    "own by its difference to the agent's in-distribution rate, with a 95% Newcombe interval, "
    f"against a margin of {100 * DELTA:.0f} points): a suite *holds* when the whole interval is "
    f"above -{100 * DELTA:.0f}, *falls* when it is entirely below, else is *unclear* (with the n "
    "that would decide); *memorizes* = its own training tasks beat held-out ones by more than the "
    "margin; *did not learn* = in-distribution exact below 50%; *heuristics* = falls on some "
    "family; *search-like* = holds on every family. Search agents are judged by the same rules "
    "(calibration). These hold for these suites and sample sizes only; verdicts.json has them all."
)


def _diff_text(f: Mapping[str, Any]) -> str:
    """``"-12.0 points [-20.1, -3.9]"``: a family's worst difference and its interval."""
    return f"{100 * f['diff']:+.1f} points [{100 * f['low']:+.1f}, {100 * f['high']:+.1f}]"


def calibration_line(results: Mapping[str, Any], search: Sequence[Mapping[str, Any]]) -> str:
    """The search agents' verdicts by the same rules: do the criteria tell search from
    heuristics at this run's n?"""
    parts = []
    for a in search:
        j = judge(results, a["spec"])
        falls = [f for f, v in j["families"].items() if v["verdict"] == "falls"]
        unclear = [f for f, v in j["families"].items() if v["verdict"] == "unclear"]
        why = (f"falls on {', '.join(falls)}" if falls
               else f"unclear on {', '.join(unclear)}" if unclear else "holds on every family")
        parts.append(f"{a['name']} {j['verdict']} ({why})")
    return "Calibration (search agents, same rules): " + "; ".join(parts) + "."


def answer_lines(results: Mapping[str, Any]) -> list[str]:
    """The answer in a few sentences (markdown: ``**bold**``, ``*italic*``), from the numbers."""
    agents = results["agents"]
    learned = [a for a in agents if is_learned(a)]
    search = [a for a in agents if not is_learned(a)]
    base = _in_distribution(results)
    if not learned:
        return [
            f"No learned agent is in this run (search agents only: "
            f"{', '.join(a['name'] for a in search) or 'none'}), so it cannot say whether a "
            "learned policy generalizes like search; the tables below describe the search agents."
        ]
    lines = []
    baseline = results.get("baseline")
    if not search and baseline in results["results"]:  # the baseline always runs
        search = [{"spec": baseline, "name": f"{baseline} (baseline)"}]
    if search:
        lines.append(calibration_line(results, search))
    for a in learned:
        j = judge(results, a["spec"])
        name = f"**{a['name']}**"
        if j["in"] is None:
            lines.append(f"{name}: no in-distribution suite in this run, so no verdict.")
            continue
        learned_it = j["verdict"] != "did not learn"  # no per-family verdicts otherwise
        parts = [
            f"{fam}{' ' + f['verdict'] if learned_it else ''} (worst {f['worst']} {pct(f['rate'])}"
            + (f", {_diff_text(f)}" if learned_it else "")
            + (f"; n={f['n_to_decide']} per suite would decide" if f.get("n_to_decide") else "")
            + ")"
            for fam, f in j["families"].items()
        ]
        fam_text = "; off distribution: " + "; ".join(parts) if parts else ""
        mem = j["memorize"]
        verdict = {
            "memorizes": "memorizes: its own training tasks beat held-out ones"
            + (f" ({mem['suite']} {_diff_text(mem)})" if mem else ""),
            "did not learn": "did not learn the task (below 50% in distribution)",
            "heuristics": "behaves like learned heuristics: it holds in distribution and falls off it on "
            + ", ".join(f for f, v in j["families"].items() if v["verdict"] == "falls"),
            "search-like": "generalizes like search: it holds on every family tested",
            "unclear": "neither holds nor clearly falls at this n: no verdict",
        }[j["verdict"]]
        where = j["suite"] + (
            f", drawn like its training set {training_label(a['training_set'])}"
            if a.get("training_set") and j["suite"] != base
            else ""
        )
        unread = (
            f" It cannot read the tasks of {', '.join(j['cannot_read'])} (left out of the verdict)."
            if j.get("cannot_read")
            else ""
        )
        lines.append(
            f"{name} {verdict}. Exact in distribution ({where}) {pct(j['in'])}{fam_text}.{unread}"
        )
    lines.append(CRITERIA)
    return lines


# -- the figure ---------------------------------------------------------------------------------
def distance_points(results: Mapping[str, Any]) -> tuple[list[str], list[list[str]]]:
    """The x axis: size suites by side (the in-distribution suite among them, at its side), then
    one category per other family. Returns ``(labels, suite names pooled at each x)``."""
    base = _in_distribution(results)
    fams = families(results)
    by_name = {s["name"]: s for s in results["suites"]}
    sizes = list(fams.get("sizes", []))
    if base is not None:
        sizes.append(by_name[base])
    sizes.sort(key=lambda s: s["size"])
    labels = [f"{s['size']}" + (" (in dist.)" if s["name"] == base else "") for s in sizes]
    groups = [[s["name"]] for s in sizes]
    for fam, suites in fams.items():
        if fam != "sizes":
            labels.append(fam)
            groups.append([s["name"] for s in suites])
    return labels, groups


def pooled(results: Mapping[str, Any], spec: str, names: Sequence[str]) -> dict[str, Any]:
    """Exact rate of ``spec`` pooled over suites ``names`` (sum of k over sum of n), leaving out
    suites it could not read (all of them unread: an undefined rate, drawn as no point)."""
    res = results["results"][spec]
    names = [s for s in names if not cannot_read(res.get(s))]
    k = sum(res[s]["exact"]["k"] for s in names)
    n = sum(res[s]["exact"]["n"] for s in names)
    return _rate(k, n)


def learned_style(j: int) -> tuple[int, str]:
    """``(tab10 colour index, marker)`` of the ``j``-th learned agent's line: the marker shifts
    by one every 10 agents, so colour and marker together stay unique (up to 100 agents)."""
    return j % 10, MARKERS[(j + j // 10) % len(MARKERS)]


HEADLINE_SEARCH = ("bfs", "mcts", "random_fork")
"""Search agents drawn in the headline figure (when the run has them): the exact reference, a
search at a fixed budget, the random baseline."""


def agent_kind(agent: Mapping[str, Any]) -> str:
    """The kind an agent's headline line stands for: its spec's agent name (``transformer``,
    ``ppo``, ``deepthinking``, ...), ``mcts+model`` for MCTS on a learned prior."""
    name, kwargs = parse_agent_spec(str(agent["spec"]))
    return "mcts+model" if name == "mcts" and is_learned(agent) else name


def headline_specs(results: Mapping[str, Any]) -> list[str]:
    """The agents of the headline figure: for each learned kind (:func:`agent_kind`) the agent
    with the best exact **in distribution** (its reference suite: never an off-distribution
    suite; ties go to the first in the run's order), and the search agents of
    :data:`HEADLINE_SEARCH` (all search agents when none of those ran)."""
    best: dict[str, tuple[float, str]] = {}
    for a in results["agents"]:
        if not is_learned(a) or a["spec"] not in results["results"]:
            continue
        base = reference_suite(results, a)
        agg = results["results"][a["spec"]].get(base) if base else None
        rate = (agg or {}).get("exact", {}).get("mean")
        score = -1.0 if rate is None else float(rate)
        kind = agent_kind(a)
        if kind not in best or score > best[kind][0]:
            best[kind] = (score, a["spec"])
    search = [a["spec"] for a in results["agents"] if not is_learned(a)]
    named = [s for s in search if parse_agent_spec(s)[0] in HEADLINE_SEARCH]
    chosen = {spec for _, spec in best.values()} | set(named or search)
    return [a["spec"] for a in results["agents"] if a["spec"] in chosen]


def answer_figure(
    results: Mapping[str, Any], path: Path, specs: Sequence[str] | None = None
) -> Path | None:
    """Exact vs distance from the training distribution, one line per agent (of ``specs``, all
    when None): learned agents in colour, search agents in grey as the reference; markers and
    small x offsets keep overlapping lines apart; 95% Wilson intervals as error bars."""
    labels, groups = distance_points(results)
    if not groups or not any(is_learned(a) for a in results["agents"]):
        return None  # search only: the size curve below shows them
    plt = pyplot()
    short = agent_labels(results)
    agents = [a for a in results["agents"] if specs is None or a["spec"] in specs]
    learned = [a for a in agents if is_learned(a)]
    search = [a for a in agents if not is_learned(a)]
    order = [*search, *learned]
    width = max(6.5, min(9.3, 0.55 * len(labels) + 3))
    fig, ax = plt.subplots(figsize=(width, 4.2))
    cmap = plt.get_cmap("tab10")
    spread = 0.28
    x = np.arange(len(labels), dtype=float)
    n_sizes = sum(1 for lab in labels if lab[0].isdigit())
    for i, a in enumerate(order):
        offset = (
            (i - (len(order) - 1) / 2) * spread / max(1, len(order) - 1) if len(order) > 1 else 0
        )
        rates = [pooled(results, a["spec"], g) for g in groups]
        y = np.array([np.nan if r["mean"] is None else r["mean"] for r in rates], dtype=float)
        low = np.array([r["low"] for r in rates], dtype=float)
        high = np.array([r["high"] for r in rates], dtype=float)
        err = np.nan_to_num(np.array([y - low, high - y]))  # no bar where nothing was read
        is_search = a in search
        if is_search:
            color, marker = str(0.45 + 0.35 * (i / max(1, len(search)))), MARKERS[i % len(MARKERS)]
        else:
            c, marker = learned_style(learned.index(a))
            color = cmap(c)
        ax.errorbar(
            x + offset, y, yerr=err, color=color, marker=marker,
            ms=4 if is_search else 5.5, capsize=2, elinewidth=0.8, ls="none",
            zorder=2 if is_search else 3,
        )  # fmt: skip
        # a line joins the sizes only (the families are categories, not a continuum)
        ax.plot(
            x[:n_sizes] + offset, y[:n_sizes], color=color, marker=marker,
            ms=4 if is_search else 5.5, lw=0.9 if is_search else 1.8,
            ls="--" if is_search else "-", zorder=2 if is_search else 3,
            label=f"{short[a['spec']]}" + (" (search)" if is_search else ""),
        )  # fmt: skip
    if 0 < n_sizes < len(labels):
        ax.axvline(n_sizes - 0.5, color="0.7", lw=1)
    ax.set_xticks(x, labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylim(-0.04, 1.06)
    ax.set_ylabel("exact (shortest path)", fontsize=9)
    ax.set_xlabel("maze side (dfs), then other families (pooled over their suites)", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2, loc="lower left", framealpha=0.85)
    ns = sorted({s["n"] for s in results["suites"]})
    ax.set_title(
        "Exact vs distance from the training distribution (grey dashed: search agents; "
        f"n = {ns[0]}{'-' + str(ns[-1]) if len(ns) > 1 else ''} per suite, 95% Wilson bars)",
        fontsize=9,
    )
    fig.tight_layout()
    return save_figure(fig, path)


# -- MCTS budget curve --------------------------------------------------------------------------
def mcts_budget_groups(results: Mapping[str, Any]) -> list[list[tuple[int, str]]]:
    """Groups of MCTS agents that differ only in ``simulations`` (at least two per group):
    ``[[(simulations, spec), ...] sorted by simulations, ...]``. An agent without
    ``simulations=`` in its spec is left out (its default is not in the results)."""
    groups: dict[str, list[tuple[int, str]]] = {}
    for a in results["agents"]:
        try:
            name, kwargs = parse_agent_spec(a["spec"])
        except ValueError:
            continue
        if name != "mcts" or not isinstance(kwargs.get("simulations"), int):
            continue
        rest = {k: v for k, v in kwargs.items() if k != "simulations"}
        groups.setdefault(repr(sorted(rest.items())), []).append((kwargs["simulations"], a["spec"]))
    return [sorted(g) for g in groups.values() if len({s for s, _ in g}) >= 2]


BUDGET_MAX_LINES = 10
"""More suites than this: one line per family (pooled) instead of one per suite."""


def mcts_budget_figure(results: Mapping[str, Any], path: Path) -> Path | None:
    """Exact vs MCTS simulations (log x), one line per suite (per family when there are more
    than :data:`BUDGET_MAX_LINES` suites), one panel per group of MCTS agents that differ only in
    simulations; 95% Wilson bars. ``None`` when there is no such group."""
    groups = mcts_budget_groups(results)
    if not groups:
        return None
    suites = results["suites"]
    if len(suites) <= BUDGET_MAX_LINES:
        lines = [(s["name"], [s["name"]]) for s in suites]
    else:
        fams: dict[str, list[str]] = {}
        for s in suites:
            fams.setdefault(s["family"], []).append(s["name"])
        lines = list(fams.items())
    plt = pyplot()
    fig, axes = plt.subplots(
        1, len(groups), figsize=(4.6 * len(groups) + 1.8, 3.4), squeeze=False, sharey=True
    )
    cmap = plt.get_cmap("tab10")
    for ax, group in zip(axes[0], groups, strict=True):
        sims = np.array([s for s, _ in group], dtype=float)
        for i, (label, names) in enumerate(lines):
            rates = [pooled(results, spec, names) for _, spec in group]
            y = np.array([r["mean"] for r in rates])
            err = np.array([y - [r["low"] for r in rates], [r["high"] for r in rates] - y])
            shift = 1 + 0.04 * (i - (len(lines) - 1) / 2)  # small multiplicative x offsets
            ax.errorbar(sims * shift, y, yerr=err, color=cmap(i % 10), marker=MARKERS[i % 10],
                        ms=4, lw=1.3, capsize=2, elinewidth=0.7, label=label)  # fmt: skip
        ax.set_xscale("log")
        ax.set_xticks(sims, [str(int(s)) for s in sims], fontsize=8)
        ax.minorticks_off()
        ax.set_ylim(-0.04, 1.06)
        ax.grid(alpha=0.3)
        ax.set_xlabel("MCTS simulations per move", fontsize=8)
        rest = group[0][1].partition(":")[2]
        ax.set_title(
            ", ".join(p for p in rest.split(",") if not p.startswith("simulations=")) or "mcts",
            fontsize=8,
        )
    axes[0][0].set_ylabel("exact", fontsize=9)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.suptitle("MCTS: exact vs simulations (95% Wilson bars)", fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)

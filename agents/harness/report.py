"""The run folder's files, ``results.json`` from its predictions, and the report rendered from it.

The run folder's files (config, predictions, atomic writes) are read and written by
:mod:`agents.harness.run_folder`. ``compute_results`` aggregates the predictions with :func:`agents.harness.metrics.aggregate`
(per agent x suite, 95% Wilson intervals) and adds each suite's difficulty (the baseline
``random_fork``'s success rate) and a gallery of failures (with their mazes, so the report needs
nothing but ``results.json``). ``render_report(out_dir)`` writes ``report.md``, a self-contained
``report.html`` (figures embedded as base64 PNG) and ``figures/*.png`` (:mod:`agents.harness.plots`).

``results.json``::

    {"format": 1, "seed": 0, "baseline": "random_fork",
     "agents": [{"spec": "mcts:simulations=50", "name": "mcts(simulations=50)",
                 "training_set": null | "default"}, ...],
     "suites": [{"name", "family", "description", "generator", "shape", "size", "n",
                 "metadata", "recipe": {"generator", "params", "origin", "target"},
                 "difficulty": {"mean", "k", "n", "low", "high"}}, ...],
     "results": {AGENT_SPEC: {SUITE: <metrics.aggregate(...)>}},   # agents + the baseline
     "gallery": [{"agent", "suite", "index", "maze": [ASCII rows], "origin", "target",
                  "agent_path", "optimal_path", "reached", "exact", "invalid_kind"}, ...],
     "run": {"workers", "solve_seconds", "tasks_run"} | null}   # this invocation (resumes: the rest)
"""

from __future__ import annotations

import base64
import html
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.base import Trajectory
from agents.harness.metrics import aggregate, reference_path
from agents.harness.plots import (
    agents_table,
    cost_table,
    failure_table,
    rate_table,
    suites_table,
    summary_lines,
    training_sizes,
)
from agents.harness.run_folder import (  # noqa: F401  (re-exported: older imports keep working)
    Key,
    atomic_write_json,
    atomic_write_text,
    decode_row,
    iter_predictions,
    load_config,
    read_predictions,
)
from maze_env.dataset import MazeDataset

GALLERY_PER_AGENT = 3
GALLERY_MAX_SIDE = 16
"""Failures on mazes up to this side are shown first (larger ones only if an agent has no other)."""
RESULTS_FORMAT = 1
EXPLORER_FIRST = 25
EXPLORER_FAILURES = 25
"""Tasks the report's explorer embeds per (agent, suite): the first 25 and up to 25 failures after
them (the default run with 100 + 100 made a 16 MB report.html, 10 MB of it random_walk's walks)."""


# -- results ------------------------------------------------------------------------------------
def compute_results(
    config: Mapping[str, Any],
    rows: Iterable[Mapping[str, Any]],
    datasets: Mapping[str, MazeDataset],
    run: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Aggregate ``rows`` (predictions, streamed; in-memory or on-disk form, see
    :func:`agents.harness.run_folder.iter_predictions`) into the ``results.json`` dict.

    Only the metrics of each row are kept, plus the trajectories of the first few failures per
    agent and suite (gallery candidates), so a run of any size aggregates in bounded memory.

    Raises:
        ValueError: if a requested (agent, suite, task) has no row (an unfinished or partly
            merged run), naming how many are missing and where.
    """
    baseline = config["baseline"]
    specs = list(config["agents"])
    everyone = specs if baseline in specs else [*specs, baseline]
    n_of = config["n"]
    metrics: dict[tuple[str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    failures: dict[tuple[str, str], dict[int, Mapping[str, Any]]] = defaultdict(dict)
    for r in rows:
        key = (r["agent"], r["suite"])
        if r["agent"] in everyone and r["suite"] in n_of and r["index"] < n_of[r["suite"]]:
            metrics[key][r["index"]] = r["metrics"]
            if not r["metrics"]["exact"] and r["agent"] in specs:
                kept = failures[key]
                kept[r["index"]] = r
                if len(kept) > GALLERY_PER_AGENT:  # keep the lowest indices only
                    del kept[max(kept)]
    missing = {f"{a} on {s}": n_of[s] - len(metrics[(a, s)]) for a in everyone for s in n_of}
    missing = {k: v for k, v in missing.items() if v}
    if missing:
        where = ", ".join(f"{k} ({v})" for k, v in list(missing.items())[:5])
        raise ValueError(
            f"{sum(missing.values())} predictions are missing ({where}...): resume the run, or merge every shard"
        )
    agg = {
        (a, s): aggregate([metrics[(a, s)][i] for i in range(n_of[s])])
        for a in everyone
        for s in n_of
    }
    suites = []
    for d in config["suites"]:
        meta = d.get("metadata", {})
        suites.append(
            {
                "name": d["name"],
                "family": meta.get("family", "custom"),
                "description": d.get("description", ""),
                "generator": meta.get("generator", d["generator"]),
                "shape": d["shape"],
                "size": meta.get("size", d["shape"][0]),
                "n": n_of[d["name"]],
                "metadata": meta,
                "recipe": {k: d.get(k) for k in ("generator", "params", "origin", "target")},
                "difficulty": agg[(baseline, d["name"])]["reached"],
            }
        )
    return {
        "format": RESULTS_FORMAT,
        "seed": config["seed"],
        "baseline": baseline,
        "agents": [_agent_entry(config, a) for a in specs],
        "suites": suites,
        "results": {a: {s: agg[(a, s)] for s in n_of} for a in everyone},
        "gallery": pick_gallery(
            [a for a in specs if a != baseline],
            failures,
            datasets,
            {a: {s: agg[(a, s)]["exact"]["mean"] for s in n_of} for a in specs},
        ),
        "run": dict(run) if run else None,
    }


def _agent_entry(config: Mapping[str, Any], spec: str) -> dict[str, Any]:
    """``{"spec", "name", "training_set"}`` of one agent (``training_set`` None for search)."""
    info = config.get("agent_info", {}).get(spec, {})
    name = info.get("name") or config.get("agent_names", {}).get(spec, spec)
    return {"spec": spec, "name": name, "training_set": info.get("training_set")}


def _too_big(dataset: MazeDataset) -> bool:
    return max(dataset.config.shape) > GALLERY_MAX_SIDE


def pick_gallery(
    agents: Sequence[str],
    failures: Mapping[tuple[str, str], Mapping[int, Mapping[str, Any]]],
    datasets: Mapping[str, MazeDataset],
    exact: Mapping[str, Mapping[str, float]],
    per_agent: int = GALLERY_PER_AGENT,
) -> list[dict[str, Any]]:
    """Up to ``per_agent`` failed (not exact) tasks per agent: first one of each kind of failure
    (:data:`~agents.harness.metrics.FAILURE_KINDS`), then from its worst suites first.

    Args:
        agents: agent specs.
        failures: ``(agent, suite) -> {task index: prediction row}`` of failed tasks.
        datasets: each suite's tasks.
        exact: ``agent -> suite -> exact rate``; suites are visited from the lowest rate up (ties
            in run order), those with mazes up to :data:`GALLERY_MAX_SIDE` first (a 64x64 maze
            is unreadable at gallery size), taking the lowest failing index of each,
            round-robin: deterministic.
        per_agent: the most examples per agent.
    """
    out = []
    for agent in agents:
        order = sorted(exact[agent], key=lambda s: (_too_big(datasets[s]), exact[agent][s]))
        queues = {s: sorted(failures.get((agent, s), {})) for s in order}
        picks: list[tuple[str, int]] = []
        kinds: set[Any] = set()
        for suite, queue in queues.items():  # first one example of each kind of failure
            if _too_big(datasets[suite]):
                continue
            for i in list(queue):
                kind = failures[(agent, suite)][i]["metrics"].get("failure_kind")
                if kind not in kinds and len(picks) < per_agent:
                    kinds.add(kind)
                    picks.append((suite, i))
                    queue.remove(i)
        while len(picks) < per_agent and any(queues.values()):
            for suite, queue in queues.items():
                if queue and len(picks) < per_agent:
                    picks.append((suite, queue.pop(0)))
        out.extend(
            _gallery_item(agent, s, i, failures[(agent, s)][i], datasets[s]) for s, i in picks
        )
    return out


def _gallery_item(
    agent: str, suite: str, index: int, row: Mapping[str, Any], dataset: MazeDataset
) -> dict[str, Any]:
    task = dataset[index]
    cells = Trajectory.from_json(decode_row(row)["trajectory"]).cells
    optimal = reference_path(task, cells)
    m = row["metrics"]
    return {
        "agent": agent,
        "suite": suite,
        "index": index,
        "maze": task.maze.to_ascii().splitlines(),
        "origin": list(task.origin),
        "target": list(task.target),
        "agent_path": [list(c) for c in cells],
        "optimal_path": [list(c) for c in optimal or ()],
        "reached": m["reached"],
        "exact": m["exact"],
        "invalid_kind": m["invalid_kind"],
        "failure_kind": m.get("failure_kind"),
    }


# -- rendering ----------------------------------------------------------------------------------
SECTIONS = (
    (
        "answer_detail",
        "Exact vs distance from the training distribution, every agent",
        "The opening figure with every agent of the run (the opening one shows the best of each "
        "learned kind, chosen by its in-distribution exact, and three search references).",
    ),
    (
        "generalization",
        "Generalization: exact vs maze size",
        "Exact (solid: the path is a shortest path) and reached (dashed) against maze side, one "
        "panel per agent, 95% bands; dotted: the suites' difficulty (random_fork's reached rate).",
    ),
    (
        "generators",
        "Per generator",
        "Exact rate on 6x6 mazes of each generator (loops: any shortest path counts).",
    ),
    (
        "mcts_budget",
        "MCTS: exact vs simulations",
        "Exact rate of MCTS agents that differ only in their number of simulations, per suite "
        "(per family, pooled, when there are many suites); 95% Wilson intervals.",
    ),
    (
        "cost",
        "Cost vs accuracy",
        "Mean cost per task (log scale) against exact rate, pooled over every suite.",
    ),
    (
        "difficulty",
        "Suite difficulty",
        "random_fork's success rate per suite (lower is harder), 95% intervals.",
    ),
    (
        "gallery",
        "Failures",
        "Failed tasks: the agent's path (orange) against a shortest path (blue) on the same maze. "
        "The sky-blue square is the origin, the green square the target; cells shaded purple are "
        "cells the agent entered more than once (darker: more often).",
    ),
)
TRAINED_NOTE = " Dash-dotted: the maze side a learned agent was trained at."


def _caption(results: Mapping[str, Any], key: str, caption: str) -> str:
    """A figure's caption; the generalization one mentions training only if an agent was trained."""
    if key == "generalization" and training_sizes(results):
        return caption + TRAINED_NOTE
    return caption


def _md_table(header: list[str], body: list[list[str]]) -> str:
    lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(_md_cell, r)) + " |" for r in body])


_RATE_CELL = re.compile(r"^(\d+\.\d)% \[(.+)\]$")
_NUMBER = re.compile(r"^[\d.]+%?$")
_MD_SPECIAL = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
"""Markdown's inline markup characters (``_`` only where it can open or close emphasis, so
``size_4`` stays as it is; no link or image without ``[``); ``|`` too, which would end the cell."""


def _md_cell(text: str) -> str:
    """A table cell as literal text, as report.html shows it (:func:`_html_cell` escapes every
    cell): HTML escaped, markdown markup backslash-escaped, one line. Table cells hold names and
    free text (suite descriptions come from user files), never intended markup. Rates and
    numbers, which the tables make themselves, are left as they are."""
    if _RATE_CELL.match(text) or _NUMBER.match(text):
        return text
    text = html.escape(" ".join(text.split()), quote=False)
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _html_cell(text: str) -> str:
    """A table cell: numbers right-aligned, a rate with an interval shaded red (0%) to green (100%)."""
    m = _RATE_CELL.match(text)
    if not m:
        return f"<td{' class=num' if _NUMBER.match(text) else ''}>{html.escape(text)}</td>"
    hue = 1.2 * float(m.group(1))
    return (
        f'<td class=num style="background:hsl({hue:.0f},60%,87%)">'
        f"<b>{m.group(1)}%</b><br><small>[{m.group(2)}]</small></td>"
    )


def _html_table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(_html_cell(c) for c in r) + "</tr>" for r in body)
    return (
        f"<div class=wide><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def explorer_section(out_dir: str | Path, data: Mapping[str, Any] | None = None) -> str:
    """The explorer (:func:`agents.harness.explorer.explorer_html`) of a run folder: its
    predictions over its suites' mazes; ``""`` if the folder has no config or predictions.

    Args:
        out_dir: the run folder.
        data: ``{suite: SuiteData}`` if already built; else rebuilt from ``config.json``
            (generated suites from their recipe, user suites from their file).
    """
    from agents.harness.explorer import explorer_html
    from agents.harness.run_folder import PREDICTIONS

    out_dir = Path(out_dir)
    has_rows = (out_dir / PREDICTIONS).exists() or (out_dir / "predictions.jsonl").exists()
    if not (out_dir / "config.json").exists() or not has_rows:
        return ""
    config = load_config(out_dir)
    if data is None:
        from agents.harness.run_suites import config_suite_data

        data = config_suite_data(config)
    tasks = {name: data[name].dataset for name in config["n"] if name in data}
    return explorer_html(
        tasks,
        iter_predictions(out_dir),
        agent_names=config.get("agent_names", {}),
        first=EXPLORER_FIRST,
        failures=EXPLORER_FAILURES,
        element_id="explorer",
        title="Explorer",
    )


def render_report(
    out_dir: str | Path, data: Mapping[str, Any] | None = None, explorer: bool = True
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``figures/*.png`` from ``out_dir/results.json``.

    The HTML report ends with the explorer (:func:`explorer_section`), built from the folder's
    predictions and its suites' tasks (``data``, else rebuilt from ``config.json``).

    Returns:
        ``{"md": path, "html": path, <figure name>: path, ...}``.
    """
    import json

    from agents.harness.plots import make_figures

    out_dir = Path(out_dir)
    path = out_dir / "results.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: run `mazebench compare` (or `--merge` the shards) first"
        )
    results = json.loads(path.read_text(encoding="utf-8"))
    from agents.harness.answer import answer_figure, answer_lines, headline_specs, write_verdicts
    from agents.harness.matrix import load as load_verdicts
    from agents.harness.seeds import load_seed_groups, seed_table

    verdicts = load_verdicts(write_verdicts(out_dir, results))  # older folders get theirs too
    figures = make_figures(results, out_dir / "figures")
    headline = headline_specs(results)
    drawn = answer_figure(results, out_dir / "figures" / "answer.png", headline)
    if drawn is not None and len(headline) < len(results["agents"]):
        figures["answer_detail"] = answer_figure(results, out_dir / "figures" / "answer_detail.png")
    answer = (answer_lines(results), drawn, verdicts)
    tables = [
        ("Agents", agents_table(results)),
        ("Exact (path is a shortest path)", rate_table(results, "exact")),
        ("Reached the target", rate_table(results, "reached")),
        ("Cost", cost_table(results)),
        ("Suites", suites_table(results)),
    ]
    failures = failure_table(results)
    if failures is not None:
        tables.insert(
            -2, ("How the learned agents fail (first error of each failed task)", failures)
        )
    from agents.harness.inside import inside_table

    inside = inside_table(results)
    if inside is not None:
        tables.insert(-2, ("Inside the models (each checkpoint's inspect.json)", inside))
    groups = load_seed_groups(out_dir)
    if groups:
        tables.insert(
            2, ("Exact across training seeds (mean [lowest, highest])", seed_table(results, groups))
        )
    tables = [part for title, table in tables for part in split_wide(title, table)]
    summary = summary_lines(results)
    md, body = (
        _markdown(results, summary, tables, figures, answer),
        _html_body(results, summary, tables, figures, answer),
    )
    section = explorer_section(out_dir, data) if explorer else ""
    if section:
        body = body.replace("</body>", section + "</body>", 1)
        md += "\n## Explorer\n\nreport.html ends with an explorer: pick a suite and an agent, step through its tasks.\n"
    paths = {
        "md": atomic_write_text(out_dir / "report.md", md),
        "html": atomic_write_text(out_dir / "report.html", body),
    }
    return {**paths, **figures, **({"answer": drawn} if drawn else {})}


MAX_COLUMNS = 7
"""Value columns per table: a wider table (many agents) is split into several, each repeating the
row label, so every table fits a 1024 px window (checked in Chromium by the tests)."""


def split_wide(
    title: str, table: tuple[list[str], list[list[str]]], per: int = MAX_COLUMNS
) -> list[tuple[str, tuple[list[str], list[list[str]]]]]:
    """``[(title, (header, body))]``: the table itself, or its value columns in groups of
    ``per`` (the first column, the row label, repeated), titled ``"title (1/3)"`` ..."""
    header, body = table
    n = len(header) - 1
    if n <= per:
        return [(title, table)]
    parts = []
    starts = range(1, n + 1, per)
    for k, start in enumerate(starts, 1):
        cols = [0, *range(start, min(start + per, n + 1))]
        part = ([header[c] for c in cols], [[row[c] for c in cols] for row in body])
        parts.append((f"{title} ({k}/{len(starts)})", part))
    return parts


def _title(results: Mapping[str, Any]) -> str:
    return f"Maze comparison: {len(results['agents'])} agents on {len(results['suites'])} suites (seed {results['seed']})"


def _order(tables: list, figures: Mapping[str, Path]) -> list[tuple[str, Any]]:
    """Sections in reading order: the generalization curve first, then tables, then figures."""
    figs = [("figure", s) for s in SECTIONS if s[0] in figures]
    lead = [f for f in figs if f[1][0] in ("answer_detail", "generalization")]
    return [*lead, *[("table", t) for t in tables], *[f for f in figs if f not in lead]]


ANSWER_TITLE = "Does a learned policy generalize like search?"
ANSWER_CAPTION = (
    "Exact rate against distance from the training distribution: maze sides of dfs mazes (the "
    "in-distribution suite among them), then each other family pooled over its suites. One line "
    "per learned kind (the best of each, chosen by its in-distribution exact), search agents grey "
    "and dashed as the reference; bars: 95% Wilson intervals. With more agents than that, the "
    "next figure shows every one."
)


def _markdown(
    results: Mapping[str, Any],
    summary: list[str],
    tables: list,
    figures: Mapping[str, Path],
    answer: tuple[list[str], Path | None, Mapping[str, Any] | None] = ([], None, None),
) -> str:
    from agents.harness.matrix import markdown as matrix_markdown

    parts = [f"# {_title(results)}", ""]
    lines, fig, verdicts = answer
    if lines:
        parts += [f"## {ANSWER_TITLE}", ""]
        if verdicts and verdicts["agents"]:
            parts += [matrix_markdown(verdicts), ""]
        parts += [f"{x}\n" for x in lines]
        if fig is not None:
            parts += [ANSWER_CAPTION, "", f"![{ANSWER_TITLE}](figures/{fig.name})", ""]
    parts += ["## What the numbers say", "", *summary, ""]
    for kind, item in _order(tables, figures):
        if kind == "table":
            parts += [f"## {item[0]}", "", _md_table(*item[1]), ""]
        else:
            key, title, caption = item
            parts += [
                f"## {title}",
                "",
                _caption(results, key, caption),
                "",
                f"![{title}](figures/{figures[key].name})",
                "",
            ]
    return "\n".join(parts)


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1400px;margin:2em auto;
padding:0 1em;color:#222;background:#fff}h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.8em;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;
text-align:left;vertical-align:top;overflow-wrap:anywhere}.num{text-align:right;white-space:nowrap}th{background:#f0f3f7;
white-space:normal;vertical-align:bottom}td small{color:#555}img{max-width:100%;border:1px solid #eee}
.cap{color:#555}li{margin:.25em 0}.wide{overflow-x:auto}"""


def _html_body(
    results: Mapping[str, Any],
    summary: list[str],
    tables: list,
    figures: Mapping[str, Path],
    answer: tuple[list[str], Path | None, Mapping[str, Any] | None] = ([], None, None),
) -> str:
    from agents.harness.matrix import html_table as matrix_html

    def inline(text: str) -> str:
        text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))
        return re.sub(r"\*(.+?)\*", r"<i>\1</i>", text)

    items = "".join(f"<li>{inline(s[2:])}</li>" for s in summary if s.startswith("- "))
    paras = [f"<p>{inline(s)}</p>" for s in summary if not s.startswith("- ")]
    lines, fig, verdicts = answer
    opening = []
    if lines:
        opening = [f"<h2>{html.escape(ANSWER_TITLE)}</h2>"]
        if verdicts and verdicts["agents"]:
            opening.append(f"<div class=wide>{matrix_html(verdicts)}</div>")
        opening += [f"<p>{inline(x)}</p>" for x in lines]
        if fig is not None:
            data = base64.b64encode(fig.read_bytes()).decode("ascii")
            opening += [
                f'<img alt="{html.escape(ANSWER_TITLE)}" src="data:image/png;base64,{data}">',
                f"<p class=cap>{html.escape(ANSWER_CAPTION)}</p>",
            ]
    parts = [
        f"<h1>{html.escape(_title(results))}</h1>",
        *opening,
        "<h2>What the numbers say</h2>",
        paras[0],
        f"<ul>{items}</ul>",
        *paras[1:],
    ]
    for kind, item in _order(tables, figures):
        if kind == "table":
            parts += [f"<h2>{html.escape(item[0])}</h2>", _html_table(*item[1])]
            continue
        key, title, caption = item
        data = base64.b64encode(figures[key].read_bytes()).decode("ascii")
        img = f'<img alt="{title}" src="data:image/png;base64,{data}">'
        caption = html.escape(_caption(results, key, caption))
        parts += [f"<h2>{title}</h2>", f"<p class=cap>{caption}</p>", img]
    return (
        f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>{html.escape(_title(results))}</title>"
        f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n"
    )

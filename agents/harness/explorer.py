"""An interactive explorer of a comparison: pick a suite and an agent, step through its tasks.

:func:`explorer_html` returns an HTML ``<section>`` (for the report) and :func:`write_explorer` a
standalone page. Both are self-contained: plain JavaScript, the data embedded as one compact JSON
blob, no server and no library. For each task the page draws the agent's path over the maze beside
a shortest path (the one sharing most cells with the agent's, as the metrics pick it), with its
metrics; a checkbox filters to failures (not exact), buttons and the arrow keys step.

What is embedded, per (agent, suite): the tasks with index below ``first`` and up to ``failures``
failed tasks beyond those (lowest indices first); the page says how many of how many it shows.
Encoding (``"v": 1``):

- a maze is its ``connections[2, R, C]`` (down, right passages) packed by ``np.packbits`` in C
  order, base64;
- a path is a string: the first cell ``"r,c"``, then one letter per unit move (``u r d l``), and
  ``[r,c]`` for a move to a cell that is not a neighbour (a jump, a stay, leaving the grid).

With the default caps a 25-suite, 10-agent run embeds at most 25 x 10 x 200 = 50,000 paths.
"""

from __future__ import annotations

import base64
import heapq
import html
import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.harness.metrics import compute_metrics, judge_trajectory, reference_path
from maze_env.maze import Task
from maze_env.solve import task_distances
from maze_env.types import Coord

FIRST = 100
"""Tasks embedded per (agent, suite) regardless of outcome: indices ``0 .. FIRST - 1``."""
FAILURES = 100
"""Failed tasks embedded per (agent, suite) beyond the first ``FIRST`` (lowest indices first)."""
FORMAT = 1
_MOVES = {(-1, 0): "u", (0, 1): "r", (1, 0): "d", (0, -1): "l"}
Key = tuple[str, str, int]


# -- encoding -----------------------------------------------------------------------------------
def encode_maze(connections: np.ndarray) -> str:
    """``bool[2, R, C]`` passages as base64 of ``np.packbits`` (big-endian bits, C order)."""
    bits = np.packbits(np.asarray(connections, dtype=bool).ravel())
    return base64.b64encode(bits.tobytes()).decode("ascii")


def decode_maze(text: str, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`encode_maze`: ``bool[2, R, C]``."""
    n = 2 * shape[0] * shape[1]
    bits = np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8))[:n]
    return bits.astype(bool).reshape(2, *shape)


_LUT = np.frombuffer(b"?u?l?r?d?", dtype=np.uint8)  # (dr + 1) * 3 + (dc + 1) -> letter


def encode_path(cells: Sequence[Coord] | np.ndarray) -> str:
    """Cells as ``"r,c"`` then a letter per unit move, ``[r,c]`` for any other step ("" if empty)."""
    a = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
    if not len(a):
        return ""
    d = np.diff(a, axis=0)
    unit = np.abs(d).sum(axis=1) == 1
    head = f"{a[0, 0]},{a[0, 1]}"
    if unit.all():  # the common case, vectorized
        return head + _LUT[(d[:, 0] + 1) * 3 + d[:, 1] + 1].tobytes().decode("ascii")
    out = [head]
    for (r, c), (dr, dc), ok in zip(a[1:].tolist(), d.tolist(), unit.tolist(), strict=True):
        out.append(_MOVES[(dr, dc)] if ok else f"[{r},{c}]")
    return "".join(out)


def decode_path(text: str) -> list[Coord]:
    """Inverse of :func:`encode_path` (the page's JavaScript does the same)."""
    if not text:
        return []
    i = 0
    while i < len(text) and text[i] in "-0123456789,":
        i += 1
    r, c = (int(v) for v in text[:i].split(","))
    cells = [(r, c)]
    deltas = {v: k for k, v in _MOVES.items()}
    while i < len(text):
        if text[i] == "[":
            j = text.index("]", i)
            r, c = (int(v) for v in text[i + 1 : j].split(","))
            i = j + 1
        else:
            dr, dc = deltas[text[i]]
            r, c = r + dr, c + dc
            i += 1
        cells.append((r, c))
    return cells


# -- choosing what to embed ---------------------------------------------------------------------
class _Pick:
    """Streaming choice for one (agent, suite): every index < ``first``, the lowest failures after.

    Only the cells of kept rows are held (at most ``first + failures`` per pair).
    """

    def __init__(self, first: int, failures: int) -> None:
        self.first, self.failures = first, failures
        self.rows: dict[int, tuple[list[Coord], Mapping[str, Any]]] = {}
        self.late: list[tuple[int, int, list[Coord], Mapping[str, Any]]] = []  # max-heap by index
        self.n_rows = self.n_failed = 0

    def offer(self, index: int, failed: bool, trajectory: Any, metrics: Mapping[str, Any]) -> None:
        self.n_rows += 1
        self.n_failed += failed
        if index < self.first:
            self.rows[index] = (_cells(trajectory), metrics)
        elif failed and self.failures > 0:
            if len(self.late) < self.failures or -self.late[0][0] > index:
                item = (-index, self.n_rows, _cells(trajectory), metrics)  # n_rows: a tie-break
                heapq.heappush(self.late, item)
                if len(self.late) > self.failures:
                    heapq.heappop(self.late)

    def chosen(self) -> dict[int, tuple[list[Coord], Mapping[str, Any]]]:
        out = dict(self.rows)
        out.update({-i: (cells, m) for i, _, cells, m in self.late})
        return dict(sorted(out.items()))


def _cells(trajectory: Any) -> list[Coord]:
    """Cells of a Trajectory, of its JSON dict, or of a plain cell list."""
    if isinstance(trajectory, Mapping):
        trajectory = trajectory["cells"]
    elif hasattr(trajectory, "cells"):
        trajectory = trajectory.cells
    return [tuple(c) for c in trajectory]  # type: ignore[misc]


def _failed(row: Mapping[str, Any], metrics: Mapping[Key, Mapping[str, Any]] | None) -> bool | None:
    m = row.get("metrics")
    if m is None and metrics is not None:
        m = metrics.get((row["agent"], row["suite"], int(row["index"])))
    return None if m is None else not m["exact"]


def _task(tasks: Any, index: int) -> Task:
    return tasks[int(index)]


# -- the data blob ------------------------------------------------------------------------------
def explorer_data(
    tasks_by_suite: Mapping[str, Any],
    predictions: Iterable[Mapping[str, Any]],
    metrics: Mapping[Key, Mapping[str, Any]] | None = None,
    *,
    agent_names: Mapping[str, str] | None = None,
    first: int = FIRST,
    failures: int = FAILURES,
) -> dict[str, Any]:
    """The JSON-ready dict the page embeds (format in the module docstring).

    Args:
        tasks_by_suite: suite name -> its tasks, indexable by task index (a ``MazeDataset`` or a
            list of :class:`Task`); suites appear in this order.
        predictions: rows ``{"agent", "suite", "index", "trajectory"[, "metrics"]}`` (the runner's
            prediction rows), streamed once; ``trajectory`` is a Trajectory, its JSON dict or a
            cell list; rows for suites not in ``tasks_by_suite`` are ignored.
        metrics: per-task metric dicts by ``(agent, suite, index)`` for rows without ``"metrics"``
            (else they are computed here).
        agent_names: agent spec -> label; agents appear in this order, then any others in order
            of first appearance.
        first: tasks embedded per (agent, suite) whatever their outcome (indices below it).
        failures: failed tasks embedded beyond those, per (agent, suite), lowest indices first.
    """
    if first < 0 or failures < 0:
        raise ValueError(f"first and failures must be >= 0, got first={first}, failures={failures}")
    picks: dict[tuple[str, str], _Pick] = {}
    order = list(agent_names or {})
    for row in predictions:
        agent, suite, index = str(row["agent"]), str(row["suite"]), int(row["index"])
        if suite not in tasks_by_suite:
            continue
        if agent not in order:
            order.append(agent)
        failed = _failed(row, metrics)
        m = row.get("metrics") or (metrics or {}).get((agent, suite, index))
        if failed is None:  # no metrics given: judge here
            m = compute_metrics(_task(tasks_by_suite[suite], index), _traj(row)).to_dict()
            failed = not m["exact"]
        pick = picks.setdefault((agent, suite), _Pick(first, failures))
        pick.offer(index, failed, row["trajectory"], m)
    suites, runs = [], {}
    for name, tasks in tasks_by_suite.items():
        chosen = {a: picks[(a, name)].chosen() for a in order if (a, name) in picks}
        if not chosen:
            continue
        indices = sorted({i for rows in chosen.values() for i in rows})
        encoded, shortest = _encode_tasks(tasks, indices)
        suites.append(
            {"name": name, "shape": list(_task(tasks, indices[0]).maze.shape), "tasks": encoded}
        )
        runs[name] = {
            a: {
                "n": picks[(a, name)].n_rows,
                "failed": picks[(a, name)].n_failed,
                "rows": [
                    _entry(_task(tasks, i), i, t, m, shortest[i]) for i, (t, m) in rows.items()
                ],
            }
            for a, rows in chosen.items()
        }
    names = dict(agent_names or {})
    agents = [{"id": a, "label": str(names.get(a, a))} for a in order]
    agents = [a for a in agents if any(a["id"] in r for r in runs.values())]
    return {
        "v": FORMAT,
        "caps": {"first": first, "failures": failures},
        "agents": agents,
        "suites": suites,
        "runs": runs,
    }


def _traj(row: Mapping[str, Any]) -> list[Coord]:
    return _cells(row["trajectory"])


def _encode_tasks(tasks: Any, indices: list[int]) -> tuple[dict[str, list], dict[int, tuple]]:
    """``{index: [maze, or, oc, tr, tc, shortest path]}`` and each task's shortest path cells."""
    encoded, shortest = {}, {}
    for i in indices:
        task = _task(tasks, i)
        distances = task_distances(task)
        path = reference_path(task, (), distances) or ()
        shortest[i] = (tuple(path), *distances)
        encoded[str(i)] = [
            encode_maze(task.maze.connections),
            *task.origin,
            *task.target,
            encode_path(path),
        ]
    return encoded, shortest


def _entry(
    task: Task, index: int, trajectory: Any, m: Mapping[str, Any] | None, shortest: tuple
) -> list[Any]:
    """``[index, flags (1 reached, 2 exact), path, reference ("" = the task's), invalid kind,
    first invalid step]``; the reference is the shortest path sharing most cells with the path."""
    cells = _cells(trajectory)
    if m is None:
        m = compute_metrics(task, cells).to_dict()
    path, to_origin, to_target = shortest
    # the judged path is a prefix of the cells (cut at the first invalid move or the target)
    moves = m.get("path_length")
    judged = cells[: moves + 1] if moves is not None else judge_trajectory(task, cells).path
    if m["exact"]:
        ref: tuple = tuple(judged)
    else:
        ref = reference_path(task, judged, (to_origin, to_target)) or ()
    flags = int(bool(m["reached"])) | 2 * int(bool(m["exact"]))
    return [
        index,
        flags,
        encode_path(cells),
        "" if tuple(ref) == path else encode_path(ref),
        m.get("invalid_kind") or "",
        m.get("first_invalid_step"),
    ]


# -- HTML ---------------------------------------------------------------------------------------
_TEMPLATES = Path(__file__).with_name("templates")


def _asset(name: str) -> str:
    return (_TEMPLATES / name).read_text(encoding="utf-8")


def _section(data: Mapping[str, Any], element_id: str, title: str) -> str:
    blob = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", element_id):
        raise ValueError(
            f"element_id must be letters, digits, '_' or '-' (starting with a letter), got {element_id!r}"
        )
    caps = data["caps"]
    script = _asset("explorer.js").replace("__ROOT_ID__", json.dumps(element_id))
    legend = (
        '<span class=mbx-key style="background:#3a3"></span> origin '
        '<span class=mbx-key style="background:#d33"></span> target '
        '<span class=mbx-key style="background:#1f5fd1"></span> agent '
        '<span class=mbx-key style="background:#e11"></span> illegal move '
        '<span class=mbx-key style="background:#e08a00"></span> shortest path'
    )
    return f"""<section class=mbx id="{html.escape(element_id)}" tabindex=0>
<style>{_asset("explorer.css")}</style>
<h2>{html.escape(title)}</h2>
<p class=cap>Pick a suite and an agent and step through its tasks (buttons or arrow keys; the slider replays the agent's moves): the
agent's path over the maze beside the shortest path closest to it. Embedded per agent and suite:
the first {caps["first"]} tasks and up to {caps["failures"]} failures after them.</p>
<div class=mbx-controls>
<label>Suite <select class=mbx-suite></select></label>
<label>Agent <select class=mbx-agent></select></label>
<label><input type=checkbox class=mbx-fail> failures only</label>
<button type=button class=mbx-prev>&#9664; prev</button><span class=mbx-pos></span>
<button type=button class=mbx-next>next &#9654;</button>
</div>
<div class=mbx-info></div>
<label class=mbx-steps>agent's first <input type=range class=mbx-step min=0 max=0 value=0> <span class=mbx-stepn></span> moves</label>
<div class=mbx-views>
<figure><canvas class=mbx-cv-agent width=1 height=1></canvas><figcaption>agent's path</figcaption></figure>
<figure><canvas class=mbx-cv-ref width=1 height=1></canvas><figcaption>shortest path</figcaption></figure>
</div>
<p class=mbx-note></p><p class=mbx-legend>{legend}</p>
<script type="application/json" class=mbx-data>{blob}</script>
<script>{script}</script>
</section>"""


def explorer_html(
    tasks_by_suite: Mapping[str, Any],
    predictions: Iterable[Mapping[str, Any]],
    metrics: Mapping[Key, Mapping[str, Any]] | None = None,
    *,
    agent_names: Mapping[str, str] | None = None,
    first: int = FIRST,
    failures: int = FAILURES,
    element_id: str = "explorer",
    title: str = "Explorer",
) -> str:
    """The explorer as an HTML ``<section>`` with its style, data and script inline.

    Arguments as :func:`explorer_data`; ``element_id`` must be unique in the page (the script
    finds its section by it); ``title`` is the section's heading.
    """
    data = explorer_data(
        tasks_by_suite,
        predictions,
        metrics,
        agent_names=agent_names,
        first=first,
        failures=failures,
    )
    return _section(data, element_id, title)


def write_explorer(
    path: str | os.PathLike[str],
    tasks_by_suite: Mapping[str, Any],
    predictions: Iterable[Mapping[str, Any]],
    metrics: Mapping[Key, Mapping[str, Any]] | None = None,
    **kwargs: Any,
) -> Path:
    """Write a standalone explorer page atomically; arguments as :func:`explorer_html`."""
    section = explorer_html(tasks_by_suite, predictions, metrics, **kwargs)
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        "<title>Maze comparison explorer</title><style>body{font-family:system-ui,sans-serif;"
        "max-width:960px;margin:1em auto;padding:0 1em;color:#222}.cap{color:#555}</style>"
        f"</head><body>{section}</body></html>\n"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path

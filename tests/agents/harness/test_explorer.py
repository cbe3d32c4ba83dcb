"""The explorer: compact encodings round-trip, the embedded selection follows its caps, the page holds
its data safely (the browser side is in test_report_browser.py)."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from agents.harness.explorer import (
    decode_maze,
    decode_path,
    encode_maze,
    encode_path,
    explorer_data,
    explorer_html,
    write_explorer,
)
from agents.harness.metrics import compute_metrics
from maze_env import generate
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.solve import shortest_path

N = 30


@pytest.fixture(scope="module")
def dataset() -> MazeDataset:
    return MazeDataset.from_config(DatasetConfig(generator="dfs", shape=(5, 5), n=N, seed=3))


def _rows(dataset: MazeDataset) -> list[dict]:
    """``good`` always takes a shortest path; ``bad`` jumps to the target on odd indices."""
    rows = []
    for i, task in enumerate(dataset):
        path = shortest_path(task.maze, task.origin, task.target)
        bad = path if i % 2 == 0 or len(path) < 3 else [path[0], path[-1]]
        for agent, cells in (("good", path), ("bad", bad)):
            rows.append(
                {
                    "agent": agent,
                    "suite": "s",
                    "index": i,
                    "trajectory": {"cells": [list(c) for c in cells]},
                    "metrics": compute_metrics(task, cells).to_dict(),
                }
            )
    return rows


@pytest.mark.parametrize("shape", [(4, 4), (3, 7), (9, 2)])
def test_maze_encoding_round_trips(shape: tuple[int, int]) -> None:
    for seed in range(3):
        conn = generate("dfs", shape, seed=seed).connections
        back = decode_maze(encode_maze(conn), shape)
        assert back.shape == (2, *shape) and np.array_equal(back, conn)


def test_path_encoding_round_trips_unit_moves_jumps_stays_and_outside() -> None:
    cells = [(2, 3), (1, 3), (1, 4), (2, 4), (2, 3), (2, 3), (0, 0), (-1, 0), (5, 12)]
    text = encode_path(cells)
    assert text.startswith("2,3urdl[2,3][0,0]u[5,12]")
    assert decode_path(text) == cells
    assert encode_path([]) == "" and decode_path("") == []
    assert encode_path([(0, 0)]) == "0,0"
    rng = np.random.default_rng(0)  # a long walk of unit moves (the vectorized case)
    steps = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])[rng.integers(0, 4, 500)]
    walk = [tuple(v) for v in np.cumsum(np.vstack([[3, 3], steps]), axis=0).tolist()]
    text = encode_path(walk)
    assert len(text) == len("3,3") + 500 and set(text[3:]) <= set("urdl")
    assert decode_path(text) == walk and encode_path(np.array(walk)) == text


def test_selection_follows_caps_and_counts(dataset: MazeDataset) -> None:
    data = explorer_data({"s": dataset}, _rows(dataset), first=4, failures=3)
    assert data["caps"] == {"first": 4, "failures": 3}
    bad = data["runs"]["s"]["bad"]
    assert bad["n"] == N
    kept = [e[0] for e in bad["rows"]]
    failed = sorted(e[0] for e in bad["rows"] if not e[1] & 2)
    # indices 0..3 whatever their outcome, then the 3 lowest failures after them
    assert kept[:4] == [0, 1, 2, 3] and len(kept) == 7 and kept == sorted(kept)
    assert kept[4:] == failed[-3:] and all(i >= 4 for i in kept[4:])
    assert bad["failed"] == sum(
        1 for r in _rows(dataset) if r["agent"] == "bad" and not r["metrics"]["exact"]
    )
    assert 0 < bad["failed"] < N
    good = data["runs"]["s"]["good"]
    assert [e[0] for e in good["rows"]] == [0, 1, 2, 3] and good["failed"] == 0
    assert all(e[1] == 3 for e in good["rows"])  # reached and exact
    # the tasks of the suite: every embedded index once, with its endpoints
    tasks = data["suites"][0]["tasks"]
    assert sorted(map(int, tasks)) == sorted(set(kept) | {0, 1, 2, 3})
    t = dataset[kept[-1]]
    assert tasks[str(kept[-1])][1:5] == [*t.origin, *t.target]
    assert np.array_equal(decode_maze(tasks[str(kept[-1])][0], (5, 5)), t.maze.connections)


def test_selection_does_not_depend_on_row_order(dataset: MazeDataset) -> None:
    rows = _rows(dataset)
    shuffled = rows[:]
    random.Random(0).shuffle(shuffled)
    names = {"good": "Good", "bad": "Bad"}
    a = explorer_data({"s": dataset}, rows, agent_names=names, first=5, failures=4)
    b = explorer_data({"s": dataset}, shuffled, agent_names=names, first=5, failures=4)
    assert a == b
    assert [x["label"] for x in a["agents"]] == ["Good", "Bad"]


def test_metrics_computed_when_rows_lack_them(dataset: MazeDataset) -> None:
    rows = _rows(dataset)
    bare = [{k: v for k, v in r.items() if k != "metrics"} for r in rows]
    given = explorer_data({"s": dataset}, rows, first=6, failures=2)
    assert explorer_data({"s": dataset}, bare, first=6, failures=2) == given
    by_key = {(r["agent"], r["suite"], r["index"]): r["metrics"] for r in rows}
    assert explorer_data({"s": dataset}, bare, by_key, first=6, failures=2) == given


def test_failure_entries_show_a_shortest_path_and_the_illegal_move(dataset: MazeDataset) -> None:
    data = explorer_data({"s": dataset}, _rows(dataset), first=N, failures=0)
    tasks = data["suites"][0]["tasks"]
    failures = [e for e in data["runs"]["s"]["bad"]["rows"] if not e[1] & 2]
    assert failures
    for index, flags, path, ref, kind, step in failures:
        task = dataset[index]
        ref_cells = decode_path(ref or tasks[str(index)][5])
        assert ref_cells == shortest_path(task.maze, task.origin, task.target)  # unique in a tree
        assert (
            decode_path(path)[-1] == task.target
            and kind in ("jump", "diagonal", "wall")
            and step == 0
        )
        assert flags == 0  # a jump is judged invalid: the target was not reached legally


def test_html_section_embeds_parseable_json_safely(dataset: MazeDataset) -> None:
    names = {"good": "</script><b>x</b>", "bad": "bad"}
    section = explorer_html({"s": dataset}, _rows(dataset), agent_names=names, element_id="ex1")
    assert section.startswith('<section class=mbx id="ex1"')
    assert section.count("</script>") == 2  # the data blob's and the code's
    blob = re.search(
        r'<script type="application/json" class=mbx-data>(.*?)</script>', section, re.S
    )
    data = json.loads(blob.group(1))
    assert data["agents"][0]["label"] == names["good"]
    assert 'document.getElementById("ex1")' in section
    with pytest.raises(ValueError, match="element_id must be"):
        explorer_html({"s": dataset}, [], element_id='x"></section>')


def test_write_explorer_standalone_page(dataset: MazeDataset, tmp_path: Path) -> None:
    path = write_explorer(tmp_path / "sub" / "explorer.html", {"s": dataset}, _rows(dataset))
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "class=mbx " in text and [p.name for p in path.parent.iterdir()] == ["explorer.html"]


def test_rows_of_unknown_suites_are_ignored_and_bad_caps_refused(dataset: MazeDataset) -> None:
    rows = [{**r, "suite": "other"} for r in _rows(dataset)]
    assert explorer_data({"s": dataset}, rows)["suites"] == []
    with pytest.raises(ValueError, match="first and failures must be >= 0"):
        explorer_data({"s": dataset}, [], first=-1)


def test_default_caps_bound_the_size(dataset: MazeDataset) -> None:
    """1000 rows per agent embed at most 200 per agent (first 100 + 100 failures)."""
    big = MazeDataset.from_config(DatasetConfig(generator="dfs", shape=(5, 5), n=400, seed=4))
    data = explorer_data({"s": big}, _rows(big))
    assert len(data["runs"]["s"]["good"]["rows"]) == 100
    assert len(data["runs"]["s"]["bad"]["rows"]) == 200

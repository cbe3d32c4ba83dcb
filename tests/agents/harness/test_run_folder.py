"""The run folder's predictions store: compact rows, torn writes, legacy files, merge output."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from agents.harness.progress import LogProgress, progress
from agents.harness.run_folder import (
    LEGACY_PREDICTIONS,
    PREDICTIONS,
    PredictionWriter,
    complete_length,
    decode_cells,
    decode_row,
    done_keys,
    encode_cells,
    encode_row,
    read_predictions,
    write_predictions,
)


def _row(index: int, cells: list, actions: list | None = None, **traj) -> dict:
    from agents.base import Trajectory

    t = Trajectory.from_cells([tuple(c) for c in cells], **traj).to_json()
    if actions is not None:
        t["actions"] = actions
    return {"agent": "a", "suite": "s", "index": index, "origin": [0, 0], "target": [1, 1],
            "trajectory": t, "metrics": {"exact": index % 2 == 0, "seconds": 0.000123456}}  # fmt: skip


@pytest.mark.parametrize(
    "cells",
    [
        [[0, 0], [0, 1], [1, 1]],  # unit moves
        [[0, 0], [0, 0], [2, 2], [-1, 5], [-1, 4]],  # a stay, a jump, outside the maze
        [[3, 3], [3, 2]],  # a bad start (not the origin)
        [[0, 0]],
        [],
    ],
)
def test_rows_round_trip_exactly(cells: list) -> None:
    row = _row(0, cells, nodes_expanded=7, gave_up=True, extra={"simulations": 3})
    back = decode_row(json.loads(json.dumps(encode_row(row))))
    assert back["trajectory"]["seconds"] == 0.0 and back["metrics"]["seconds"] == 0.000123
    row["metrics"]["seconds"] = 0.000123
    assert back == row
    assert decode_cells(encode_cells(cells, [0, 0]), [0, 0]) == [tuple(c) for c in cells]


def test_actions_that_differ_from_the_cells_are_kept() -> None:
    row = _row(0, [[0, 0], [0, 1]], actions=[2])
    assert encode_row(row)["path"]["actions"] == [2]
    assert decode_row(encode_row(row))["trajectory"]["actions"] == [2]


def test_the_store_is_compact() -> None:
    walk = [[0, c % 7] for c in range(400)]  # a long path, as a random walk writes
    rows = [_row(i, walk) for i in range(50)]
    plain = sum(len(json.dumps(r)) + 1 for r in rows)
    packed = len(gzip.compress("".join(json.dumps(encode_row(r)) + "\n" for r in rows).encode()))
    assert packed < plain / 50


def test_a_torn_chunk_is_dropped_and_appends_resume_after_it(tmp_path: Path) -> None:
    rows = [_row(i, [[0, 0], [0, 1]]) for i in range(9)]
    with PredictionWriter(tmp_path) as w:
        w.write(rows[:4])
        w.write(rows[4:6])
    good = (tmp_path / PREDICTIONS).stat().st_size
    with open(tmp_path / PREDICTIONS, "ab") as f:  # a chunk killed half-way through its write
        f.write(gzip.compress(b'{"agent": "a"}\n' * 50)[:40])
    assert complete_length(tmp_path / PREDICTIONS) == good
    assert [r["index"] for r in read_predictions(tmp_path)] == list(range(6))
    assert done_keys(tmp_path) == {("a", "s", i) for i in range(6)}
    assert (tmp_path / PREDICTIONS).stat().st_size == good, "done_keys repairs the tail"
    with PredictionWriter(tmp_path) as w:
        w.write(rows[6:])
    assert [r["index"] for r in read_predictions(tmp_path)] == list(range(9))
    with gzip.open(tmp_path / PREDICTIONS, "rt") as f:  # plain gzip tools read it too
        assert len(f.read().splitlines()) == 9


def test_legacy_jsonl_folders_are_read_and_resumed(tmp_path: Path) -> None:
    rows = [_row(i, [[0, 0], [1, 0]]) for i in range(5)]
    text = "".join(json.dumps(r) + "\n" for r in rows[:3])
    (tmp_path / LEGACY_PREDICTIONS).write_text(text + '{"agent": "a", "su')  # torn last line
    assert [r["index"] for r in read_predictions(tmp_path)] == [0, 1, 2]
    with PredictionWriter(tmp_path) as w:
        w.write(rows[2:])  # a duplicate of row 2: the first copy wins
    assert [r["index"] for r in read_predictions(tmp_path)] == [0, 1, 2, 3, 4]
    write_predictions(tmp_path, read_predictions(tmp_path), rows_per_member=2)
    assert not (tmp_path / LEGACY_PREDICTIONS).exists()
    assert [r["trajectory"]["cells"] for r in read_predictions(tmp_path)] == [[[0, 0], [1, 0]]] * 5


def test_progress_writes_whole_lines_off_a_terminal() -> None:
    stream, now = io.StringIO(), [0.0]
    assert isinstance(progress(100, "compare", "task", stream=stream), LogProgress)
    bar = LogProgress(100, "compare", "task", stream, every=10.0, clock=lambda: now[0])
    for _ in range(10):
        now[0] += 3.0
        bar.set_postfix_str("bfs on size_4")
        bar.update(10)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and 3 <= len(lines) <= 5
    assert lines[0].startswith("compare: 40/100 task (40.0%), 0:12 elapsed") and "left" in lines[0]
    assert lines[-1].startswith("compare: 100/100 task (100.0%), 0:30 elapsed")
    assert "bfs on size_4" in lines[-1]


def test_run_folder_files_get_the_umasks_permissions(tmp_path: Path) -> None:
    import os
    import stat

    from agents.harness.run_folder import atomic_write_json

    old = os.umask(0o022)
    try:
        write_predictions(tmp_path, [_row(0, [(0, 0), (0, 1)])])
        atomic_write_json(tmp_path / "config.json", {"a": 1})
    finally:
        os.umask(old)
    for name in (PREDICTIONS, "config.json"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name


def _comparable(rows: list[dict]) -> dict:
    """Rows by key without wall times (the only field that differs between two runs)."""
    out = {}
    for r in rows:
        traj = {k: v for k, v in r["trajectory"].items() if k != "seconds"}
        metrics = {k: v for k, v in r["metrics"].items() if k != "seconds"}
        out[(r["agent"], r["suite"], r["index"])] = (r["origin"], r["target"], traj, metrics)
    return out


def test_a_damaged_chunk_is_reported_and_a_resume_recomputes_its_rows(tmp_path: Path) -> None:
    from agents.harness.run_folder import DamagedPredictionsWarning, scan_damage
    from agents.harness.runner import run_comparison

    def compare(out: Path) -> Path:
        return run_comparison(
            ["bfs"], ["size_4"], out, n=12, progress=False, chunk_size=3, report=False
        )

    clean = read_predictions(compare(tmp_path / "clean"))
    out = compare(tmp_path / "run")
    path = out / PREDICTIONS
    data = bytearray(path.read_bytes())
    second = data.index(b"\x1f\x8b\x08", 1)  # the second chunk's member (bfs + random_fork: 8)
    data[second + 40 : second + 60] = b"\x00" * 20
    path.write_bytes(bytes(data))
    assert scan_damage(out).n_rows == 3
    with pytest.warns(
        DamagedPredictionsWarning, match=r"predictions\.jsonl\.gz: 1 damaged .*3 rows"
    ):
        damaged = read_predictions(out)
    assert len(damaged) == len(clean) - 3  # only that chunk's rows are missing, not the rest
    with pytest.warns(DamagedPredictionsWarning):
        compare(out)  # the resume drops the damaged chunk and recomputes its rows
    assert scan_damage(out).rows == []
    assert _comparable(read_predictions(out)) == _comparable(clean)
    results = json.loads((out / "results.json").read_text())["suites"]
    assert results == json.loads((tmp_path / "clean" / "results.json").read_text())["suites"]


def test_a_damaged_chunk_warns_on_stderr(tmp_path: Path) -> None:
    import subprocess
    import sys

    rows = [_row(i, [(0, 0), (0, 1)]) for i in range(6)]
    with PredictionWriter(tmp_path) as writer:
        writer.write(rows[:2]), writer.write(rows[2:4]), writer.write(rows[4:])
    data = bytearray((tmp_path / PREDICTIONS).read_bytes())
    first_end = data.index(b"\x1f\x8b\x08", 1)
    data[first_end - 12 : first_end - 8] = b"\xff\xff\xff\xff"  # the first member's deflate end
    (tmp_path / PREDICTIONS).write_bytes(bytes(data))
    code = "import sys; from agents.harness.run_folder import read_predictions as r; print(len(r(sys.argv[1])))"
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "4"
    assert f"{tmp_path / PREDICTIONS}: 1 damaged chunk(s); 2 rows could not be read" in out.stderr

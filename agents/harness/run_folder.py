"""The run folder's files: atomic writes, ``config.json``, and the predictions store.

Predictions live in ``predictions.jsonl.gz``: gzip members appended one per finished chunk (a
member is written in one call and flushed), each holding JSON lines, one per (agent, suite, task
index). ``zcat predictions.jsonl.gz`` shows them. A run killed mid-write leaves a torn last member:
:func:`repair_predictions` cuts the file back to the end of the last complete member, so a rerun
appends after it and resumes. Older run folders with a plain ``predictions.jsonl`` are still read
(and resumed: new rows go to the ``.gz`` file).

A row in memory (what :func:`iter_predictions` yields and the runner produces)::

    {"agent", "suite", "index", "origin": [r, c], "target": [r, c],
     "trajectory": Trajectory.to_json(), "metrics": TaskMetrics.to_dict()}

On disk the trajectory is stored compactly (:func:`encode_row`): its cells as a move string from
the origin (``U``/``R``/``D``/``L`` for a unit move, ``(r,c)`` for any other step), actions only
when they differ from those the cells imply, counters only when not at their defaults, and wall
times to 3 significant digits. :func:`decode_row` restores the in-memory row exactly (up to that
rounding of ``seconds``).
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from maze_env.files import (
    atomic_path,
    atomic_write_bytes,  # noqa: F401  (re-exported: older imports)
    atomic_write_text,
    read_json_object,
)
from maze_env.types import ACTION_OF_DELTA

Key = tuple[str, str, int]
"""A prediction's identity: (agent spec, suite name, task index)."""
PREDICTIONS = "predictions.jsonl.gz"
LEGACY_PREDICTIONS = "predictions.jsonl"
_LETTERS = "URDL"
"""The letter of each action id (0 up, 1 right, 2 down, 3 left: :mod:`maze_env.types`)."""
_MOVES = {delta: _LETTERS[action] for delta, action in ACTION_OF_DELTA.items()}
_DELTAS = {v: k for k, v in _MOVES.items()}
_ACTION_OF = {letter: action for action, letter in enumerate(_LETTERS)}


# -- atomic files ---------------------------------------------------------------------------------
# atomic_write_bytes / atomic_write_text are maze_env.files' (imported above, and still importable
# from here as before: the report re-exports them).
def atomic_write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically; NaN is refused."""
    return atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


def load_config(out_dir: str | Path) -> dict[str, Any]:
    """``config.json`` of a run folder, or ``FileNotFoundError`` saying what the folder lacks."""
    path = Path(out_dir) / "config.json"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: {out_dir} is not a run folder of `mazebench compare`"
        )
    return read_json_object(path, "; use a new --out folder")


# -- the compact row ------------------------------------------------------------------------------
def _round_seconds(value: Any) -> Any:
    return float(f"{value:.3g}") if isinstance(value, float) else value


_CODE = {(dr, dc): (dr + 1) * 3 + (dc + 1) for dr, dc in _MOVES}
"""A unit move's ``(dr + 1) * 3 + (dc + 1)``; the tables below map it to letters and back."""
_LETTER_OF_CODE = np.zeros(9, np.uint8)
_UNIT_CODE = np.zeros(9, bool)
_DELTA_OF_BYTE = np.zeros((256, 2), np.int64)
_ACTION_OF_BYTE = np.full(256, -1, np.int64)
for (_dr, _dc), _code in _CODE.items():
    _letter = _MOVES[(_dr, _dc)]
    _LETTER_OF_CODE[_code], _UNIT_CODE[_code] = ord(_letter), True
    _DELTA_OF_BYTE[ord(_letter)] = (_dr, _dc)
    _ACTION_OF_BYTE[ord(_letter)] = _ACTION_OF[_letter]


def _as_cells(cells: Any) -> np.ndarray:
    arr = np.asarray(cells, dtype=np.int64)
    return arr.reshape(-1, 2)


def encode_cells(cells: Any, origin: Iterable[int]) -> dict[str, Any]:
    """``{"moves": "RRD(4,4)L"}`` for cells (``int[L, 2]`` or pairs) starting at ``origin``
    (else ``"start"`` is added; ``{"start": None, "moves": ""}`` for no cell). Vectorized: a
    40,000-step random walk encodes in about a millisecond."""
    arr = _as_cells(cells)
    if len(arr) == 0:
        return {"start": None, "moves": ""}
    out: dict[str, Any] = {}
    if tuple(int(v) for v in arr[0]) != tuple(int(v) for v in origin):
        out["start"] = [int(arr[0, 0]), int(arr[0, 1])]
    d = np.diff(arr, axis=0)
    unit = (np.abs(d) <= 1).all(axis=1)
    code = np.where(unit, (d[:, 0] + 1) * 3 + (d[:, 1] + 1), 0)
    unit &= _UNIT_CODE[code]
    if unit.all():
        out["moves"] = _LETTER_OF_CODE[code].tobytes().decode("ascii")
        return out
    parts = [
        chr(_LETTER_OF_CODE[c]) if u else f"({int(r)},{int(k)})"
        for c, u, (r, k) in zip(code.tolist(), unit.tolist(), arr[1:].tolist(), strict=True)
    ]
    out["moves"] = "".join(parts)
    return out


def _decode_array(data: Mapping[str, Any], origin: Iterable[int]) -> np.ndarray:
    """Cells ``int64[L, 2]`` of :func:`encode_cells`'s output."""
    if "start" in data and data["start"] is None:
        return np.zeros((0, 2), np.int64)
    start = np.asarray(data["start"] if "start" in data else list(origin), np.int64)
    moves: str = data["moves"]
    if "(" not in moves:
        codes = np.frombuffer(moves.encode("ascii"), np.uint8)
        cells = np.empty((len(codes) + 1, 2), np.int64)
        cells[0] = start
        np.cumsum(_DELTA_OF_BYTE[codes], axis=0, out=cells[1:])
        cells[1:] += start
        return cells
    cell, out, i = (int(start[0]), int(start[1])), [], 0
    out.append(cell)
    while i < len(moves):
        if moves[i] == "(":
            end = moves.index(")", i)
            r, c = moves[i + 1 : end].split(",")
            cell, i = (int(r), int(c)), end + 1
        else:
            dr, dc = _DELTAS[moves[i]]
            cell, i = (cell[0] + dr, cell[1] + dc), i + 1
        out.append(cell)
    return np.asarray(out, np.int64).reshape(-1, 2)


def decode_cells(data: Mapping[str, Any], origin: Iterable[int]) -> list[tuple[int, int]]:
    """The cells of :func:`encode_cells`'s output, given the same ``origin``."""
    return [(r, c) for r, c in _decode_array(data, origin).tolist()]


def _implied_actions(moves: str) -> list[int]:
    """Actions the move string implies: the action of each unit move, -1 for any other step."""
    if "(" not in moves:
        return _ACTION_OF_BYTE[np.frombuffer(moves.encode("ascii"), np.uint8)].tolist()
    out, i = [], 0
    while i < len(moves):
        if moves[i] == "(":
            i = moves.index(")", i) + 1
            out.append(-1)
        else:
            out.append(_ACTION_OF[moves[i]])
            i += 1
    return out


_TRAJ_DEFAULTS = {"nodes_expanded": 0, "forward_passes": 0, "gave_up": False, "extra": {}}


def encode_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The on-disk form of a prediction row (module docstring)."""
    traj = row["trajectory"]
    path = encode_cells(traj["cells"], row["origin"])
    if list(traj["actions"]) != _implied_actions(path["moves"]):
        path["actions"] = list(traj["actions"])
    for key, default in _TRAJ_DEFAULTS.items():
        if traj.get(key, default) != default:
            path[key] = traj[key]
    path["seconds"] = _round_seconds(traj.get("seconds", 0.0))
    metrics = {k: _round_seconds(v) if k == "seconds" else v for k, v in row["metrics"].items()}
    return {
        "agent": row["agent"],
        "suite": row["suite"],
        "index": int(row["index"]),
        "origin": list(row["origin"]),
        "target": list(row["target"]),
        "path": path,
        "metrics": metrics,
    }


def decode_row(data: Mapping[str, Any]) -> dict[str, Any]:
    """The in-memory prediction row of an on-disk one (:func:`encode_row`'s inverse)."""
    if "trajectory" in data:  # a legacy predictions.jsonl row
        return dict(data)
    path = data["path"]
    cells = _decode_array(path, data["origin"]).tolist()
    actions = path["actions"] if "actions" in path else _implied_actions(path["moves"])
    trajectory = {
        "cells": cells,
        "actions": list(actions),
        "nodes_expanded": path.get("nodes_expanded", 0),
        "forward_passes": path.get("forward_passes", 0),
        "seconds": path.get("seconds", 0.0),
        "gave_up": path.get("gave_up", False),
        "extra": path.get("extra", {}),
    }
    return {
        "agent": data["agent"],
        "suite": data["suite"],
        "index": int(data["index"]),
        "origin": list(data["origin"]),
        "target": list(data["target"]),
        "trajectory": trajectory,
        "metrics": dict(data["metrics"]),
    }


def _member(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """One gzip member of JSON lines; its header's comment field says ``rows=N`` so that a
    damaged member can still say how many rows it held (``zcat`` and ``gzip`` ignore it)."""
    lines = [
        json.dumps(encode_row(r) if "trajectory" in r else r, separators=(",", ":")) + "\n"
        for r in rows
    ]
    data = "".join(lines).encode("utf-8")
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = comp.compress(data) + comp.flush()
    # RFC 1952: magic, deflate, FCOMMENT, mtime 0, no extra flags, OS unknown; comment, NUL
    header = b"\x1f\x8b\x08\x10\0\0\0\0\x00\xff" + f"rows={len(lines)}".encode() + b"\0"
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _rows_in_header(head: bytes) -> int | None:
    """The ``rows=N`` of a member header written by :func:`_member` (None: not one of those)."""
    if len(head) < 11 or head[:4] != b"\x1f\x8b\x08\x10":
        return None
    comment = head[10:].split(b"\0", 1)[0]
    if comment.startswith(b"rows=") and comment[5:].isdigit():
        return int(comment[5:])
    return None


class DamagedPredictionsWarning(UserWarning):
    """Some gzip members of a ``predictions.jsonl.gz`` are corrupt: their rows cannot be read.

    ``str(warning)`` names the file and the number of rows; a resumed ``mazebench compare`` into
    the folder recomputes them. Callers that must not go on with rows missing can turn it into an
    error (``warnings.simplefilter("error", DamagedPredictionsWarning)``) or ask
    :func:`scan_damage`.
    """


# -- reading and writing --------------------------------------------------------------------------
class PredictionWriter:
    """Appends chunks of rows to a run folder's ``predictions.jsonl.gz``, one gzip member each.

    Use as a context manager; :meth:`write` returns once the member is written and flushed, so
    a kill after it loses nothing and a kill during it loses only that chunk.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.path = Path(out_dir) / PREDICTIONS
        self._file: Any = None

    def __enter__(self) -> PredictionWriter:
        repair_predictions(self.path.parent)
        self._file = open(self.path, "ab")  # noqa: SIM115  (closed in __exit__)
        return self

    def write(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Append ``rows`` (in-memory rows) as one gzip member and flush it."""
        data = _member(rows)
        self._file.write(data)
        self._file.flush()

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass
class Damage:
    """What :func:`_members` could not read: ``(start, end)`` byte ranges of corrupt members and
    the rows they held (``None`` where a member does not say: written before the count was)."""

    ranges: list[tuple[int, int]] = field(default_factory=list)
    rows: list[int | None] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        """Rows known lost (members without a count add nothing)."""
        return sum(r or 0 for r in self.rows)

    def describe(self, path: Path) -> str:
        unknown = sum(r is None for r in self.rows)
        what = f"{self.n_rows} rows" + (
            f" (and those of {unknown} older chunks)" if unknown else ""
        )
        return (
            f"{path}: {len(self.rows)} damaged chunk(s); {what} could not be read and are left "
            "out; a resumed `mazebench compare` into this folder recomputes them"
        )


_MAGIC = b"\x1f\x8b\x08"


def _members(path: Path, damage: Damage | None = None) -> Iterator[tuple[bytes, int, int]]:
    """``(decompressed member, start offset, end offset)`` for each complete gzip member of
    ``path``, read in 64 KiB blocks (memory: one member). A corrupt member is skipped (recorded
    in ``damage``) and reading goes on at the next member; a torn last member ends it."""
    if path.stat().st_size == 0:
        return
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        start, size = 0, len(buf)
        while start < size:
            d, out, pos = zlib.decompressobj(wbits=31), [], start
            try:
                while not d.eof and pos < size:
                    block = buf[pos : pos + (1 << 16)]
                    out.append(d.decompress(block))
                    pos += len(block)
            except zlib.error:
                nxt = buf.find(_MAGIC, start + 1)
                nxt = size if nxt < 0 else nxt
                if damage is not None:
                    rows = _rows_in_header(buf[start : start + 32])
                    if damage.ranges and damage.ranges[-1][1] == start and rows is None:
                        damage.ranges[-1] = (damage.ranges[-1][0], nxt)  # a false magic inside
                    else:
                        damage.ranges.append((start, nxt))
                        damage.rows.append(rows)
                start = nxt
                continue
            if not d.eof:
                return  # a torn last member (an interrupted write)
            end = pos - len(d.unused_data)
            yield b"".join(out), start, end
            start = end


def scan_damage(out_dir: str | Path) -> Damage:
    """The corrupt members of the folder's ``predictions.jsonl.gz`` (empty if none or no file)."""
    path = Path(out_dir) / PREDICTIONS
    damage = Damage()
    if path.exists():
        for _ in _members(path, damage):
            pass
    return damage


def complete_length(path: str | Path) -> int:
    """Bytes of ``path`` up to the end of its last complete gzip member (0 for none)."""
    end = 0
    for _, _, member_end in _members(Path(path)):
        end = member_end
    return end


def repair_predictions(out_dir: str | Path) -> None:
    """Cut a torn last gzip member (an interrupted write) off the folder's predictions, and a
    torn last line off a legacy ``predictions.jsonl``, so appends start on a clean boundary.
    Corrupt members are dropped (with a :class:`DamagedPredictionsWarning`), so their rows are
    missing from :func:`done_keys` and a resume recomputes them."""
    path = Path(out_dir) / PREDICTIONS
    if path.exists():
        damage = Damage()
        spans = [(a, b) for _, a, b in _members(path, damage)]
        if damage.rows:
            warnings.warn(damage.describe(path), DamagedPredictionsWarning, stacklevel=2)
            with open(path, "rb") as f, atomic_path(path) as tmp, open(tmp, "wb") as g:
                for a, b in spans:
                    f.seek(a)
                    g.write(f.read(b - a))
        elif (spans[-1][1] if spans else 0) < path.stat().st_size:
            with open(path, "r+b") as f:
                f.truncate(spans[-1][1] if spans else 0)
    legacy = Path(out_dir) / LEGACY_PREDICTIONS
    if legacy.exists():
        _cut_torn_line(legacy)


def _cut_torn_line(path: Path, window: int = 1 << 24) -> None:
    """Truncate ``path`` after its last newline (looked for in the last ``window`` bytes)."""
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        start = f.seek(max(0, size - window))
        end = start + f.read().rfind(b"\n") + 1
        if end < size:
            f.truncate(end)


def _iter_raw(out_dir: Path) -> Iterator[dict[str, Any]]:
    legacy = out_dir / LEGACY_PREDICTIONS
    if legacy.exists():
        with open(legacy, "rb") as f:
            for line in f:
                if line.endswith(b"\n") and line.strip():
                    yield json.loads(line)
    path = out_dir / PREDICTIONS
    if path.exists():
        damage = Damage()
        for member, _, _ in _members(path, damage):
            for line in member.splitlines():
                if line.strip():
                    yield json.loads(line)
        if damage.rows:
            warnings.warn(damage.describe(path), DamagedPredictionsWarning, stacklevel=3)


def iter_predictions(
    out_dir: str | Path, repair: bool = False, decode: bool = True
) -> Iterator[dict[str, Any]]:
    """Stream the folder's prediction rows (the first of any duplicates).

    A torn last chunk (an interrupted write) is skipped; a corrupt chunk is skipped with a
    :class:`DamagedPredictionsWarning` that names the file and the rows lost.

    Args:
        out_dir: the run folder (no predictions: no rows).
        repair: first cut a torn tail off the files (:func:`repair_predictions`).
        decode: yield in-memory rows (with ``"trajectory"``); ``False`` yields the on-disk form
            (``"path"`` instead; same ``"metrics"``), which skips building every trajectory's
            cell lists (seconds for a default run): :func:`decode_row` turns one into the other.
    """
    out_dir = Path(out_dir)
    if repair:
        repair_predictions(out_dir)
    seen: set[Key] = set()
    for data in _iter_raw(out_dir):
        key = (data["agent"], data["suite"], int(data["index"]))
        if key not in seen:
            seen.add(key)
            yield decode_row(data) if decode else data


def read_predictions(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every prediction row of a run folder in a list (see :func:`iter_predictions`)."""
    return list(iter_predictions(out_dir))


def done_keys(out_dir: str | Path) -> set[Key]:
    """Keys of the rows already in the folder (repairing a torn tail first): what a resume skips."""
    out_dir = Path(out_dir)
    repair_predictions(out_dir)
    return {(d["agent"], d["suite"], int(d["index"])) for d in _iter_raw(out_dir)}


def write_predictions(
    out_dir: str | Path, rows: Iterable[Mapping[str, Any]], rows_per_member: int = 1000
) -> Path:
    """Write ``rows`` (in-memory or on-disk form) as the folder's whole predictions file,
    atomically (used by merge)."""
    out_dir = Path(out_dir)
    path = out_dir / PREDICTIONS
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        batch: list[Mapping[str, Any]] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= rows_per_member:
                f.write(_member(batch))
                batch = []
        if batch:
            f.write(_member(batch))
    (out_dir / LEGACY_PREDICTIONS).unlink(missing_ok=True)
    return path

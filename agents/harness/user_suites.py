"""Suites from users' own mazes: a dataset file (.npz) or a text file of AOTP lines.

:func:`load_user_suite` turns a file into the ``(Suite, SuiteData)`` pair the runner consumes:

- ``.npz``: a file written by :meth:`maze_env.dataset.MazeDataset.save` (format and content hash
  checked on load). The suite records the dataset's generator in its metadata.
- anything else: text, one task per line in maze-dataset's AOTP form (``<ADJLIST_START> (0,0)
  <--> (0,1) ; ... <ADJLIST_END> <ORIGIN_START> (r,c) <ORIGIN_END> <TARGET_START> (r,c)
  <TARGET_END> <PATH_START> ... <PATH_END>``, the path optional: a prompt ending at
  ``<PATH_START>`` is fine), as maze-dataset's ``as_tokens`` joined by spaces. Blank lines and
  lines starting with ``#`` are skipped; a ``# shape: RxC`` line fixes the grid (otherwise it is
  inferred from the largest coordinate over all lines, and lines that infer different grids are
  refused). A line :func:`maze_env.tokens.parse` reports a problem for, or whose target cannot be
  reached, is an error naming the file and line.

The suite's tasks are the file's, in order; they do not depend on the run's seed, and the run's
``n`` (when given) takes the first ``n``. Its ``generator`` is ``"user"`` (not a registered
generator: it cannot be regenerated from a recipe) and its ``metadata["source"]`` records the
file's absolute path, format and content hash, so :func:`user_suite_data` can reload it (for a
resumed run, ``finalize`` or ``merge``) and refuse a file that changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.harness.suites import Suite, SuiteData, check_disjoint
from agents.training_sets import TRAINING_SETS
from maze_env.dataset import DatasetConfig, MazeDataset, parse_shape
from maze_env.maze import MazeBatch
from maze_env.solve import batch_bfs_distances
from maze_env.tokens import parse

USER_GENERATOR = "user"
"""``Suite.generator`` of every user suite (marks it as loaded from a file, not generated)."""
NPZ_SUFFIXES = (".npz",)
_SHAPE_LINE = re.compile(r"^#\s*shape\s*[:=]?\s*(\S+)\s*$", re.I)
_BAD_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")


def is_user_suite(suite: Suite | Mapping[str, Any]) -> bool:
    """True for a suite (or its ``to_dict()``) made by :func:`load_user_suite`."""
    generator = suite.generator if isinstance(suite, Suite) else suite.get("generator")
    return generator == USER_GENERATOR


def suite_name_for(path: str | Path) -> str:
    """The default suite name of a file: its stem with disallowed characters as ``_``."""
    return _BAD_NAME.sub("_", Path(path).stem).strip("_") or "user"


def load_user_suite(
    path: str | Path,
    name: str | None = None,
    *,
    shape: Any = None,
    disjoint_from: Sequence[str | DatasetConfig] = (),
    description: str | None = None,
) -> tuple[Suite, SuiteData]:
    """A suite from a dataset file (.npz) or an AOTP text file (see the module docstring).

    Args:
        path: the file.
        name: the suite name (default: :func:`suite_name_for`).
        shape: ``(rows, cols)`` or ``"RxC"`` for an AOTP file (default: a ``# shape:`` line, else
            inferred); for .npz it must match the file's if given.
        disjoint_from: training sets (names of ``TRAINING_SETS`` or configs) that may not share a
            task (same maze, origin and target) with the file; checked here.
        description: one line for the report (default: the file name and task count).

    Returns:
        ``(suite, suite data)``; ``suite.n`` is the number of tasks in the file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an unreadable file or line (with its line number), or a shared task.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"user suite file {path} not found (expected .npz or AOTP text)")
    if path.suffix.lower() in NPZ_SUFFIXES:
        dataset, fmt = load_dataset_file(path), "npz"
        generator = dataset.config.generator
        if shape is not None and parse_shape(shape) != dataset.mazes.shape:
            raise ValueError(
                f"{path}: holds {dataset.mazes.shape} mazes, not the shape={shape} asked for"
            )
    else:
        dataset, fmt, generator = read_aotp(path, shape), "aotp", "unknown"
    rows, cols = dataset.mazes.shape
    name = name or suite_name_for(path)
    suite = Suite(
        name,
        USER_GENERATOR,
        (rows, cols),
        n=len(dataset),
        disjoint_from=tuple(_training_set(s) for s in disjoint_from),
        description=description or f"{path.name}: {len(dataset)} tasks, {rows}x{cols} ({fmt})",
        groups=("user",),
        metadata={
            "generator": generator,
            "source": {
                "path": str(path.resolve()),
                "format": fmt,
                "content_hash": dataset.content_hash(),
            },
        },
    )
    _check_training_sets(suite, dataset)
    return suite, SuiteData(suite, dataset)


_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
"""How a .npz (a zip archive; an empty one starts with the second) begins."""


def load_dataset_file(path: str | Path) -> MazeDataset:
    """:meth:`MazeDataset.load`, first refusing a file that is not a zip archive at all (numpy
    would read it as a pickle and advise loading it unsafely); errors name the file."""
    path = Path(path)
    with open(path, "rb") as f:  # a missing file: FileNotFoundError naming it
        head = f.read(4)
    if head not in _ZIP_MAGIC:
        raise ValueError(
            f"{path} is not a readable mazebench dataset (.npz written by MazeDataset.save or "
            "`mazebench generate --out`): not a zip archive"
        )
    return MazeDataset.load(path)


def user_suite_data(suite: Suite | Mapping[str, Any], n: int | None = None) -> SuiteData:
    """Reload a user suite from the file its metadata names; the first ``n`` tasks if given.

    Raises:
        ValueError: the file's content changed since the suite was made (its hash differs), or
            the suite is not a user suite.
    """
    if not isinstance(suite, Suite):
        if not is_user_suite(suite):
            raise ValueError(f"suite {suite.get('name')!r} is not a user suite")
        suite = _suite_from_dict(suite)
    source = suite.metadata.get("source") or {}
    if not is_user_suite(suite) or "path" not in source:
        raise ValueError(f"suite {suite.name!r} is not a user suite (no metadata.source.path)")
    _, data = load_user_suite(
        source["path"], suite.name, shape=suite.shape if source.get("format") == "aotp" else None
    )
    found = data.dataset.content_hash()
    if found != source.get("content_hash"):
        raise ValueError(
            f"user suite {suite.name!r}: {source['path']} changed since the run started "
            f"(content hash {found[:12]}, recorded {str(source.get('content_hash'))[:12]}); "
            "use a new --out folder"
        )
    dataset = data.dataset if n is None else take(data.dataset, n)
    return SuiteData(suite, dataset)


def take(dataset: MazeDataset, n: int) -> MazeDataset:
    """The first ``n`` tasks of ``dataset`` (all of them when ``n`` is larger)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if n >= len(dataset):
        return dataset
    keep = slice(0, n)
    return MazeDataset(
        dataset.config.replace(n=n),
        dataset.mazes[keep],
        dataset.origins[keep],
        dataset.targets[keep],
        dataset.path_lengths[keep],
        excluded=dataset.excluded,
    )


# -- AOTP text --------------------------------------------------------------------------------
def read_aotp(path: str | Path, shape: Any = None) -> MazeDataset:
    """The tasks of an AOTP text file (one per line) as a :class:`MazeDataset`.

    The dataset's ``config`` is a placeholder that only records the shape, the count and the
    file (``name="user:aotp:<file name>"``): the mazes were not generated here.
    """
    path = Path(path)
    lines = _task_lines(path)
    fixed = parse_shape(shape) if shape is not None else _shape_line(path)
    if not lines:
        raise ValueError(
            f"{path}: no tasks (one AOTP task per line; blank and # lines are skipped)"
        )
    parsed = [(no, parse(text, fixed, scheme="aotp")) for no, text in lines]
    if fixed is None:
        fixed = _common_shape(path, parsed)
        parsed = [
            (
                no,
                p
                if p.maze is not None and p.maze.shape == fixed
                else parse(text, fixed, scheme="aotp"),
            )
            for (no, text), (_, p) in zip(lines, parsed, strict=True)
        ]
    for no, p in parsed:
        if p.problems or p.task is None:
            why = "; ".join(p.problems[:3]) or "no task read"
            raise ValueError(f"{path}:{no}: not a valid AOTP task line: {why}")
    conn = np.stack([p.maze.connections for _, p in parsed])  # type: ignore[union-attr]
    origins = np.array([p.origin for _, p in parsed], dtype=np.int64)
    targets = np.array([p.target for _, p in parsed], dtype=np.int64)
    dist = batch_bfs_distances(conn, origins)
    lengths = dist[np.arange(len(parsed)), targets[:, 0], targets[:, 1]]
    if (lengths < 0).any():
        no = parsed[int(np.argmax(lengths < 0))][0]
        raise ValueError(f"{path}:{no}: the target cannot be reached from the origin in this maze")
    config = DatasetConfig(
        shape=fixed, n=len(parsed), min_path_length=0, dedupe=False, name=f"user:aotp:{path.name}"
    )
    return MazeDataset(config, MazeBatch(conn), origins, targets, lengths)


def _task_lines(path: Path) -> list[tuple[int, str]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is neither a mazebench dataset (.npz) nor UTF-8 text of AOTP lines: {err}"
        ) from None
    return [
        (no, line.strip())
        for no, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


def _shape_line(path: Path) -> tuple[int, int] | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        match = _SHAPE_LINE.match(line.strip())
        if match:
            try:
                return parse_shape(match.group(1))
            except ValueError as err:
                raise ValueError(f"{path}: bad '# shape:' line: {err}") from None
    return None


def _common_shape(path: Path, parsed: list) -> tuple[int, int]:
    """The one grid every line infers; several grids (or none) is an error."""
    shapes: dict[tuple[int, int], list[int]] = {}
    for no, p in parsed:
        if p.maze is None:
            why = "; ".join(p.problems[:3]) or "no coordinates"
            raise ValueError(f"{path}:{no}: not a valid AOTP task line: {why}")
        shapes.setdefault(p.maze.shape, []).append(no)
    if len(shapes) == 1:
        return next(iter(shapes))
    found = ", ".join(
        f"{r}x{c} (lines {', '.join(map(str, ls[:3]))}{'...' if len(ls) > 3 else ''})"
        for (r, c), ls in sorted(shapes.items())
    )
    raise ValueError(
        f"{path}: lines describe mazes of different sizes: {found}; a suite has one size: split the "
        "file by size, or add a '# shape: RxC' line if they share one grid (a line whose last row or "
        "column has no passage infers a smaller grid)"
    )


# -- helpers ----------------------------------------------------------------------------------
def _training_set(spec: str | DatasetConfig) -> DatasetConfig:
    if isinstance(spec, DatasetConfig):
        return spec
    if spec not in TRAINING_SETS:
        raise ValueError(f"unknown training set {spec!r}; known: {', '.join(TRAINING_SETS)}")
    return TRAINING_SETS[spec]


def _check_training_sets(suite: Suite, dataset: MazeDataset) -> None:
    train = []
    for config in suite.disjoint_from:
        if tuple(config.shape) == suite.shape:
            ds = MazeDataset.from_config(config)
            train.append((ds, set(ds.task_keys())))
    check_disjoint(suite, dataset, train)


def _suite_from_dict(d: Mapping[str, Any]) -> Suite:
    """A user suite from its ``to_dict()`` (``suite_from_dict`` refuses the ``user`` generator)."""
    keys = {k: d[k] for k in ("name", "shape", "n", "description", "groups", "metadata") if k in d}
    keys["disjoint_from"] = tuple(DatasetConfig.from_dict(c) for c in d.get("disjoint_from") or ())
    return Suite(generator=USER_GENERATOR, **keys)


__all__ = [
    "USER_GENERATOR",
    "is_user_suite",
    "load_dataset_file",
    "load_user_suite",
    "read_aotp",
    "suite_name_for",
    "take",
    "user_suite_data",
]

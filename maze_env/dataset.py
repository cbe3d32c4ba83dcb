"""Datasets of maze tasks: a hashable config, batched generation with filters, a cache, .npz files.

A :class:`DatasetConfig` names everything that determines a dataset (generator, shape, size,
seed, generator parameters, origin/target placements, filters); :meth:`DatasetConfig.hash` is a
sha256 of its canonical JSON, the same on every machine and release. A :class:`MazeDataset` is
the data: ``mazes: MazeBatch``, ``origins``/``targets: int64[N, 2]`` and ``path_lengths:
int32[N]``.

How tasks are drawn (:meth:`MazeDataset.from_config`): candidate ``i`` is maze ``i`` of the seed's
sequence (``generate_batch(..., start=i)``) with an origin and a target drawn uniformly from the
placements' cells by the counter-based stream ``i`` of a placement key derived from the seed (the
target avoids the origin whenever its placement allows another cell). A candidate is kept if its
target is reachable, its shortest path has at least ``min_path_length`` moves, it repeats no
earlier task (``dedupe``) and appears in no excluded dataset. The dataset is the first ``n`` kept
candidates, so it is i.i.d. from the task distribution conditioned on the filters, independent of
batch sizes and worker counts, and the dataset for ``n`` is a prefix of the one for ``n + 1``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from maze_env.files import atomic_path
from maze_env.generators import GeneratorSpec, check_params, generate_batch, get_spec
from maze_env.maze import MazeBatch, Task
from maze_env.placement import Placement, dead_end_mask, parse_placement
from maze_env.rng import next_u64, seed_key, stream_state
from maze_env.shapes import parse_shape
from maze_env.solve import batch_bfs_distances
from maze_env.types import Shape

FORMAT_VERSION = 1
"""Version of the .npz layout and of the way tasks are drawn; part of every config hash."""

_WINDOW = 100_000  # give up when fewer than 1 in _MIN_RATE_INV of the last _WINDOW candidates pass
_MIN_RATE_INV = 1000
_PLACEMENT_SALT = 0x706C6163  # "plac": separates placement streams from maze streams


def _int(value: Any, what: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{what} must be an int >= {low}, got {value!r}")
    return int(value)


def _canonical_params(spec: GeneratorSpec, params: Any) -> dict[str, Any]:
    """Checked generator parameters; an int for a float parameter becomes a float."""
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of generator parameters, got {params!r}")
    out = dict(params)
    check_params(spec, out)
    for k, v in out.items():
        if isinstance(spec.params[k], float) and isinstance(v, int) and not isinstance(v, bool):
            out[k] = float(v)
    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError(
            f"params must be JSON values (numbers, strings, bools, lists), got {out!r}"
        ) from None
    return out


@dataclass(frozen=True)
class DatasetConfig:
    """Everything that determines a dataset. Validated and canonicalized on construction.

    Attributes:
        generator: a key of ``maze_env.generators.GENERATORS``.
        shape: ``(rows, cols)`` in cells (``"6x6"`` is accepted).
        n: number of tasks (>= 1).
        seed: non-negative int; same config, same dataset, on every machine.
        params: generator parameters (names checked against the generator's; an int given for a
            float parameter is stored as a float, so ``p: 1`` and ``p: 1.0`` hash the same).
        origin: placement spec of the origin (see :mod:`maze_env.placement`), canonicalized.
        target: placement spec of the target.
        min_path_length: fewest moves on the shortest path from origin to target. The default 1
            only rules out ``origin == target``; 0 allows it. Unreachable targets are always
            rejected (every task is solvable).
        dedupe: no two tasks with the same maze, origin and target.
        name: an optional label; not part of :meth:`hash` (it does not change the data).
    """

    generator: str = "dfs"
    shape: Shape = (6, 6)
    n: int = 1000
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    origin: str = "random"
    target: str = "random"
    min_path_length: int = 1
    dedupe: bool = True
    name: str | None = None

    def __post_init__(self) -> None:
        spec = get_spec(self.generator)

        def set_(name: str, value: Any) -> None:  # frozen: canonical values are set once, here
            object.__setattr__(self, name, value)

        set_("shape", parse_shape(self.shape))
        set_("n", _int(self.n, "n", 1))
        set_("seed", _int(self.seed, "seed", 0))
        set_("min_path_length", _int(self.min_path_length, "min_path_length", 0))
        set_("params", _canonical_params(spec, self.params))
        size = f"{self.shape[0]}x{self.shape[1]}"
        for what in ("origin", "target"):
            placement = parse_placement(getattr(self, what))
            if not placement.mask(self.shape).any():
                raise ValueError(
                    f"{what} placement {placement.spec!r} allows no cell in a {size} maze"
                )
            set_(what, placement.spec)
        if not isinstance(self.dedupe, bool):
            raise ValueError(f"dedupe must be true or false, got {self.dedupe!r}")
        if self.name is not None and not isinstance(self.name, str):
            raise ValueError(f"name must be a string or null, got {self.name!r}")
        longest = self.shape[0] * self.shape[1] - 1
        if self.min_path_length > longest:
            raise ValueError(
                f"min_path_length={self.min_path_length} cannot be met in a {size} maze: no "
                f"shortest path is longer than {longest} moves"
            )

    def __hash__(self) -> int:
        return hash(self.hash())

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON/YAML-ready dict (``shape`` as a list); ``from_dict`` inverts it."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["shape"] = list(self.shape)
        out["params"] = dict(self.params)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetConfig:
        """Build from a dict; unknown keys and bad values raise ``ValueError`` naming what is allowed."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a dataset config must be a mapping, got {type(data).__name__}")
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise ValueError(
                f"unknown dataset config key(s) {unknown}; allowed: {', '.join(allowed)}"
            )
        return cls(**dict(data))

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> DatasetConfig:
        """Load a YAML (``.yaml``/``.yml``) or JSON file holding one config mapping."""
        import yaml  # JSON is YAML; safe_load reads both

        text = Path(path).read_text()
        try:
            data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as err:
            raise ValueError(f"cannot parse dataset config {path}: {err}") from None
        return cls.from_dict(data or {})

    def replace(self, **changes: Any) -> DatasetConfig:
        return dataclasses.replace(self, **changes)

    def hash(self) -> str:
        """Hex sha256 of the canonical JSON (sorted keys, no ``name``, with the format version)."""
        payload = {k: v for k, v in self.to_dict().items() if k != "name"}
        payload["format"] = FORMAT_VERSION
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(text.encode()).hexdigest()


@njit(cache=True)
def _placement_draws(key: np.uint64, start: int, n: int) -> np.ndarray:
    """``uint64[n, 2]``: two draws (origin, target) from stream ``start + i`` of family ``key``."""
    out = np.empty((n, 2), dtype=np.uint64)
    for i in range(n):
        state = stream_state(key, start + i)
        out[i, 0] = next_u64(state)
        out[i, 1] = next_u64(state)
    return out


def _placement_key(seed: int) -> int:
    key = seed_key(seed)
    ss = np.random.SeedSequence([key & 0xFFFFFFFF, key >> 32, _PLACEMENT_SALT])
    return int(ss.generate_state(1, np.uint64)[0])


def placement_masks(placement: Placement, conn: np.ndarray) -> np.ndarray:
    """``bool[N or 1, R*C]``: cells ``placement`` may choose in each maze of ``conn: bool[N, 2, R, C]``.

    Equal to ``placement.mask(shape, maze)`` per maze; one shared row unless the placement
    depends on the maze (``dead_end``: the cells of degree 1, or every cell if there are none).
    """
    _, _, rows, cols = conn.shape
    if placement.kind != "dead_end":
        return placement.mask((rows, cols)).reshape(1, -1)
    return dead_end_mask(conn)


def _pick(masks: np.ndarray, draws: np.ndarray, spec: str) -> np.ndarray:
    """Flat index of cell ``draws[i] % count_i`` among the True cells of ``masks[i]``."""
    counts = masks.sum(axis=1)
    if (counts == 0).any():
        raise ValueError(f"placement {spec!r} allows no cell in this maze shape")
    k = (draws % counts.astype(np.uint64)).astype(np.int64)
    return (np.cumsum(masks, axis=1) > k[:, None]).argmax(axis=1)


def task_keys(conn: np.ndarray, origins: np.ndarray, targets: np.ndarray) -> list[bytes]:
    """One ``bytes`` identity per task: the packed maze, its shape, origin and target."""
    n = conn.shape[0]
    head = np.asarray(conn.shape[1:], dtype="<u2").tobytes()
    packed = np.packbits(conn.reshape(n, int(np.prod(conn.shape[1:]))), axis=1)
    ends = np.concatenate([origins, targets], axis=1).astype("<u2").view(np.uint8)
    rows = np.ascontiguousarray(np.concatenate([packed, ends], axis=1))
    return [head + r for r in rows.view(f"V{rows.shape[1]}").ravel().tolist()]


@dataclass(frozen=True, eq=False)
class MazeDataset:
    """A dataset of tasks over one maze shape.

    Attributes:
        config: the config it was generated from.
        mazes: ``MazeBatch`` of ``bool[N, 2, R, C]``.
        origins: ``int64[N, 2]`` origin cells ``(row, col)``.
        targets: ``int64[N, 2]`` target cells.
        path_lengths: ``int32[N]`` shortest-path length in moves.
        excluded: content hashes of the datasets whose tasks were excluded.
    """

    config: DatasetConfig
    mazes: MazeBatch
    origins: np.ndarray
    targets: np.ndarray
    path_lengths: np.ndarray
    excluded: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n, shape = len(self.mazes), self.mazes.shape
        for what in ("origins", "targets"):
            cells = np.asarray(getattr(self, what), dtype=np.int64)
            if cells.shape != (n, 2):
                raise ValueError(f"{what} must be int[N, 2] with N={n}, got {list(cells.shape)}")
            if ((cells < 0) | (cells >= np.array(shape))).any():
                raise ValueError(f"{what} has a cell outside the {shape[0]}x{shape[1]} grid")
            cells.setflags(write=False)
            object.__setattr__(self, what, cells)
        lengths = np.asarray(self.path_lengths, dtype=np.int32)
        if lengths.shape != (n,):
            raise ValueError(f"path_lengths must be int[N] with N={n}, got {list(lengths.shape)}")
        lengths.setflags(write=False)
        object.__setattr__(self, "path_lengths", lengths)
        object.__setattr__(self, "excluded", tuple(self.excluded))

    def __len__(self) -> int:
        return len(self.mazes)

    def __getitem__(self, i: int) -> Task:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"MazeDataset indices must be ints, got {type(i).__name__}")
        o, t = self.origins[i], self.targets[i]
        return Task(self.mazes[int(i)], (int(o[0]), int(o[1])), (int(t[0]), int(t[1])))

    def __iter__(self) -> Iterator[Task]:
        for i in range(len(self)):
            yield self[i]

    def tasks(self) -> list[Task]:
        return list(self)

    def task_keys(self) -> list[bytes]:
        """Identity of every task (see :func:`task_keys`), for dedupe and exclusion."""
        return task_keys(self.mazes.connections, self.origins, self.targets)

    def content_hash(self) -> str:
        """Hex sha256 of mazes, origins, targets and path lengths, in order."""
        h = hashlib.sha256(self.mazes.content_hash().encode())
        h.update(np.ascontiguousarray(self.origins, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(self.targets, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(self.path_lengths, dtype="<i4").tobytes())
        return h.hexdigest()

    def summary(self) -> str:
        c, lengths = self.config, self.path_lengths
        label = f"{c.name}: " if c.name else ""
        return (
            f"{label}{len(self)} tasks, {c.generator} {c.shape[0]}x{c.shape[1]} "
            f"params={c.params or {}} seed={c.seed} origin={c.origin} target={c.target}\n"
            f"guarantee: {get_spec(c.generator).guarantee_for(c.params)}\n"
            f"path length: mean {lengths.mean():.2f}, min {lengths.min()}, max {lengths.max()} "
            f"(min_path_length={c.min_path_length}, dedupe={c.dedupe})\n"
            f"config hash {c.hash()[:16]}, content hash {self.content_hash()[:16]}"
        )

    # -- generation ---------------------------------------------------------------------------
    @classmethod
    def from_config(
        cls,
        config: DatasetConfig,
        cache_dir: str | os.PathLike[str] | None = None,
        exclude: Sequence[MazeDataset | str | os.PathLike[str]] | None = None,
        *,
        n_workers: int = 1,
        progress: bool = False,
    ) -> MazeDataset:
        """Generate the dataset ``config`` describes, or load it from ``cache_dir``.

        Args:
            config: what to generate.
            cache_dir: where datasets are cached by config hash (and excluded datasets); ``None``
                disables the cache. A corrupt cache file is regenerated, with a warning.
            exclude: datasets (or their .npz paths) none of whose tasks (same maze, origin and
                target) may appear here: held-out sets stay held out.
            n_workers: processes for maze generation; the output does not depend on it.
            progress: show a tqdm bar over accepted tasks.

        Raises:
            ValueError: if fewer than 1 in 1000 of the last 100,000 candidates pass the filters
                (e.g. min_path_length too long, or more distinct tasks asked for than exist).
        """
        others = [d if isinstance(d, MazeDataset) else cls.load(d) for d in exclude or ()]
        excluded = tuple(d.content_hash() for d in others)
        path = None
        if cache_dir is not None:
            path = Path(cache_dir) / cache_name(config, excluded)
            if path.exists():
                try:
                    cached = cls.load(path)
                    if cached.config.hash() == config.hash() and cached.excluded == excluded:
                        return dataclasses.replace(cached, config=config)
                    warnings.warn(
                        f"cache file {path} holds another dataset; regenerating", stacklevel=2
                    )
                except ValueError as err:
                    warnings.warn(
                        f"unreadable cache file {path} ({err}); regenerating", stacklevel=2
                    )
        data = _generate(config, others, n_workers=n_workers, progress=progress)
        dataset = cls(config, *data, excluded=excluded)
        if path is not None:
            dataset.save(path)
        return dataset

    # -- files --------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write a compressed .npz atomically (:func:`maze_env.files.atomic_path`; the file gets
        the permissions the umask gives a new file)."""
        path = Path(path)
        meta = {"format": FORMAT_VERSION, "config": self.config.to_dict()}
        meta.update(content_hash=self.content_hash(), excluded=list(self.excluded))
        arrays = {k: getattr(self, k) for k in ("origins", "targets", "path_lengths")}
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            meta_array = np.array(json.dumps(meta, sort_keys=True))
            np.savez_compressed(f, meta=meta_array, connections=self.mazes.connections, **arrays)
            f.flush()
            os.fsync(f.fileno())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MazeDataset:
        """Read a file written by :meth:`save`, checking its format version and content hash."""
        keys = ("meta", "connections", "origins", "targets", "path_lengths")
        try:
            with np.load(path, allow_pickle=False) as z:
                files = list(z.files)
                meta_text = str(z["meta"]) if "meta" in files else None
                arrays = {k: z[k] for k in keys[1:] if k in files}
        except FileNotFoundError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as err:
            raise ValueError(f"{path} is not a readable mazebench dataset (.npz): {err}") from None
        missing = [k for k in keys if k not in files]
        if missing:
            raise ValueError(f"{path} is not a mazebench dataset: missing {missing} (has {files})")
        try:
            meta = json.loads(meta_text)  # type: ignore[arg-type]
            found = meta.get("format")
        except (json.JSONDecodeError, AttributeError) as err:
            raise ValueError(f"{path}: unreadable metadata ({err})") from None
        if found != FORMAT_VERSION:
            raise ValueError(
                f"{path} has dataset format {found!r}; this release reads format {FORMAT_VERSION} "
                "only: regenerate it from its config with `mazebench generate`"
            )
        try:
            dataset = cls(
                DatasetConfig.from_dict(meta["config"]),
                MazeBatch(arrays["connections"]),
                arrays["origins"],
                arrays["targets"],
                arrays["path_lengths"],
                excluded=tuple(meta.get("excluded", ())),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"{path}: malformed dataset ({type(err).__name__}: {err})") from None
        if dataset.content_hash() != meta.get("content_hash"):
            raise ValueError(
                f"{path}: contents do not match the recorded content hash (the file was modified or "
                "corrupted); regenerate it from its config"
            )
        return dataset


def cache_name(config: DatasetConfig, excluded: Sequence[str] = ()) -> str:
    """File name of ``config`` in a cache directory: generator, shape, config hash, exclusions."""
    name = f"{config.generator}-{config.shape[0]}x{config.shape[1]}-{config.hash()[:20]}"
    if excluded:
        name += "-x" + hashlib.sha256(",".join(sorted(excluded)).encode()).hexdigest()[:12]
    return name + ".npz"


def _candidates(
    c: DatasetConfig, start: int, k: int, n_workers: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Candidates ``start .. start + k``: ``(conn, origins, targets, distances)``, unfiltered."""
    rows, cols = c.shape
    conn = generate_batch(
        c.generator, c.shape, k, c.seed, start=start, n_workers=n_workers,
        chunk_size=-(-k // n_workers), **c.params,
    ).connections  # fmt: skip
    draws = _placement_draws(np.uint64(_placement_key(c.seed)), start, k)
    o_flat = _pick(placement_masks(parse_placement(c.origin), conn), draws[:, 0], c.origin)
    t_mask = placement_masks(parse_placement(c.target), conn)
    t_mask = np.broadcast_to(t_mask, (k, rows * cols)).copy()
    other = t_mask.sum(axis=1) > 1  # the target avoids the origin when it can
    t_mask[np.flatnonzero(other), o_flat[other]] = False
    t_flat = _pick(t_mask, draws[:, 1], c.target)
    origins = np.stack([o_flat // cols, o_flat % cols], axis=1)
    targets = np.stack([t_flat // cols, t_flat % cols], axis=1)
    dist = batch_bfs_distances(conn, origins)[np.arange(k), targets[:, 0], targets[:, 1]]
    return conn, origins, targets, dist


def _generate(
    c: DatasetConfig, exclude: list[MazeDataset], *, n_workers: int, progress: bool
) -> tuple[MazeBatch, np.ndarray, np.ndarray, np.ndarray]:
    """Draw candidates in rounds until ``c.n`` pass the filters (see the module docstring).

    Longer than most: the round loop, its counters and the give-up rule read best together.
    """
    n_workers = max(1, n_workers)
    seen: set[bytes] = set()
    banned = {k for d in exclude if d.mazes.shape == c.shape for k in d.task_keys()}
    rejected = dict.fromkeys(("unreachable", "too short", "duplicate", "excluded"), 0)
    parts: list[tuple[np.ndarray, ...]] = []
    accepted = tried = window_tried = window_acc = 0
    bar = _progress_bar(c) if progress else None
    try:
        while accepted < c.n:
            rate = max(window_acc / window_tried if window_tried else 1.0, 1 / _MIN_RATE_INV)
            k = int(min((c.n - accepted) / rate * 1.1 + 64, 65536 * n_workers))
            conn, origins, targets, dist = _candidates(c, tried, k, n_workers)
            ok = dist >= c.min_path_length
            rejected["unreachable"] += int((dist < 0).sum())
            rejected["too short"] += int(((dist >= 0) & ~ok).sum())
            keep = []
            keys = task_keys(conn[ok], origins[ok], targets[ok])
            for i, key in zip(np.flatnonzero(ok).tolist(), keys, strict=True):
                if key in banned:
                    rejected["excluded"] += 1
                elif c.dedupe and key in seen:
                    rejected["duplicate"] += 1
                elif accepted + len(keep) < c.n:
                    seen.add(key)
                    keep.append(i)
            parts.append((conn[keep], origins[keep], targets[keep], dist[keep]))
            accepted, tried = accepted + len(keep), tried + k
            window_tried, window_acc = window_tried + k, window_acc + len(keep)
            if bar is not None:
                bar.update(len(keep))
            if accepted < c.n and window_tried >= _WINDOW:
                if window_acc * _MIN_RATE_INV < window_tried:
                    raise ValueError(
                        f"the filters reject nearly every task: {window_acc} of the last "
                        f"{window_tried} candidates passed ({accepted} of n={c.n} found after "
                        f"{tried}; rejected: {rejected}). Lower min_path_length or n, widen the "
                        "origin/target placements, or use a larger shape."
                    )
                window_tried = window_acc = 0
    finally:
        if bar is not None:
            bar.close()
    conn, origins, targets, lengths = (np.concatenate(a) for a in zip(*parts, strict=True))
    return MazeBatch(conn), origins, targets, lengths


def _progress_bar(c: DatasetConfig) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=c.n, desc=f"dataset {c.generator} {c.shape[0]}x{c.shape[1]}", unit="task")


__all__ = ["FORMAT_VERSION", "DatasetConfig", "MazeDataset", "cache_name", "parse_shape"]
__all__ += ["placement_masks", "task_keys"]

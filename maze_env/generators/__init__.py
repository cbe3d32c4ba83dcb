"""Maze generators: ``generate``, ``generate_batch`` and the ``GENERATORS`` registry.

Every generator is a batched kernel ``fn(shape, n, *, key, start, **params) -> bool[n, 2, R, C]``
registered with :func:`register`. Maze ``i`` of a batch draws only from the random stream
``(seed_key(seed), start + i)`` (see :mod:`maze_env.rng`), so output is bit-for-bit reproducible
whatever the batch split or worker count.

Generator parameters are the kernels' keyword-only arguments other than ``key`` and ``start``
(``start`` is the index of the first maze in the seed's sequence, never a cell: the one generator
with a start cell, ``dfs``, calls it ``start_coord``, as maze-dataset does).

Kernels live in ``perfect.py`` (dfs, wilson, aldous_broder, kruskal), ``growing.py`` (prim,
hunt_and_kill, growing_tree), ``simple.py`` (binary_tree, sidewinder, recursive_division),
``loops.py`` (percolation, dfs_percolation, braid) and ``fields.py`` (open_field,
open_field_obstacle); shared numba helpers in ``_common.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from maze_env.maze import Maze, MazeBatch
from maze_env.rng import seed_key
from maze_env.types import Shape

BatchFn = Callable[..., np.ndarray]


@dataclass(frozen=True)
class GeneratorSpec:
    """A registered generator.

    Attributes:
        name: registry key.
        fn: the batched kernel ``fn(shape, n, *, key, start, **params) -> bool[n, 2, R, C]``.
        params: keyword parameters with their defaults (read from ``fn``'s signature).
        summary: one line for ``--help``.
        guarantee: what every maze satisfies with the default parameters: ``"perfect"``
            (spanning tree: connected, acyclic), ``"connected"`` (connected, may have cycles), or a
            sentence for weaker contracts. Some parameters weaken it: see :meth:`guarantee_for`.
        guarantee_fn: maps the full parameters (defaults filled in) to the guarantee, for
            generators whose options change it; None when no option does.
    """

    name: str
    fn: BatchFn
    summary: str
    guarantee: str
    params: dict[str, Any] = field(default_factory=dict)
    guarantee_fn: Callable[[Mapping[str, Any]], str] | None = None

    @property
    def perfect(self) -> bool:
        """Whether every maze is a spanning tree with the default parameters."""
        return self.guarantee == "perfect"

    def guarantee_for(self, params: Mapping[str, Any] | None = None) -> str:
        """The guarantee with these parameters (missing ones take their defaults).

        For example ``GENERATORS["dfs"].guarantee_for({"accessible_cells": 0.5})`` is a sentence,
        not ``"perfect"``: half the cells stay unconnected.
        """
        full = {**self.params, **(params or {})}
        return self.guarantee if self.guarantee_fn is None else self.guarantee_fn(full)


GENERATORS: dict[str, GeneratorSpec] = {}
"""Every generator by name, in registration order."""


def register(
    name: str,
    *,
    summary: str,
    guarantee: str,
    guarantee_fn: Callable[[Mapping[str, Any]], str] | None = None,
) -> Callable[[BatchFn], BatchFn]:
    """Decorator that adds a batched kernel to :data:`GENERATORS` under ``name``.

    Args:
        name: registry key.
        summary: one line for ``--help``.
        guarantee: the guarantee with default parameters (see :class:`GeneratorSpec`).
        guarantee_fn: optional, the guarantee for given parameters.
    """

    def wrap(fn: BatchFn) -> BatchFn:
        sig = inspect.signature(fn)
        params = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("key", "start")
        }
        GENERATORS[name] = GeneratorSpec(name, fn, summary, guarantee, params, guarantee_fn)
        return fn

    return wrap


def get_spec(name: str) -> GeneratorSpec:
    """The spec for ``name``, or a ``ValueError`` listing the known generators."""
    try:
        return GENERATORS[name]
    except KeyError:
        raise ValueError(f"unknown generator {name!r}; known: {', '.join(GENERATORS)}") from None


def check_shape(shape: Any) -> Shape:
    """``shape`` as ``(rows, cols)`` ints, or a ``ValueError`` saying what is allowed."""
    try:
        rows, cols = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a (rows, cols) pair of ints, got {shape!r}") from None
    if rows < 1 or cols < 1 or rows * cols < 2:
        raise ValueError(f"shape must be at least 1x2 or 2x1 cells, got {rows}x{cols}")
    return (rows, cols)


def check_params(spec: GeneratorSpec, params: dict[str, Any]) -> None:
    unknown = set(params) - set(spec.params)
    if unknown:
        allowed = ", ".join(f"{k}={v!r}" for k, v in spec.params.items()) or "none"
        raise ValueError(
            f"generator {spec.name!r} got unknown parameter(s) {sorted(unknown)}; allowed: {allowed}"
        )


def _run_chunk(
    name: str, shape: Shape, n: int, key: int, start: int, params: dict[str, Any]
) -> np.ndarray:
    return GENERATORS[name].fn(shape, n, key=key, start=start, **params)


def generate_batch(
    name: str,
    shape: Shape,
    n: int,
    seed: int | np.random.Generator | None = None,
    *,
    start: int = 0,
    n_workers: int = 1,
    chunk_size: int = 65536,
    progress: bool = False,
    **params: Any,
) -> MazeBatch:
    """Generate ``n`` mazes of ``shape`` with generator ``name``.

    Args:
        name: a key of :data:`GENERATORS`.
        shape: ``(rows, cols)``.
        n: number of mazes (>= 0).
        seed: int seed (same seed, same mazes on every machine), a numpy Generator, or None.
        start: index of the first maze in the seed's sequence: ``generate_batch(.., n=5, start=5)``
            is the second half of ``generate_batch(.., n=10)``.
        n_workers: processes to spread chunks over; the output does not depend on it.
        chunk_size: mazes per chunk (for progress and workers); the output does not depend on it.
        progress: show a tqdm progress bar over chunks.
        **params: generator parameters (see ``GENERATORS[name].params``).

    Returns:
        A :class:`MazeBatch` of ``connections: bool[n, 2, rows, cols]``.
    """
    spec = get_spec(name)
    shape = check_shape(shape)
    check_params(spec, params)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if isinstance(start, bool) or not isinstance(start, (int, np.integer)) or start < 0:
        raise ValueError(
            f"start must be an int >= 0 (the index of the first maze in the seed's sequence; "
            f"dfs's start cell is the parameter start_coord), got {start!r}"
        )
    if (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise ValueError(f"chunk_size must be an int >= 1, got {chunk_size!r}")
    n, start, chunk_size = int(n), int(start), int(chunk_size)
    key = seed_key(seed)
    if n == 0:  # still run the kernel: it checks the parameters
        return MazeBatch(spec.fn(shape, 0, key=key, start=start, **params))
    starts = list(range(start, start + n, chunk_size))
    sizes = [min(chunk_size, start + n - s) for s in starts]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"generating {name} {shape[0]}x{shape[1]}", unit="maze")
    parts = []
    if n_workers <= 1 or len(starts) == 1:
        for s, k in zip(starts, sizes, strict=True):
            parts.append(spec.fn(shape, k, key=key, start=s, **params))
            if bar is not None:
                bar.update(k)
    else:
        with ProcessPoolExecutor(n_workers) as pool:
            futures = [
                pool.submit(_run_chunk, name, shape, k, key, s, params)
                for s, k in zip(starts, sizes, strict=True)
            ]
            for fut, k in zip(futures, sizes, strict=True):
                parts.append(fut.result())
                if bar is not None:
                    bar.update(k)
    if bar is not None:
        bar.close()
    return MazeBatch(parts[0] if len(parts) == 1 else np.concatenate(parts))


def generate(
    name: str, shape: Shape, seed: int | np.random.Generator | None = None, **params: Any
) -> Maze:
    """One maze: the same as ``generate_batch(name, shape, 1, seed, **params)[0]``."""
    return generate_batch(name, shape, 1, seed, **params)[0]


# importing the kernel modules registers the generators, in this order
from maze_env.generators import perfect as _perfect  # noqa: E402,F401,I001
from maze_env.generators import growing as _growing  # noqa: E402,F401
from maze_env.generators import simple as _simple  # noqa: E402,F401
from maze_env.generators import loops as _loops  # noqa: E402,F401
from maze_env.generators import fields as _fields  # noqa: E402,F401

__all__ = [
    "GENERATORS",
    "GeneratorSpec",
    "generate",
    "generate_batch",
    "register",
    "get_spec",
    "check_shape",
]

"""Maze generators: ``generate``, ``generate_batch`` and the ``GENERATORS`` registry.

Every generator is a batched kernel ``fn(shape, n, *, key, start, **params) -> bool[n, 2, R, C]``
registered with :func:`register`. Maze ``i`` of a batch draws only from the random stream
``(seed_key(seed), start + i)`` (see :mod:`maze_env.rng`), so output is bit-for-bit reproducible
whatever the batch split or worker count.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
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
        guarantee: what every maze satisfies: ``"perfect"`` (spanning tree: connected, acyclic),
            ``"connected"`` (connected, may have cycles), or a sentence for weaker contracts.
    """

    name: str
    fn: BatchFn
    summary: str
    guarantee: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def perfect(self) -> bool:
        return self.guarantee == "perfect"


GENERATORS: dict[str, GeneratorSpec] = {}
"""Every generator by name, in registration order."""


def register(name: str, *, summary: str, guarantee: str) -> Callable[[BatchFn], BatchFn]:
    """Decorator that adds a batched kernel to :data:`GENERATORS` under ``name``."""

    def wrap(fn: BatchFn) -> BatchFn:
        sig = inspect.signature(fn)
        params = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in ("key", "start")
        }
        GENERATORS[name] = GeneratorSpec(name, fn, summary, guarantee, params)
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


def _run_chunk(name: str, shape: Shape, n: int, key: int, start: int, params: dict[str, Any]) -> np.ndarray:
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
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    key = seed_key(seed)
    starts = list(range(start, start + n, max(1, chunk_size)))
    sizes = [min(chunk_size, start + n - s) for s in starts]
    if n == 0:
        return MazeBatch(np.zeros((0, 2, *shape), dtype=bool))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, desc=f"generating {name} {shape[0]}x{shape[1]}", unit="maze")
    parts = []
    if n_workers <= 1 or len(starts) == 1:
        for s, k in zip(starts, sizes):
            parts.append(spec.fn(shape, k, key=key, start=s, **params))
            if bar is not None:
                bar.update(k)
    else:
        with ProcessPoolExecutor(n_workers) as pool:
            futures = [pool.submit(_run_chunk, name, shape, k, key, s, params) for s, k in zip(starts, sizes)]
            for fut, k in zip(futures, sizes):
                parts.append(fut.result())
                if bar is not None:
                    bar.update(k)
    if bar is not None:
        bar.close()
    return MazeBatch(parts[0] if len(parts) == 1 else np.concatenate(parts))


def generate(name: str, shape: Shape, seed: int | np.random.Generator | None = None, **params: Any) -> Maze:
    """One maze: the same as ``generate_batch(name, shape, 1, seed, **params)[0]``."""
    return generate_batch(name, shape, 1, seed, **params)[0]


from maze_env.generators import perfect as _perfect  # noqa: E402,F401  (registers generators)

__all__ = ["GENERATORS", "GeneratorSpec", "generate", "generate_batch", "register", "get_spec", "check_shape"]

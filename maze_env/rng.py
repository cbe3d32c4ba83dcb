"""Counter-based random streams: the one source of randomness for batched generation.

Maze ``i`` of a batch generated from ``seed`` draws from its own stream, keyed by
``(seed_key(seed), i)``. A stream depends on nothing else, so a batch is bit-for-bit the same
whatever way it is split into chunks or spread over worker processes, and the single maze
``generate(name, shape, seed)`` is maze 0 of ``generate_batch(name, shape, n, seed)``.

Streams are SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014): a 64-bit counter advanced by the golden-ratio increment and passed through a
bijective mixer. It passes BigCrush, needs one ``uint64`` of state, and compiles to a few
instructions under numba. No global random state is read or written, ever.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0


def seed_key(seed: int | np.integer | np.random.Generator | None) -> int:
    """Turn a user seed into the 64-bit key that names a family of streams.

    Args:
        seed: a non-negative int; a numpy ``Generator`` (one draw is taken from it); or ``None``
            for fresh OS entropy (not reproducible).

    Returns:
        An int in ``[0, 2**64)``; the same seed gives the same key on every machine.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    elif isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**63))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int, a numpy Generator or None, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return int(np.random.SeedSequence(int(seed)).generate_state(1, np.uint64)[0])


@njit(cache=True, inline="always")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijection of uint64 with full avalanche."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def stream_state(key: np.uint64, index: np.int64) -> np.ndarray:
    """A fresh one-element ``uint64`` state for stream ``index`` of family ``key``."""
    state = np.empty(1, dtype=np.uint64)
    state[0] = mix64(np.uint64(key) ^ mix64(np.uint64(index) + _GOLDEN))
    return state


@njit(cache=True, inline="always")
def next_u64(state: np.ndarray) -> np.uint64:
    """Advance ``state`` (``uint64[1]``) and return 64 random bits."""
    state[0] += _GOLDEN
    return mix64(state[0])


@njit(cache=True, inline="always")
def rand_below(state: np.ndarray, n: np.int64) -> np.int64:
    """A uniform int in ``[0, n)`` (``n >= 1``); bias below ``n / 2**64``, negligible for maze sizes."""
    return np.int64(next_u64(state) % np.uint64(n))


@njit(cache=True, inline="always")
def rand_float(state: np.ndarray) -> np.float64:
    """A uniform float in ``[0, 1)`` with 53 random bits."""
    return np.float64(next_u64(state) >> _S11) * _INV_2_53


def numpy_generator(key: int, index: int) -> np.random.Generator:
    """A numpy ``Generator`` for stream ``index`` of family ``key``, for code off the hot path."""
    return np.random.default_rng(np.random.SeedSequence([key & 0xFFFFFFFF, key >> 32, index]))

"""Benchmark: tokenizing solved mazes into id arrays, ours against maze-dataset's ``as_tokens``.

Generates N dfs mazes (default 2,000 at 6x6, seed 0) with random origin and target and their
shortest paths, then times in this one process, on the very same solved tasks:

* maze-dataset: ``SolvedMaze.as_tokens(MazeTokenizer(AOTP_UT_rasterized))`` per maze (token
  strings only; maze objects built before timing), and the same followed by the tokenizer's
  ``encode`` (strings to ids);
* ours: :meth:`Vocabulary.encode_tasks` (Task objects and paths to one padded ``int32[N, T]``),
  :meth:`Vocabulary.encode_arrays` (the array path: connections, endpoints, path arrays), and
  :func:`maze_env.tokens.tokenize` per task (strings, for comparison).

Speed-ups are against maze-dataset's fastest row (``as_tokens`` alone should be; the more
conservative ratio). Every encoded row is checked to decode to text that parses back to the same
task. Installs nothing; without maze-dataset only our figures are printed::

    PYTHONPATH=. .venv-peers/bin/python benchmarks/bench_tokens.py [--quick]

Timings on a shared machine are noisy; the best of several repeats is the steadier figure.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maze_env import Task, generate_batch  # noqa: E402
from maze_env.solve import batch_shortest_path_arrays  # noqa: E402
from maze_env.tokens import Vocabulary, parse, tokenize  # noqa: E402


def timeit(fn: Callable[[], object], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn``, after one untimed warm-up call."""
    fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def peer(
    conns: np.ndarray, paths: list[np.ndarray], size: int
) -> dict[str, Callable[[], object]] | None:
    """maze-dataset's tokenization closures, or None if it is not importable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from maze_dataset import SolvedMaze
            from maze_dataset.tokenization import MazeTokenizer, TokenizationMode
    except ImportError:
        return None
    from importlib.metadata import version

    warnings.simplefilter("ignore")  # it warns on every call about its own deprecations
    tok = MazeTokenizer(tokenization_mode=TokenizationMode.AOTP_UT_rasterized, max_grid_size=size)
    solved = [
        SolvedMaze(connection_list=c.copy(), solution=p) for c, p in zip(conns, paths, strict=True)
    ]
    name = f"maze-dataset {version('maze-dataset')}"
    return {
        f"{name} `as_tokens` (strings)": lambda: [m.as_tokens(tok) for m in solved],
        f"{name} `as_tokens` + `encode` (ids)": lambda: [
            tok.encode(m.as_tokens(tok)) for m in solved
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="tasks (default 2000)")
    parser.add_argument("--size", type=int, default=6, help="maze side in cells (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per tokenizer (default 5)")
    parser.add_argument("--quick", action="store_true", help="300 tasks, 2 repeats (a smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats = min(args.n, 300), 2

    shape = (args.size, args.size)
    batch = generate_batch("dfs", shape, args.n, seed=args.seed)
    rng = np.random.default_rng(args.seed)
    origins = rng.integers(0, args.size, size=(args.n, 2))
    targets = rng.integers(0, args.size, size=(args.n, 2))
    cells, lengths = batch_shortest_path_arrays(batch, origins, targets)
    paths = [cells[i, : lengths[i]] for i in range(args.n)]
    path_lists = [[tuple(c) for c in p.tolist()] for p in paths]
    tasks = [
        Task(m, tuple(o), tuple(t))
        for m, o, t in zip(batch, origins.tolist(), targets.tolist(), strict=True)
    ]
    vocab = Vocabulary(shape)

    ids = vocab.encode_tasks(tasks, paths=path_lists, rng=np.random.default_rng(1))
    for i in range(0, args.n, max(1, args.n // 50)):  # the output is right
        parsed = parse(vocab.decode(ids[i], strip_padding=True))
        assert parsed.ok and parsed.task == tasks[i] and parsed.path == path_lists[i], (
            parsed.problems
        )

    ours: dict[str, Callable[[], object]] = {
        "ours `Vocabulary.encode_tasks` (Tasks -> int32[N, T])": lambda: vocab.encode_tasks(
            tasks, paths=path_lists, rng=np.random.default_rng(1)
        ),
        "ours `Vocabulary.encode_arrays` (arrays -> int32[N, T])": lambda: vocab.encode_arrays(
            batch.connections, origins, targets, (cells, lengths), rng=np.random.default_rng(1)
        ),
        "ours `tokenize` per task (strings)": lambda: [
            tokenize(t.maze, t.origin, t.target, p, rng=rng)
            for t, p in zip(tasks, path_lists, strict=True)
        ],
    }
    rows: list[tuple[str, list[float]]] = []
    theirs = peer(batch.connections, paths, args.size)
    for name, fn in (theirs or {}).items():
        rows.append((name, timeit(fn, args.repeats)))
    for name, fn in ours.items():
        rows.append((name, timeit(fn, args.repeats)))

    print(f"## Tokenization: {args.n} solved dfs tasks at {args.size}x{args.size}, AOTP\n")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}; "
        f"best and median of {args.repeats} repeats; shared machine, timings noisy\n"
    )
    print("| tokenizer | best µs/task | median µs/task | tasks/s | speed-up vs maze-dataset |")
    print("| --- | ---: | ---: | ---: | ---: |")
    n_peer = len(theirs or {})
    base = min(min(t) for _, t in rows[:n_peer]) if n_peer else None  # the peer's fastest row
    for name, times in rows:
        best, med = min(times) / args.n * 1e6, statistics.median(times) / args.n * 1e6
        ratio = f"{base / min(times):,.0f}x" if base is not None else "n/a"
        print(f"| {name} | {best:,.2f} | {med:,.2f} | {args.n / min(times):,.0f} | {ratio} |")
    if theirs is None:
        print("\n(maze-dataset not importable here: no peer figures)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``mazebench generate``: a dataset of maze tasks from a config file or flags, written to .npz."""

from __future__ import annotations

import argparse
import textwrap
import time
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Generate a dataset of maze tasks (maze, origin, target) and write it to a .npz file that
maze_env.dataset.MazeDataset.load reads back. The dataset is fixed by its config (generator,
shape, n, seed, generator parameters, placements, filters): the same config gives the same tasks
on every machine, whatever --workers. Start from --config FILE (YAML or JSON with the keys of
maze_env.dataset.DatasetConfig) and/or flags; a flag overrides the file's field."""

PLACEMENTS = """\
placements (--origin SPEC, --target SPEC; default random):
  random            any cell, uniformly
  cell:R,C          one fixed cell; negative indices count from the end (cell:-1,-1)
  corner            one of the four corner cells; corner:tl|tr|bl|br fixes one
  region:CORNER:K   the K x K block of cells in a corner (tl, tr, bl, br), e.g. region:br:2
  outside:CORNER:K  every cell not in that block (the held-out complement of region)
  dead_end          a cell with one passage (any cell if the maze has none)
  The target avoids the origin unless its placement allows no other cell.

filters:
  Tasks whose target is unreachable are always dropped; --min-path-length L drops tasks whose
  shortest path is shorter than L moves (default 1: origin != target); duplicates are dropped
  unless --no-dedupe; --exclude FILE.npz drops every task of that dataset (held-out sets).
  Dropped tasks are replaced by further draws from the seed's sequence until n are found.

examples:
  mazebench generate --shape 6x6 --n 100000 --seed 0 --out data/train.npz
  mazebench generate --shape 6x6 --n 1000 --seed 1 --exclude data/train.npz --out data/test.npz
  mazebench generate --shape 6x6 --n 1000 --target region:br:2 --min-path-length 6 --show 2
  mazebench generate --config my_set.yaml --n 5000 --out data/small.npz

  where my_set.yaml holds DatasetConfig keys (agents/training_sets.yaml lists the project's
  named training sets in this form), e.g.:
    {generator: dfs, shape: [6, 6], n: 100000, seed: 3, target: "region:br:2"}"""

PROGRESS_FROM = 10_000
"""Show a progress bar by default from this many tasks on."""


def generators_help(width: int = 96) -> str:
    """Every registered generator with its summary, guarantee and parameters (built at runtime)."""
    from maze_env.generators import GENERATORS

    lines = ["generators (--generator NAME; parameters as --param KEY=VALUE, defaults shown):"]
    for name, spec in GENERATORS.items():
        params = ", ".join(f"{k}={v!r}" for k, v in spec.params.items()) or "none"
        guarantee = spec.guarantee
        if getattr(spec, "guarantee_fn", None) is not None:
            guarantee += " (with the defaults; some parameters weaken it)"
        for label, text in (
            (name, spec.summary),
            ("", f"guarantee: {guarantee}"),
            ("", f"params: {params}"),
        ):
            wrapped = textwrap.wrap(text, width - 22, break_on_hyphens=False) or [""]
            lines.append(f"  {label:<19} {wrapped[0]}")
            lines.extend(f"  {'':<19} {more}" for more in wrapped[1:])
    return "\n".join(lines)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``generate`` to the ``mazebench`` subcommands."""
    p = subparsers.add_parser(
        "generate",
        help="generate a dataset of maze tasks and write it to .npz",
        description=DESCRIPTION,
        epilog=generators_help() + "\n\n" + PLACEMENTS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--config", metavar="FILE", help="YAML or JSON dataset config; flags override its fields"
    )
    p.add_argument("--name", help="a label stored with the dataset (not part of its hash)")
    p.add_argument(
        "--generator", metavar="NAME", help="maze generator, listed below (default: dfs)"
    )
    p.add_argument(
        "--shape", metavar="RxC", help="maze size in cells as ROWSxCOLS or ROWS,COLS (default: 6x6)"
    )
    p.add_argument("--n", type=int, metavar="N", help="number of tasks (default: 1000)")
    p.add_argument("--seed", type=int, metavar="S", help="non-negative int seed (default: 0)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a generator parameter, repeatable; VALUE is read as YAML (0.5, true, null, [0, 0])",
    )
    p.add_argument("--origin", metavar="SPEC", help="origin placement (see below; default: random)")
    p.add_argument("--target", metavar="SPEC", help="target placement (see below; default: random)")
    p.add_argument(
        "--min-path-length",
        type=int,
        metavar="L",
        help="fewest moves on the shortest path (default: 1)",
    )
    p.add_argument(
        "--no-dedupe", dest="dedupe", action="store_const", const=False, help="allow repeated tasks"
    )
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="FILE.npz",
        help="drop the tasks of this dataset, repeatable",
    )
    p.add_argument(
        "--out",
        metavar="FILE.npz",
        help="where to write the dataset (without it nothing is written; an existing file is "
        "kept unless --force)",
    )
    p.add_argument(
        "--force", action="store_true", help="replace the --out file if it exists already"
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="reuse/keep generated datasets here, keyed by config hash",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="W",
        help="processes for maze generation; the output does not depend on it (default: 1)",
    )
    p.add_argument(
        "--show",
        type=int,
        default=0,
        metavar="K",
        help="print the first K tasks as ASCII with their shortest paths",
    )
    p.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"progress bar (default: on from {PROGRESS_FROM:,} tasks)",
    )
    p.set_defaults(func=run)
    return p


def parse_param(text: str) -> tuple[str, Any]:
    """``"p=0.5"`` -> ``("p", 0.5)``; the value is read as YAML, ``none`` as None."""
    import yaml

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--param must look like KEY=VALUE (e.g. p=0.5), got {text!r}")
    if value.strip().lower() == "none":
        return key.strip(), None
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError:
        return key.strip(), value


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~maze_env.dataset.DatasetConfig` from ``--config`` and the flags over it."""
    from maze_env.dataset import DatasetConfig

    base = DatasetConfig.from_file(args.config) if args.config else DatasetConfig()
    data = base.to_dict()
    flags = (
        "name",
        "generator",
        "shape",
        "n",
        "seed",
        "origin",
        "target",
        "min_path_length",
        "dedupe",
    )
    data.update({k: getattr(args, k) for k in flags if getattr(args, k) is not None})
    if args.generator is not None and args.generator != base.generator:
        data["params"] = {}  # the file's parameters belong to its generator
    data["params"] = {**data["params"], **dict(parse_param(p) for p in args.param)}
    return DatasetConfig.from_dict(data)


def run(args: argparse.Namespace) -> int:
    from maze_env.dataset import MazeDataset
    from maze_env.solve import shortest_path

    config = config_from_args(args)
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.out and Path(args.out).exists() and not args.force:
        raise ValueError(
            f"{args.out} exists already; pass --force to replace it, or choose another --out"
        )
    from agents.harness.user_suites import load_dataset_file  # names a non-.npz file

    exclude = [load_dataset_file(path) for path in args.exclude]
    progress = args.progress if args.progress is not None else config.n >= PROGRESS_FROM
    t0 = time.perf_counter()
    dataset = MazeDataset.from_config(
        config, cache_dir=args.cache_dir, exclude=exclude, n_workers=args.workers, progress=progress
    )
    seconds = time.perf_counter() - t0
    print(dataset.summary())
    print(f"made in {seconds:.2f} s ({len(dataset) / max(seconds, 1e-9):,.0f} tasks/s)")
    if args.out:
        out = dataset.save(args.out)
        print(f"wrote {out} ({Path(out).stat().st_size / 1e6:.2f} MB)")
    else:
        print("not written: pass --out FILE.npz to keep it")
    for i in range(min(args.show, len(dataset))):
        task = dataset[i]
        path = shortest_path(task.maze, task.origin, task.target)
        print(
            f"\ntask {i}: origin {task.origin}, target {task.target}, {len(path or []) - 1} moves"
        )
        print(task.to_ascii(path))
    return 0

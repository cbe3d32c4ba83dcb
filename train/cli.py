"""The ``mazebench`` command line. Each subcommand lives in its own ``train/cmd_*.py`` module
that defines ``add_parser(subparsers)`` (which sets ``func`` on its parser); this file only
assembles them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMANDS = (
    "run",
    "generate",
    "train_transformer",
    "train_rl",
    "train_dt",
    "compare",
    "report",
    "play",
    "bench",
)
"""Subcommand modules in ``--help`` order: ``train/cmd_<name>.py`` (a module not present yet is
skipped); the command itself is spelled with hyphens (``train-transformer``)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mazebench",
        description="Does a learned policy generalize like search? Generate mazes, run agents on "
        "the same tasks in and out of distribution, and report where each one stops working.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"train.cmd_{name}")
        except ModuleNotFoundError as err:
            if err.name != f"train.cmd_{name}":
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from agents.malloc import keep_freed_memory

    keep_freed_memory()  # large tensors reuse freed memory (measured: docs/BENCHMARKS.md)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as err:
        print(f"mazebench {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

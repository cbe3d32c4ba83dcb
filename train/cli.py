"""The ``mazebench`` command line. Each subcommand lives in its own ``train/cmd_*.py`` module
that defines ``add_parser(subparsers)`` (which sets ``func`` on its parser); this file only
assembles them."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

SUBCOMMANDS = (
    "run",
    "generate",
    "train_transformer",
    "train_rl",
    "train_dt",
    "compare",
    "report",
    "play",
    "watch",
    "inspect",
)
"""Subcommand modules in ``--help`` order: ``train/cmd_<name>.py`` (each must exist: a missing
one is an error, not a silent skip); the command itself is spelled with hyphens
(``train-transformer``)."""

INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT), as a shell reports it."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line, ``PROG: error: MESSAGE``, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: object) -> str:
    """``text`` with its lines joined by single spaces (an error is one line on stderr)."""
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def describe_error(err: BaseException) -> str:
    """The one-line message of a user error: an OSError names its file(s), a YAML error its
    problem and position, anything else its own message."""
    import yaml

    if isinstance(err, OSError) and err.filename is not None:
        what = err.strerror or type(err).__name__
        if err.filename2 is not None:
            return f"{err.filename} -> {err.filename2}: {what}"
        return f"{err.filename}: {what}"
    if isinstance(err, yaml.YAMLError):
        from train.config_args import yaml_error_text

        return f"not valid YAML: {yaml_error_text(err)}"
    return one_line(err) or type(err).__name__


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="mazebench",
        description="Does a learned policy generalize like search? Generate mazes, run agents on "
        "the same tasks in and out of distribution, and report where each one stops working.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"train.cmd_{name}")
        except ModuleNotFoundError as err:
            if err.name != f"train.cmd_{name}":
                raise
            raise ModuleNotFoundError(
                f"train.cli.SUBCOMMANDS lists {name!r} but train/cmd_{name}.py does not exist",
                name=err.name,
            ) from None
        module.add_parser(sub)
    parser.set_defaults(_subparsers=sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; returns its exit status.

    A user's mistake (a bad value or file: ``ValueError``, ``OSError``, a YAML or JSON error)
    ends in one line, ``mazebench CMD: error: ...``, and status 2; Ctrl-C in ``interrupted;
    rerun the same command to resume`` and status 130. Anything else is a bug and keeps its
    traceback.
    """
    import yaml

    parser = build_parser()
    # --help exits 0, a usage error 2 (one line: Parser.error); an unknown option is reported by
    # the subcommand's parser (`mazebench compare: error: ...`), whose --help lists the options
    args, extra = parser.parse_known_args(argv)
    if extra:
        owner = args._subparsers.get(args.command) if args.command else None
        (owner or parser).error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    prog = f"mazebench {args.command}"
    from agents.harness.lifeline import sigterm_as_interrupt

    sigterm_as_interrupt()  # `kill PID` unwinds like Ctrl-C: workers stop, the run resumes
    try:
        from agents.malloc import keep_freed_memory

        keep_freed_memory()  # large tensors reuse freed memory (measured: docs/BENCHMARKS.md)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        sys.stdout.flush()
        print(f"\n{prog}: interrupted; rerun the same command to resume", file=sys.stderr)
        return INTERRUPTED
    except (ValueError, OSError, yaml.YAMLError) as err:  # JSONDecodeError is a ValueError
        sys.stdout.flush()
        print(f"{prog}: error: {describe_error(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``mazebench train-transformer``: train the path transformer (see :mod:`train.transformer`)."""

from __future__ import annotations

import argparse
from typing import Any

from train.trainer_cli import add_trainer_parser

DESCRIPTION = """\
Train a GPT-style transformer to write the shortest path of a maze task, one token at a time,
from a preset (--preset), a YAML file of TrainConfig fields (--config), and --set KEY=VALUE
overrides (values parsed as YAML). Checkpoints, log.jsonl and TensorBoard events go to --out;
--resume continues a killed run exactly where it stopped (the config must match)."""

EPILOG = """\
examples:
  mazebench train-transformer --preset tiny --out checkpoints/transformer_tiny
  mazebench train-transformer --preset grid6 --set max_minutes=30 --out runs/grid6
  mazebench train-transformer --preset grid6 --out runs/grid6 --resume"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train-transformer`` to the ``mazebench`` subcommands."""

    def extra(p: argparse.ArgumentParser) -> None:
        p.add_argument("--cache-dir", default=None, help="dataset cache folder")

    return add_trainer_parser(
        subparsers, "train-transformer", "transformer", help="train the path transformer",
        description=DESCRIPTION, epilog=EPILOG, extra=extra,
    )  # fmt: skip

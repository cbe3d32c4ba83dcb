"""``mazebench train-dt``: train the recurrent deep-thinking maze net (train/deepthinking.py)."""

from __future__ import annotations

import argparse
from typing import Any

from train.trainer_cli import add_trainer_parser

DESCRIPTION = """\
Train the deep-thinking net (agents/deepthinking/model.py) with Bansal et al.'s progressive loss on
dfs mazes of several sizes mixed in every batch (training sets of agents/training_sets.yaml).
Start from --preset NAME and/or --config FILE.yaml (keys: train/deepthinking.py DTTrainConfig's
fields; `model` a mapping of DTConfig's); --set KEY=VALUE overrides one field. Checkpoints are
atomic; --resume continues a cut run exactly where it stopped (same config; only steps may grow).
The run folder is a checkpoint folder the agent loads: deepthinking:ckpt=OUT,n_iter=auto."""

EPILOG = """\
presets (measured results in docs/RESULTS.md):
  tiny   width 8, 4 steps, 64 tasks a set: a smoke run (seconds)
  w16    the shipped model: width 16, gated, progressive loss, dfs 3x3..9x9 (20000 steps, 18 min cap)

examples:
  mazebench train-dt --preset tiny --out /tmp/dt_tiny
  mazebench train-dt --preset w16 --out checkpoints/deepthinking_w16
  mazebench train-dt --preset w16 --out checkpoints/deepthinking_w16 --resume
  mazebench train-dt --config my.yaml --set steps=200 --set model.width=16"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train-dt`` to the ``mazebench`` subcommands."""
    return add_trainer_parser(
        subparsers, "train-dt", "deepthinking", help="train the recurrent deep-thinking maze net",
        description=DESCRIPTION, epilog=EPILOG,
    )  # fmt: skip

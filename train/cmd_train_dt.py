"""``mazebench train-dt``: train the recurrent deep-thinking maze net (train/deepthinking.py)."""

from __future__ import annotations

import argparse
import copy
from typing import Any

from train.config_args import apply_set, command_line, read_config_file

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
    p = subparsers.add_parser(
        "train-dt",
        help="train the recurrent deep-thinking maze net",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--preset", metavar="NAME", help="named config (tiny, w16)")
    p.add_argument(
        "--config", metavar="FILE", help="YAML of DTTrainConfig fields (over the preset)"
    )
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, repeatable",
    )
    p.add_argument("--out", metavar="DIR", help="run / checkpoint folder (out_dir)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from train.deepthinking import PRESETS, DTTrainConfig, main

    data: dict[str, Any] = {}
    if args.preset:
        if args.preset not in PRESETS:
            raise ValueError(f"unknown preset {args.preset!r}; known: {', '.join(PRESETS)}")
        data.update(copy.deepcopy(PRESETS[args.preset]))
    if args.config:
        file_data = read_config_file(args.config, "DTTrainConfig")
        model = {**data.get("model", {}), **file_data.pop("model", {})}
        data.update(file_data)
        if model:
            data["model"] = model
    for item in args.set:
        apply_set(data, item)
    if args.out:
        data["out_dir"] = args.out
    cfg = DTTrainConfig.from_dict(data)
    result = main(cfg, resume=args.resume, progress=not args.no_progress, command=command_line())
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in result["metrics"].items())
    print(
        f"train-dt: {result['step']} steps, {result['cpu_seconds'] / 60:.1f} CPU min -> {cfg.out_dir} ({metrics})"
    )
    return 0

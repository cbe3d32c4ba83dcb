"""``mazebench train-transformer``: train the path transformer (see :mod:`train.transformer`)."""

from __future__ import annotations

import argparse
import os
from typing import Any

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


def add_parser(subparsers: Any) -> None:
    from train.transformer import PRESETS

    p = subparsers.add_parser(
        "train-transformer", help="train the path transformer", description=DESCRIPTION,
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("--preset", choices=sorted(PRESETS), help="a named configuration")
    p.add_argument("--config", help="YAML file of TrainConfig fields (over the preset)")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override one field"
    )
    p.add_argument("--out", help="output folder (the config's out_dir)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--cache-dir", default=None, help="dataset cache folder")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> Any:
    from train.config_args import apply_set, read_config_file
    from train.transformer import PRESETS, TrainConfig

    data: dict[str, Any] = dict(PRESETS[args.preset]) if args.preset else {}
    if args.config:
        data.update(read_config_file(args.config, "TrainConfig"))
    for item in args.set:
        apply_set(data, item)
    if args.out:
        data["out_dir"] = args.out
    return TrainConfig.from_dict(data)


def run(args: argparse.Namespace) -> int:
    from agents.transformer.agent import write_meta
    from train.transformer import main

    config = build_config(args)
    record = main(config, resume=args.resume, cache_dir=args.cache_dir)
    if os.environ.get("RANK", "0") != "0":
        return 0  # torchrun: rank 0 writes the meta
    from train.config_args import command_line

    sets = config.train_sets if len(config.train_sets) != 1 else config.train_sets[0]
    write_meta(config.out_dir, config.name, sets, command_line(), record.get("cpu_minutes", 0.0))
    print({k: v for k, v in record.items()})
    return 0

"""The argument block every ``mazebench train-*`` subcommand shares, and its one ``run``.

Each ``train/cmd_train_*.py`` declares its help texts and calls :func:`add_trainer_parser`; the
config is built by :meth:`train.config_base.TrainerConfig.from_sources` (preset, then ``--config``
file, then ``--set``) and trained through :func:`train.trainers.trainer` (the same call
experiments make).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from train.config_args import command_line
from train.trainers import trainer


def add_trainer_parser(
    subparsers: Any,
    command: str,
    kind: str,
    *,
    help: str,
    description: str,
    epilog: str,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.ArgumentParser:
    """Add ``command`` (e.g. ``train-dt``) training the :data:`train.trainers.TRAINERS` ``kind``.

    Args:
        extra: adds the options only this trainer takes; their values reach its ``train`` as
            keyword arguments (by ``dest``).
    """
    config = trainer(kind).config
    p = subparsers.add_parser(
        command, help=help, description=description, epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("--preset", metavar="NAME", help="named config: " + ", ".join(config.PRESETS))
    p.add_argument(
        "--config", metavar="FILE", help=f"YAML of {config.__name__} fields (over the preset)"
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override one field (VALUE parsed as YAML; model.width=16 sets a nested one); repeatable",
    )  # fmt: skip
    p.add_argument("--out", metavar="DIR", required=True, help="run / checkpoint folder")
    p.add_argument("--resume", action="store_true", help="continue the cut run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    before = {a.dest for a in p._actions}
    if extra is not None:
        extra(p)
    extras = [a.dest for a in p._actions if a.dest not in before]
    p.set_defaults(func=run, trainer_kind=kind, trainer_command=command, trainer_extras=extras)
    return p


def run(args: argparse.Namespace) -> int:
    """Build the config, train it, print one summary line."""
    config, train = trainer(args.trainer_kind)
    cfg = config.from_sources(preset=args.preset, file=args.config, sets=args.set)
    extras = {k: getattr(args, k) for k in args.trainer_extras}
    meta = train(cfg, args.out, resume=args.resume, progress=not args.no_progress,
                 command=command_line(), **extras)  # fmt: skip
    if not meta:
        return 0  # a torchrun worker: rank 0 reports
    metrics = ", ".join(
        f"{k} {v:.3f}" for k, v in meta["metrics"].items() if isinstance(v, (int, float))
    )
    cpu = (meta.get("cpu_seconds") or 0.0) / 60
    print(
        f"{args.trainer_command}: {meta['steps']} steps, {cpu:.1f} CPU min -> {args.out}"
        + (f" ({metrics})" if metrics else "")
    )
    return 0

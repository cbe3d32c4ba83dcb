"""``mazebench train-rl``: train an RL policy (PPO, DQN, RecurrentPPO) on the maze env (train/rl.py)."""

from __future__ import annotations

import argparse
from typing import Any

from train.trainer_cli import add_trainer_parser

DESCRIPTION = """\
Train a stable-baselines3 / sb3-contrib policy on the native vector env (maze_env/sb3.py). Start
from --preset NAME and/or --config FILE.yaml (keys: train/rl.py RLConfig's fields, each documented
there); --set KEY=VALUE overrides one field (VALUE parsed as YAML). The run folder (--out) gets
config.yaml, meta.json, curve.jsonl (held-out evaluations: success, exact paths, by path length,
random-walk floor), tb/ (TensorBoard: eval/success, eval/exact, rollout/success_rate), best and
last model; it is the checkpoint folder agents load (ppo:ckpt=OUT). --resume continues a cut run."""

EPILOG = """\
presets (measured results in docs/RESULTS.md):
{presets}

examples:
  mazebench train-rl --preset tiny --out /tmp/rl_tiny
  mazebench train-rl --preset vin --out checkpoints/ppo_vin
  mazebench train-rl --preset vin --out checkpoints/ppo_vin --resume
  mazebench train-rl --preset cnn --set total_steps=200000 --set n_envs=32 --out runs/cnn
  mazebench compare --agents ppo:ckpt=checkpoints/ppo_vin bfs --suites default --n 200 --out runs/rl"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``train-rl`` to the ``mazebench`` subcommands."""
    from train.rl import PRESETS

    lines = "\n".join(
        f"  {name:<11} " + ", ".join(f"{k}={v}" for k, v in spec.items() if k != "progress")
        for name, spec in PRESETS.items()
    )

    def extra(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", metavar="NAME", help="name in meta.json (default: the folder's name)")

    return add_trainer_parser(
        subparsers, "train-rl", "rl",
        help="train an RL policy (PPO / DQN / RecurrentPPO) with stable-baselines3",
        description=DESCRIPTION, epilog=EPILOG.format(presets=lines), extra=extra,
    )  # fmt: skip

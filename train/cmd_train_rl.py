"""``mazebench train-rl``: train an RL policy (PPO, DQN, RecurrentPPO) on the maze env (train/rl.py)."""

from __future__ import annotations

import argparse
from typing import Any

from train.config_args import apply_set, command_line, read_config_file

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
    p = subparsers.add_parser(
        "train-rl",
        help="train an RL policy (PPO / DQN / RecurrentPPO) with stable-baselines3",
        description=DESCRIPTION,
        epilog=EPILOG.format(presets=lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--preset", metavar="NAME", help="named config: " + ", ".join(PRESETS))
    p.add_argument("--config", metavar="FILE", help="YAML of RLConfig fields (over the preset)")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a field, repeatable",
    )
    p.add_argument("--out", metavar="DIR", required=True, help="run / checkpoint folder")
    p.add_argument("--name", metavar="NAME", help="name in meta.json (default: the folder's name)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def build_config(args: argparse.Namespace) -> Any:
    """The RLConfig of the command line (preset, then file, then --set), validated."""
    from train.rl import RLConfig, preset

    data: dict[str, Any] = {}
    if args.preset:
        data.update(preset(args.preset).to_dict())
    if args.config:
        data.update(read_config_file(args.config, "RLConfig"))
    for item in args.set:
        apply_set(data, item)
    if args.no_progress:
        data["progress"] = False
    return RLConfig.from_dict(data).validate()


def run(args: argparse.Namespace) -> int:
    from train.rl import train

    cfg = build_config(args)
    meta = train(cfg, args.out, resume=args.resume, name=args.name, command=command_line())
    e = (meta.get("best_eval") or {}).get("eval", {})
    print(
        f"{args.out}: {meta['env_steps']} env steps, {meta['wall_minutes']} min; best held-out "
        f"success {e.get('success', float('nan')):.3f}, exact {e.get('exact', float('nan')):.3f}"
    )
    return 0

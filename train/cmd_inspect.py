"""``mazebench inspect``: linear probes and causal edits on one learned agent's checkpoint."""

from __future__ import annotations

import argparse
import sys
from typing import Any

DESCRIPTION = """\
What does a learned agent represent, and is it used? On N mazes of one suite (split into train and
test by maze), read the checkpoint's activations per layer / iteration (the deep-thinking net's
per-cell state, the VIN policy's value map, the transformer's residual stream at each cell's token
and at <PATH_START>), fit cross-validated linear probes for each cell's distance to the target
(R^2) and whether it lies on the shortest path (balanced accuracy), and score each one beside two
controls: the same architecture randomly initialised, and a control task (labels assigned at
random per input type, Hewitt & Liang 2019). Intervals: 95% bootstrap over test mazes. Then causal
edits with Wilson intervals: the VIN's reward map moved to a new cell (does the policy go there?),
the deep-thinking net's target moved after k iterations (does its path follow?). On a
transformer also: look-ahead probes (move k+j from the residual at path step k, beside a probe
that sees only the current cell's neighbourhood), every head's attention to open / closed
neighbours (adjacency heads, ablated), and retargeting by activation patching (the target cells'
residuals copied from a prompt with a moved target, per layer, with random-cell and self-patch
controls).

Writes DIR/inspect.json, DIR/inspect.md and DIR/figures/*.png."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``inspect`` to the ``mazebench`` subcommands."""
    from agents.interp.pipeline import DEFAULT_N, DEFAULT_SUITE

    p = subparsers.add_parser(
        "inspect",
        help="probe and edit a learned agent's activations (interpretability)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  mazebench inspect checkpoints/ppo_vin --out runs/inspect_vin\n"
        "  mazebench inspect checkpoints/transformer_grid6 --out runs/inspect_tf --n 100",
    )
    p.add_argument("ckpt", metavar="CKPT", help="a deepthinking, ppo (vin) or transformer checkpoint folder")
    p.add_argument("--out", metavar="DIR", required=True, help="folder for inspect.json, inspect.md, figures/")
    p.add_argument("--suite", default=DEFAULT_SUITE, help=f"built-in suite of one maze shape (default {DEFAULT_SUITE})")
    p.add_argument("--n", type=int, default=DEFAULT_N, help=f"mazes (default {DEFAULT_N}: under ~2 CPU-minutes)")
    p.add_argument("--seed", type=int, default=0, help="dataset, split, control and edit seed (default 0)")
    p.add_argument("--ahead", type=int, default=5, metavar="J",
                   help="transformer: probe moves 1..J ahead of the current step (default 5)")
    p.add_argument("--no-edits", action="store_true", help="probes only (skip the causal edits)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Inspect the checkpoint and write the report; returns the exit status."""
    if not 1 <= args.ahead <= 10:
        print(f"mazebench inspect: --ahead {args.ahead}: give 1..10 moves", file=sys.stderr)
        return 2
    from agents.interp.pipeline import inspect_checkpoint
    from agents.interp.report import write_report

    record = inspect_checkpoint(
        args.ckpt, suite=args.suite, n=args.n, seed=args.seed, edits=not args.no_edits,
        ahead=tuple(range(1, args.ahead + 1)), log=lambda s: print(s, flush=True),
    )  # fmt: skip
    paths = write_report(record, args.out)
    print(f"wrote {paths['json']} and {paths['md']} ({len(paths) - 2} figures)")
    return 0

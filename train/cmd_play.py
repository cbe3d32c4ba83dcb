"""``mazebench play``: steer through a maze by hand in a pygame window."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    from maze_env.play import add_arguments

    parser = subparsers.add_parser(
        "play",
        help="play a maze by hand (arrow keys move, R new maze, Q quit)",
        description="Steer through a maze with the arrow keys (or WASD) in a pygame window. "
        "R draws a new maze, Q or Escape quits. The status line shows the step count and whether "
        "the walk so far is on a shortest path. It needs a display: without one it says so and "
        "exits with status 2 (SDL_VIDEODRIVER=dummy plays --keys without a window).",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    from maze_env.play import main_from_args

    return main_from_args(args, prog="mazebench play")

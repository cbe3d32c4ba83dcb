"""``mazebench watch``: agents' episodes on the same maze, side by side, in a pygame window or a
recording (the logic is :mod:`agents.harness.watch`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

WINDOW_TASKS = 20
"""Tasks the window loads by default from ``--task`` on (``n`` steps through them, then wraps;
their episodes are solved only when shown)."""
SCREENSHOT_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg")
"""What ``--screenshot`` may write (pygame's image formats)."""

DESCRIPTION = """\
Watch agents solve the same tasks of a suite side by side: one panel per agent with its path so
far (one colour per agent), the cells a search expanded where its trajectory records them, and,
once its episode is over, its verdict (exact: a shortest path; reached: the target by a longer
path; failed). Task i is the task `mazebench compare` runs as task i of that suite at that seed.

Keys: space pauses and resumes; the right and left arrows step one move forward or back (and
pause); n goes to the next task; q or Escape quits. Without a display it says so and exits with
status 2; --record FILE.gif or FILE.mp4 writes the episodes to a file instead (headless: no
window, no display needed; an .mp4 needs imageio-ffmpeg): one frame per move of the longest
episode plus one, each task's last frame held 1.5 s, and one summary line per task printed.
Agents are the specs `mazebench compare --agents` takes (bfs and astar also shade the cells
they expanded); suites are the built-in suite names (`mazebench compare --help`)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``watch`` to the ``mazebench`` subcommands."""
    p = subparsers.add_parser(
        "watch",
        help="watch agents solve the same mazes side by side (pygame window or a GIF / MP4)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  mazebench watch --agents bfs astar random_fork --suite size_12\n"
        "  mazebench watch --agents bfs deepthinking:ckpt=checkpoints/deepthinking_w16 "
        "--suite size_16 --task 3\n"
        "  mazebench watch --agents bfs mcts:simulations=50 --suite in_distribution --tasks 3 "
        "--record runs/watch.gif",
    )
    p.add_argument(
        "--agents",
        nargs="+",
        required=True,
        metavar="SPEC",
        help="agent specs, as `mazebench compare --agents` takes them (bfs astar "
        "mcts:simulations=50 random_fork deepthinking:ckpt=checkpoints/deepthinking_w16)",
    )
    p.add_argument(
        "--suite", default="in_distribution", help="a built-in suite (default in_distribution)"
    )
    p.add_argument("--task", type=int, default=0, help="index of the first task (default 0)")
    p.add_argument(
        "--tasks",
        type=int,
        default=None,
        metavar="N",
        help=f"how many tasks from --task on (default: 1 with --record; {WINDOW_TASKS} in the "
        "window, where n steps through them)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="run seed, as in `mazebench compare` (default 0)"
    )
    p.add_argument("--fps", type=float, default=4.0, help="moves per second (default 4)")
    p.add_argument("--cell-px", type=int, default=None, help="cell size in pixels (default: fit)")
    p.add_argument(
        "--record",
        metavar="FILE.gif|FILE.mp4",
        help="write FILE.gif or FILE.mp4 instead of opening a window (atomic; no display needed)",
    )
    p.add_argument(
        "--screenshot",
        metavar="FILE.png",
        help="save the window once the first task has played to its end, then quit (a scripted "
        "check of what the window shows)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Solve, then show or record; returns the exit status (2 without a display)."""
    import sys

    from agents.harness import watch
    from maze_env.render import NoDisplayError

    if args.record:
        watch.check_record_path(args.record)  # a bad suffix is refused before any work
        if args.screenshot:
            raise ValueError(
                "--record and --screenshot do not go together: --record opens no window"
            )
    if args.screenshot and Path(args.screenshot).suffix.lower() not in SCREENSHOT_SUFFIXES:
        raise ValueError(
            f"--screenshot writes {'/'.join(SCREENSHOT_SUFFIXES)} files, got {args.screenshot!r}"
        )
    if args.fps <= 0:
        raise ValueError(f"--fps must be > 0, got {args.fps!r}")
    if args.cell_px is not None and args.cell_px < 2:
        raise ValueError(f"--cell-px must be >= 2, got {args.cell_px!r}")
    if not args.record:
        from maze_env.render.window import display_problem

        problem = display_problem()
        if problem is not None:  # before the agents are built: nothing is solved for nobody
            print(no_display_line(problem), file=sys.stderr)
            return 2
    if args.tasks is not None and args.tasks < 1:
        raise ValueError(f"--tasks must be >= 1, got {args.tasks!r}")
    n_tasks = args.tasks or (1 if args.record else WINDOW_TASKS)
    suite, tasks = watch.load_tasks(args.suite, args.task, n_tasks, args.seed)
    agents = watch.build_watch_agents(args.agents, args.seed)
    region = (suite.metadata or {}).get("training_target_region")
    if args.record:
        frames, held = [], []
        for i, task in enumerate(tasks):
            eps = watch.episodes(agents, task, region)
            watch.print_summary(args.task + i, eps)
            title = watch.task_title(suite.name, args.task + i)
            frames += watch.frames(task, eps, cell_px=args.cell_px, title=title)
            held.append(len(frames) - 1)
        path = watch.record(args.record, frames, args.fps, hold_last=held)
        print(f"wrote {path} ({len(frames)} frames, {len(tasks)} task(s), {len(agents)} agents)")
        return 0
    try:
        watch.run_window(
            tasks, agents, suite=suite.name, first_index=args.task, region=region,
            fps=args.fps, cell_px=args.cell_px, screenshot=args.screenshot,
            on_episodes=lambda i, eps: watch.print_summary(args.task + i, eps),
        )  # fmt: skip
    except NoDisplayError as err:
        print(no_display_line(str(err)), file=sys.stderr)
        return 2
    if args.screenshot:
        print(f"wrote {args.screenshot}")
    return 0


def no_display_line(problem: str) -> str:
    """The one-line error for no display: ``problem``'s first clause (what is missing, as
    :func:`maze_env.render.display_problem` and :class:`~maze_env.render.NoDisplayError` say it)
    and what to do instead."""
    what = problem.split(";")[0].strip()
    return (
        f"mazebench watch: error: {what}; run it on a desktop session (or over ssh -X), or write "
        "the episodes to a file with --record FILE.gif (SDL_VIDEODRIVER=dummy runs without a "
        "window)"
    )

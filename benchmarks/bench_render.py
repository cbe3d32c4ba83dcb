"""Render speed: ``rgb_array`` frames per second of our renderer against MiniGrid's, same process.

Cases (each a step and a frame, as an env renders while it plays):

* ``draw_frame``: :func:`maze_env.render.draw_frame` of a 6x6 maze with the agent, the target and
  the path walked so far, the agent moving along a random walk;
* ``MazeEnv.render()``: ``MazeEnv(render_mode="rgb_array")``, random actions, ``step`` + ``render``
  (if :mod:`maze_env.env` imports);
* ``MiniGrid-Empty-8x8-v0``: ``env.step`` + ``env.render()`` with ``render_mode="rgb_array"``
  (if ``minigrid`` imports: run this in a venv that has it); and its ``render()`` alone.

The cell size is chosen so that our frame is at least MiniGrid's 256 x 256 pixels. Run::

    python benchmarks/bench_render.py [--quick] [--seconds S] [--repeats K]

It installs nothing and prints a markdown table (median of K timed runs per case).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from maze_env import generate  # noqa: E402
from maze_env.render import draw_frame, frame_size  # noqa: E402
from maze_env.types import ACTION_DELTAS  # noqa: E402

SHAPE = (6, 6)
MINIGRID_ID = "MiniGrid-Empty-8x8-v0"
MINIGRID_PX = 256


def cell_px_for(shape: tuple[int, int], min_px: int) -> int:
    """The smallest cell size whose frame is at least ``min_px`` on both sides."""
    px = 2
    while min(frame_size(shape, px)) < min_px:
        px += 1
    return px


def timed(
    make_step: Callable[[], Callable[[], np.ndarray]], seconds: float, repeats: int
) -> tuple[float, tuple[int, ...]]:
    """Median frames/s of ``step()`` over ``repeats`` runs of about ``seconds`` each; and a frame's shape."""
    step = make_step()
    frame = step()  # warm up (caches, numba)
    rates = []
    for _ in range(repeats):
        n, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for _ in range(50):
                step()
            n += 50
        rates.append(n / elapsed)
    return statistics.median(rates), tuple(np.asarray(frame).shape)


def ours_draw_frame(cell_px: int) -> Callable[[], np.ndarray]:
    rng = np.random.default_rng(0)
    maze = generate("dfs", SHAPE, seed=0)
    target = (SHAPE[0] - 1, SHAPE[1] - 1)
    moves = maze.open_moves()
    walk = [(0, 0)]

    def step() -> np.ndarray:
        r, c = walk[-1]
        open_actions = np.flatnonzero(moves[r, c])
        a = int(open_actions[rng.integers(len(open_actions))])
        walk.append((r + int(ACTION_DELTAS[a, 0]), c + int(ACTION_DELTAS[a, 1])))
        if len(walk) > 4 * SHAPE[0] * SHAPE[1]:
            del walk[1:]
        return draw_frame(
            maze, agent=walk[-1], target=target, origin=(0, 0), paths=[walk], cell_px=cell_px
        )

    return step


def ours_env(cell_px: int) -> Callable[[], np.ndarray]:
    from maze_env.env import MazeEnv

    env = MazeEnv(SHAPE, "dfs", render_mode="rgb_array", render_cell_px=cell_px)
    env.reset(seed=0)
    env.action_space.seed(0)

    def step() -> np.ndarray:
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            env.reset()
        return env.render()

    return step


def minigrid_env(render_only: bool) -> Callable[[], np.ndarray]:
    import gymnasium
    import minigrid  # noqa: F401  (registers the MiniGrid ids)

    env = gymnasium.make(MINIGRID_ID, render_mode="rgb_array")
    env.reset(seed=0)
    env.action_space.seed(0)

    def step() -> np.ndarray:
        if not render_only:
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        return env.render()

    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="short runs (0.3 s x 3) for a smoke test"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="seconds per timed run (default 2, quick 0.3)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed runs per case; the median is shown (default 5, quick 3)",
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (0.3 if args.quick else 2.0)
    repeats = 3 if args.quick else args.repeats
    cell_px = cell_px_for(SHAPE, MINIGRID_PX)

    cases: list[tuple[str, Callable[[], Callable[[], np.ndarray]]]] = [
        (f"maze_env draw_frame, 6x6 maze, cell_px={cell_px}", lambda: ours_draw_frame(cell_px)),
        (f"maze_env MazeEnv step + render(), 6x6, cell_px={cell_px}", lambda: ours_env(cell_px)),
        (f"MiniGrid {MINIGRID_ID} step + render()", lambda: minigrid_env(render_only=False)),
        (f"MiniGrid {MINIGRID_ID} render() only", lambda: minigrid_env(render_only=True)),
    ]
    rows: list[tuple[str, str, float | None, str]] = []
    for name, make in cases:
        try:
            fps, shape = timed(make, seconds, repeats)
        except ImportError as err:
            rows.append((name, "-", None, f"skipped: {err}"))
            continue
        rows.append((name, f"{shape[0]}x{shape[1]}", fps, ""))
    baseline = next(
        (r[2] for r in rows if r[0].startswith("MiniGrid") and "step" in r[0] and r[2]), None
    )

    print(
        f"render speed, rgb_array frames/s (median of {repeats} x {seconds:g} s; python {sys.version.split()[0]})\n"
    )
    print("| case | frame (H x W) | frames/s | vs MiniGrid step + render |")
    print("| --- | --- | ---: | ---: |")
    for name, size, fps, note in rows:
        rate = f"{fps:,.0f}" if fps is not None else note
        ratio = f"{fps / baseline:.1f}x" if fps is not None and baseline else "-"
        print(f"| {name} | {size} | {rate} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Env speed against MiniGrid, measured in the same process.

Cases (random actions; ratios against MiniGrid measured in this run):

* ``single``: one ``MazeEnv`` 6x6 via ``gymnasium.make("maze_env/Maze-v0")`` (default wrappers)
  against ``gymnasium.make("MiniGrid-Empty-8x8-v0")``: steps/s, goal >= 3x;
* ``vector``: ``MazeVectorEnv`` with 4,096 6x6 mazes on one core, total steps/s against that
  single MiniGrid env, goal >= 1000x;
* ``ppo``: stable-baselines3 PPO, the same hyperparameters, 8 envs, ``MlpPolicy``: our SB3 adapter
  against MiniGrid in a ``DummyVecEnv`` with ``ImgObsWrapper``; env steps/s of ``learn``, goal >= 2x.

torch and BLAS are pinned to one thread. Run in a venv that has MiniGrid (``.venv-peers``)::

    python benchmarks/bench_env.py [--quick] [--seconds S] [--repeats K]

It installs nothing and prints a markdown table (median of K timed runs, ours and MiniGrid's
interleaved so that load from other processes hits both alike). Without MiniGrid (or SB3/torch)
those rows say so.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

import maze_env  # noqa: E402,F401  (registers maze_env/Maze-v0)
from maze_env.vector_env import MazeVectorEnv  # noqa: E402

SHAPE = (6, 6)
MINIGRID_ID = "MiniGrid-Empty-8x8-v0"
N_VECTOR = 4096
PPO_KW = dict(n_steps=128, batch_size=256, n_epochs=4, learning_rate=3e-4, gamma=0.99, seed=0)


def rate(make: Callable[[], Callable[[], int]], seconds: float) -> float:
    """Steps per second of ``step()`` (which returns how many env steps it took) over ``seconds``."""
    step = make()
    for _ in range(20):
        step()  # warm up: caches, numba, lazy allocations
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(20):
            n += step()
    return n / elapsed


def single_env(env_id: str, **kwargs: object) -> Callable[[], Callable[[], int]]:
    def make() -> Callable[[], int]:
        env = gym.make(env_id, **kwargs)
        env.reset(seed=0)
        actions = iter(np.random.default_rng(0).integers(0, env.action_space.n, 10**7).tolist())

        def step() -> int:
            _, _, terminated, truncated, _ = env.step(next(actions))
            if terminated or truncated:
                env.reset()
            return 1

        return step

    return make


def vector_env() -> Callable[[], int]:
    env = MazeVectorEnv(N_VECTOR, shape=SHAPE)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(0, 4, (64, N_VECTOR))
    k = [0]

    def step() -> int:
        env.step(actions[k[0] % 64])
        k[0] += 1
        return N_VECTOR

    return step


def ppo_rate(make_env: Callable[[], object], total: int) -> float:
    """Env steps/s of one ``PPO.learn(total)`` (after a warm-up rollout and update)."""
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", make_env(), verbose=0, device="cpu", **PPO_KW)
    model.learn(PPO_KW["n_steps"] * 8)  # warm up
    start = time.perf_counter()
    model.learn(total, reset_num_timesteps=False)
    return total / (time.perf_counter() - start)


def our_ppo_env() -> object:
    from maze_env.sb3 import MazeVecEnvAdapter

    return MazeVecEnvAdapter(num_envs=8, seed=0, shape=SHAPE)


def minigrid_ppo_env() -> object:
    from minigrid.wrappers import ImgObsWrapper
    from stable_baselines3.common.vec_env import DummyVecEnv

    env = DummyVecEnv([lambda: ImgObsWrapper(gym.make(MINIGRID_ID)) for _ in range(8)])
    env.seed(0)
    return env


def medians(cases: dict[str, Callable[[], float] | None], repeats: int) -> dict[str, float | None]:
    """Median of ``repeats`` runs of each case, the cases interleaved run by run (so that load
    from other processes falls on all of them alike); a None case gives None."""
    runs: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            if fn is not None:
                runs[name].append(fn())
    return {name: statistics.median(r) if r else None for name, r in runs.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per timed run")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per case (median)")
    args = parser.parse_args()
    seconds = args.seconds or (0.5 if args.quick else 3.0)
    repeats = args.repeats or (1 if args.quick else 5)
    try:
        import minigrid  # noqa: F401

        have_minigrid = True
    except ImportError:
        have_minigrid = False
    try:
        import torch

        torch.set_num_threads(1)
        have_sb3 = True
    except ImportError:
        have_sb3 = False

    ours_single = single_env("maze_env/Maze-v0", shape=SHAPE)
    theirs_single = single_env(MINIGRID_ID) if have_minigrid else None
    env_rates = medians(
        {
            "single": lambda: rate(ours_single, seconds),
            "minigrid": (lambda: rate(theirs_single, seconds)) if theirs_single else None,
            "vector": lambda: rate(vector_env, seconds),
        },
        repeats,
    )
    mg = env_rates["minigrid"]
    rows = [
        ("single env, gymnasium.make, 6x6 vs Empty-8x8", env_rates["single"], mg, 3),
        (f"MazeVectorEnv x{N_VECTOR} (total) vs one MiniGrid env", env_rates["vector"], mg, 1000),
    ]
    if have_sb3:
        total = PPO_KW["n_steps"] * 8 * (2 if args.quick else 8)
        ppo = medians(
            {
                "ours": lambda: ppo_rate(our_ppo_env, total),
                "minigrid": (lambda: ppo_rate(minigrid_ppo_env, total)) if have_minigrid else None,
            },
            repeats,
        )
        rows.append(
            ("SB3 PPO MlpPolicy, 8 envs (adapter vs DummyVecEnv)", ppo["ours"], ppo["minigrid"], 2)
        )

    print(
        f"\n## Env speed ({platform.python_version()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.1f}; torch threads 1; {seconds:g}s x {repeats} runs, median)\n"
    )
    print("| case | ours (steps/s) | MiniGrid (steps/s) | ratio | goal |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, ours, theirs, goal in rows:
        ratio = f"{ours / theirs:,.1f}x" if theirs else "n/a"
        ok = "" if not theirs else (" (met)" if ours / theirs >= goal else " (NOT met)")
        theirs_s = f"{theirs:,.0f}" if theirs else "n/a (no minigrid)"
        print(f"| {name} | {ours:,.0f} | {theirs_s} | {ratio} | >= {goal}x{ok} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

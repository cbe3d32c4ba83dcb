"""Benchmark: SB3 PPO training throughput on our native vector env against MiniGrid, same run.

Times ``PPO.learn`` (env steps per second, updates included) with the very same PPO settings
(``MlpPolicy`` [64, 64], ``n_steps=32``, ``batch_size=256``, ``n_epochs=4``, one torch thread) on

* ours: ``maze_env.sb3.MazeVecEnvAdapter`` (dfs 6x6 mazes, a fresh maze every episode; the grid
  observation is 3 x 13 x 13), at several ``n_envs``; plus the VIN extractor (``agents.rl``), the
  policy the shipped checkpoints use;
* MiniGrid: ``MiniGrid-SimpleCrossingS11N5-v0`` (an 11x11 grid with walls; its 7x7x3 egocentric
  image), the usual SB3 way: ``make_vec_env`` + ``DummyVecEnv``, at the same ``n_envs``.

A callback splits each run into rollout collection (env steps + policy forward passes) and the
PPO update (``train()``: the gradient steps), so the table says where the time goes.

Run it where MiniGrid is installed (the peers venv; without MiniGrid only our rows are printed)::

    PYTHONPATH=. .venv-peers/bin/python benchmarks/bench_ppo.py [--steps 32768] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.callbacks import BaseCallback  # noqa: E402

PPO_KW = {
    "n_steps": 32,
    "batch_size": 256,
    "n_epochs": 4,
    "learning_rate": 3e-4,
    "device": "cpu",
    "seed": 0,
    "verbose": 0,
}


class Split(BaseCallback):
    """Wall seconds spent collecting rollouts (the rest of ``learn`` is PPO's update)."""

    def __init__(self) -> None:
        super().__init__()
        self.rollout = 0.0
        self._t = 0.0

    def _on_rollout_start(self) -> None:
        self._t = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.rollout += time.perf_counter() - self._t

    def _on_step(self) -> bool:
        return True


def ours(n_envs: int, extractor: str | None) -> tuple[Any, Any, str]:
    from maze_env.sb3 import MazeVecEnvAdapter

    env = MazeVecEnvAdapter(num_envs=n_envs, seed=0, shape=(6, 6))
    if extractor is None:
        return env, "MlpPolicy", {}
    from agents.rl.policies import maze_policy, maze_policy_kwargs

    return env, maze_policy(extractor), maze_policy_kwargs(extractor)


def make_minigrid(n_envs: int) -> tuple[Any, Any, dict]:
    import minigrid  # noqa: F401  (registers the envs)
    from minigrid.wrappers import ImgObsWrapper
    from stable_baselines3.common.env_util import make_vec_env

    env = make_vec_env(
        "MiniGrid-SimpleCrossingS11N5-v0", n_envs=n_envs, seed=0, wrapper_class=ImgObsWrapper
    )
    return env, "MlpPolicy", {}


def measure(make: Any, steps: int) -> dict[str, float]:
    env, policy, pk = make()
    model = PPO(policy, env, policy_kwargs=pk, **PPO_KW)
    model.learn(PPO_KW["n_steps"] * env.num_envs)  # warm-up: numba, first allocations
    split = Split()
    t0 = time.perf_counter()
    model.learn(steps, callback=split, reset_num_timesteps=True)
    wall = time.perf_counter() - t0
    n = model.num_timesteps
    env.close()
    return {
        "steps": n,
        "wall_s": wall,
        "steps_per_s": n / wall,
        "rollout_s": split.rollout,
        "update_s": wall - split.rollout,
        "rollout_steps_per_s": n / split.rollout,
        "update_share": (wall - split.rollout) / wall,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=32768, help="env steps per measurement")
    p.add_argument("--n-envs", type=int, nargs="+", default=[8, 32, 128])
    p.add_argument("--quick", action="store_true", help="4096 steps, n_envs 8 and 32")
    p.add_argument("--json", metavar="FILE", help="write the rows here too")
    args = p.parse_args()
    if args.quick:
        args.steps, args.n_envs = 4096, [8, 32]
    torch.set_num_threads(1)
    try:
        import minigrid  # noqa: F401

        have_minigrid = True
    except ImportError:
        have_minigrid = False
        print("(MiniGrid not installed: only our rows; run it in the peers venv)", file=sys.stderr)
    rows = []
    for n in args.n_envs:
        cases = [("ours, MlpPolicy", lambda n=n: ours(n, None))]
        if n == 32:
            cases.append(("ours, VIN extractor", lambda n=n: ours(n, "vin")))
        if have_minigrid:
            cases.append(("MiniGrid SimpleCrossingS11N5, MlpPolicy", lambda n=n: make_minigrid(n)))
        for name, make in cases:
            r = measure(make, args.steps)
            r.update(env=name, n_envs=n)
            rows.append(r)
            print(
                f"{name:<42} n_envs={n:<4} {r['steps_per_s']:>8.0f} steps/s  (rollout {r['rollout_steps_per_s']:.0f}/s, update {100 * r['update_share']:.0f}% of the time)",
                file=sys.stderr,
                flush=True,
            )
    print(
        f"\nPPO.learn throughput, {args.steps} env steps each, 1 torch thread, {platform.processor() or platform.machine()}, python {platform.python_version()}, torch {torch.__version__}\n"
    )
    print(
        "| env | n_envs | env steps/s (updates included) | rollout steps/s | update share of wall time |"
    )
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['env']} | {r['n_envs']} | {r['steps_per_s']:.0f} | {r['rollout_steps_per_s']:.0f} | {100 * r['update_share']:.0f}% |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

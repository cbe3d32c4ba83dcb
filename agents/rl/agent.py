"""The RL agent: a trained SB3 policy (PPO / DQN / RecurrentPPO) played on the harness's tasks.

A checkpoint is a folder with ``meta.json`` (``kind``: ``ppo`` | ``dqn`` | ``rppo``, and the env
arguments it was trained with under ``env``) and ``model.zip`` (SB3's format). The agent loads the
model once, then :meth:`RLAgent.solve_batch` plays all tasks at once through the vector env
(deterministic by default: the most probable action; ``stochastic=true`` samples, from a
per-task stream). ``load_hooks(ckpt)`` gives the batched ``prior_fn`` / ``value_fn`` the MCTS
takes ("the policy plus search").

Specs: ``ppo:ckpt=checkpoints/ppo_vin``, ``ppo:ckpt=...,stochastic=true,seed=3``,
``ppo:ckpt=...,iterations=200`` (recurrent-in-depth extractors: more iterations at test time).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import BaseAgent, Trajectory
from maze_env.maze import Task
from maze_env.types import Coord

__all__ = [
    "RLAgent",
    "algo_class",
    "load_hooks",
    "load_model",
    "make_dqn_agent",
    "make_ppo_agent",
    "make_rppo_agent",
    "read_meta",
]

KINDS = ("ppo", "dqn", "rppo")


def algo_class(kind: str) -> Any:
    if kind == "ppo":
        from stable_baselines3 import PPO

        return PPO
    if kind == "dqn":
        from stable_baselines3 import DQN

        return DQN
    if kind == "rppo":
        from sb3_contrib import RecurrentPPO

        return RecurrentPPO
    raise ValueError(f"unknown RL kind {kind!r}; known: {', '.join(KINDS)}")


def read_meta(ckpt: str | Path) -> dict[str, Any]:
    """``ckpt/meta.json``, validated by :func:`agents.checkpoint.read_meta`."""
    from agents.checkpoint import read_meta as read

    return read(ckpt)


def load_model(
    ckpt: str | Path, kind: str | None = None, *, model_file: str | None = None
) -> tuple[Any, dict[str, Any]]:
    """Load ``(SB3 model, meta)`` from a checkpoint folder, on the CPU, unpickling nothing.

    Args:
        ckpt: the folder.
        kind: expected kind; a checkpoint of another kind raises ``ValueError`` naming both.
        model_file: the ``.zip`` inside the folder (default: the kind's first weight file that
            exists: ``model.zip``, ``best_model.zip``, ``last_model.zip``).

    Raises:
        FileNotFoundError: no folder, meta.json or model file.
        ValueError: another kind, a broken meta.json, or a zip that would need unpickling
            (:class:`agents.rl.safe_load.UnsafeCheckpointError`).
    """
    import torch

    from agents.checkpoint import read_kind, weights_path
    from agents.rl.safe_load import load_sb3

    found = read_kind(ckpt, KINDS if kind is None else (kind,))
    meta = read_meta(ckpt)
    if model_file:
        path = Path(ckpt) / model_file
        if not path.is_file():
            raise FileNotFoundError(f"no model in {ckpt}: {model_file} is missing")
    else:
        path = weights_path(ckpt, found)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    # schedules are not needed for inference: constant zeros instead of the saved ones
    zero = {"clip_range": 0.0, "learning_rate": 0.0}
    return load_sb3(algo_class(found), path, zero, device="cpu"), meta


class RLAgent(BaseAgent):
    """Plays a trained SB3 policy on tasks, batched through the vector env.

    Args:
        ckpt: checkpoint folder.
        kind: ``"ppo"``, ``"dqn"`` or ``"rppo"`` (must match ``meta.json``).
        stochastic: sample actions instead of taking the most probable one.
        seed: seed of the per-task action streams (stochastic) and of the env.
        iterations: iterations of a recurrent-in-depth / VIN extractor at test time (None: its own).
        vin_reward: the VIN extractor's reward floor at test time (``MazeVIN.reward_mode``):
            ``"learned"`` (as trained) or ``"peak"`` (only the target's reward: values propagate
            at any distance).
        batch_size: tasks played at once.
        temperature: DQN's softmax temperature over Q-values (priors, stochastic play).
    """

    start_method = "spawn"

    def __init__(
        self,
        ckpt: str,
        kind: str = "ppo",
        *,
        stochastic: bool = False,
        seed: int = 0,
        iterations: int | None = None,
        vin_reward: str = "learned",
        batch_size: int = 256,
        temperature: float = 0.1,
    ) -> None:
        from agents.rl.rollout import PolicyRunner

        self.ckpt = str(ckpt)
        self.model, self.meta = load_model(ckpt, kind)
        self.kind = kind
        self.runner = PolicyRunner(self.model, kind, temperature=temperature)
        if iterations is not None:
            if not hasattr(self.runner.extractor, "test_iterations"):
                raise ValueError(
                    f"iterations={iterations!r}: the {type(self.runner.extractor).__name__} "
                    "extractor has no iterations to change (only deepthink and vin do)"
                )
            self.runner.extractor.test_iterations = int(iterations)
        if vin_reward not in ("learned", "peak"):
            raise ValueError(f"vin_reward must be 'learned' or 'peak', got {vin_reward!r}")
        if vin_reward != "learned":
            if not hasattr(self.runner.extractor, "reward_mode"):
                raise ValueError(
                    f"vin_reward={vin_reward!r}: the {type(self.runner.extractor).__name__} "
                    "extractor is not a VIN (only vin has a reward floor)"
                )
            self.runner.extractor.reward_mode = vin_reward
        self.stochastic, self.seed = bool(stochastic), int(seed)
        self.batch_size = int(batch_size)
        self.env_kwargs = dict(self.meta.get("env", {}))
        options = [f"iterations={iterations}"] if iterations is not None else []
        options += [f"vin_reward={vin_reward}"] if vin_reward != "learned" else []
        options += ["stochastic"] if stochastic else []
        self.name = f"{kind}:{Path(self.ckpt).name}" + "".join(f",{o}" for o in options)

    def solve(self, task: Task) -> Trajectory:
        return self.solve_batch([task])[0]

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        from agents.rl.rollout import rollout

        t0 = time.perf_counter()
        results = rollout(
            self.runner, tasks, env_kwargs=self.env_kwargs, deterministic=not self.stochastic,
            seed=self.seed, batch_size=self.batch_size,
        )  # fmt: skip
        per = (time.perf_counter() - t0) / max(1, len(tasks))
        return [
            Trajectory.from_cells(
                r.cells,
                forward_passes=r.steps,
                seconds=per,
                gave_up=not r.reached,
                extra={"steps": r.steps, "wall_hits": r.wall_hits, **r.extra},
            )
            for r in results
        ]


def make_ppo_agent(ckpt: str, *, stochastic: bool = False, seed: int = 0, **kwargs: Any) -> RLAgent:
    """``ppo:ckpt=PATH[,stochastic=true,seed=S,iterations=N,vin_reward=peak,batch_size=B]``."""
    return RLAgent(ckpt, "ppo", stochastic=stochastic, seed=seed, **kwargs)


def make_dqn_agent(ckpt: str, *, stochastic: bool = False, seed: int = 0, **kwargs: Any) -> RLAgent:
    """``dqn:ckpt=PATH[,stochastic=true,temperature=T,...]``."""
    return RLAgent(ckpt, "dqn", stochastic=stochastic, seed=seed, **kwargs)


def make_rppo_agent(
    ckpt: str, *, stochastic: bool = False, seed: int = 0, **kwargs: Any
) -> RLAgent:
    """``rppo:ckpt=PATH[,stochastic=true,...]`` (RecurrentPPO, sb3-contrib)."""
    return RLAgent(ckpt, "rppo", stochastic=stochastic, seed=seed, **kwargs)


def load_hooks(
    ckpt: str, *, iterations: int | None = None, temperature: float = 0.1, **_: Any
) -> tuple[Any, Any]:
    """``(prior_fn, value_fn)`` of an RL checkpoint for the batched MCTS.

    ``prior_fn(tasks, cells, paths) -> float32[B, 4]``: the policy's action probabilities (up,
    right, down, left) with the agent at ``cells[b]`` having walked ``paths[b]`` (the ``visited``
    channel, if the policy has one). ``value_fn(tasks, cells, paths) -> float32[B]``: the PPO
    critic's value clipped to [0, 1] (None for DQN and RecurrentPPO; a recurrent policy's prior
    is read with a fresh memory at each cell).
    """
    from agents.rl.rollout import PolicyRunner

    model, meta = load_model(ckpt)
    kind = meta["kind"]
    runner = PolicyRunner(model, kind, temperature=temperature)
    if iterations is not None and hasattr(runner.extractor, "test_iterations"):
        runner.extractor.test_iterations = int(iterations)
    env_kwargs = dict(meta.get("env", {}))

    def observe(
        tasks: Sequence[Task], cells: np.ndarray, paths: Sequence[Sequence[Coord]]
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        return _observations(runner, env_kwargs, tasks, cells, paths)

    def prior_fn(
        tasks: Sequence[Task], cells: np.ndarray, paths: Sequence[Sequence[Coord]]
    ) -> np.ndarray:
        out = np.zeros((len(tasks), 4), dtype=np.float32)
        for rows, obs in observe(tasks, cells, paths):
            state = runner.initial_state(len(rows))
            out[rows] = runner.probs(obs, state, np.ones(len(rows), np.float32))[0]
        return out

    def value_fn(
        tasks: Sequence[Task], cells: np.ndarray, paths: Sequence[Sequence[Coord]]
    ) -> np.ndarray:
        out = np.zeros(len(tasks), dtype=np.float32)
        for rows, obs in observe(tasks, cells, paths):
            out[rows] = np.clip(runner.values(obs), 0.0, 1.0)
        return out

    return prior_fn, (value_fn if kind == "ppo" else None)


def _observations(
    runner: Any,
    env_kwargs: dict[str, Any],
    tasks: Sequence[Task],
    cells: np.ndarray,
    paths: Sequence[Sequence[Coord]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grid observations with the agent at ``cells[b]`` having walked ``paths[b]``, grouped by
    maze shape: ``[(rows, obs int8[n, C, H, W])]``, encoded as the env encodes them (walls,
    agent, target, then ``visited`` and ``mask`` when the policy was trained with them; the tests
    compare with the env's own observations)."""
    import gymnasium as gym

    from agents.rl.rollout import _check_space, _env_kwargs_for

    cells = np.asarray(cells, dtype=np.int64).reshape(len(tasks), 2)
    groups: dict[tuple[int, int], list[int]] = {}
    for i, t in enumerate(tasks):
        groups.setdefault(tuple(t.maze.shape), []).append(i)
    visited = bool(env_kwargs.get("visited"))
    out = []
    for shape, rows in groups.items():
        kw = _env_kwargs_for(shape, env_kwargs)
        padded = "pad_to" in kw
        gr, gc = kw.get("pad_to", shape)
        n_ch = 3 + visited + padded
        obs = np.zeros((len(rows), n_ch, 2 * gr + 1, 2 * gc + 1), dtype=np.int8)
        obs[:, 0] = 1
        _check_space(runner, gym.spaces.MultiBinary(list(obs.shape[1:])), shape)
        h, w = 2 * shape[0] + 1, 2 * shape[1] + 1
        for j, i in enumerate(rows):
            task = tasks[i]
            obs[j, 0, :h, :w] = task.maze.as_grid()
            r, c = int(cells[i, 0]), int(cells[i, 1])
            obs[j, 1, 2 * r + 1, 2 * c + 1] = 1
            obs[j, 2, 2 * task.target[0] + 1, 2 * task.target[1] + 1] = 1
            if visited:
                for pr, pc in [*paths[i], (r, c)]:
                    obs[j, 3, 2 * pr + 1, 2 * pc + 1] = 1
            if padded:
                obs[j, n_ch - 1, :h, :w] = 1
        out.append((np.asarray(rows), obs))
    return out

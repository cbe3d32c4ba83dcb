"""Batched rollouts of SB3 policies on given tasks, through the native vector env.

:class:`PolicyRunner` wraps a trained PPO / DQN / RecurrentPPO model and gives action
probabilities (and values) for a batch of observations of any maze size its extractor allows;
:func:`rollout` plays a list of tasks with it, all at once, through
:class:`~maze_env.vector_env.MazeVectorEnv`; :func:`evaluate` turns rollouts into the numbers the
training callbacks and reports print: success, exact paths, success by shortest-path length, and
the random-walk floor on the same tasks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from maze_env.maze import Task
from maze_env.types import ACTION_DELTAS

__all__ = ["PolicyRunner", "RolloutResult", "evaluate", "random_walk_floor", "rollout", "task_seed"]


def task_seed(seed: int, task: Task) -> list[int]:
    """Entropy for a per-task random stream keyed by (seed, maze content, origin, target)."""
    digest = hashlib.blake2b(
        f"{task.maze.content_hash()}|{task.origin}|{task.target}".encode(), digest_size=8
    ).digest()
    return [int(seed) & 0xFFFFFFFF, int.from_bytes(digest, "little")]


class PolicyRunner:
    """Action probabilities and values of an SB3 model, on observations of any allowed size.

    SB3's ``predict`` insists on the training observation shape; the runner calls the policy's
    networks directly so a size-independent extractor runs on larger mazes.

    Args:
        model: a loaded ``PPO``, ``DQN`` or ``RecurrentPPO``.
        kind: ``"ppo"``, ``"dqn"`` or ``"rppo"``.
        temperature: softmax temperature turning DQN's Q-values into probabilities.
    """

    def __init__(self, model: Any, kind: str, temperature: float = 0.1) -> None:
        if kind not in ("ppo", "dqn", "rppo"):
            raise ValueError(f"kind must be 'ppo', 'dqn' or 'rppo', got {kind!r}")
        self.model, self.kind, self.temperature = model, kind, float(temperature)
        self.policy = model.policy
        self.policy.set_training_mode(False)
        self.observation_space = model.observation_space
        extractor = (
            self.policy.q_net.features_extractor
            if kind == "dqn"
            else self.policy.features_extractor
        )
        self.extractor = extractor
        self.size_independent = bool(getattr(extractor, "size_independent", False))

    def initial_state(self, n: int) -> Any:
        """Recurrent state for ``n`` new episodes (None for feed-forward policies)."""
        if self.kind != "rppo":
            return None
        lstm = self.policy.lstm_actor
        shape = (lstm.num_layers, n, lstm.hidden_size)
        return (torch.zeros(shape), torch.zeros(shape))

    @staticmethod
    def select_state(state: Any, rows: np.ndarray) -> Any:
        if state is None:
            return None
        idx = torch.as_tensor(rows, dtype=torch.long)
        return (state[0][:, idx], state[1][:, idx])

    @torch.no_grad()
    def probs(
        self, obs: np.ndarray, state: Any = None, starts: np.ndarray | None = None
    ) -> tuple[np.ndarray, Any]:
        """``(float32[B, 4] action probabilities, new recurrent state)`` for ``obs: [B, ...]``."""
        x = torch.as_tensor(np.asarray(obs)).float()
        if self.kind == "dqn":
            q = self.policy.q_net(x)
            p = torch.softmax(q / self.temperature, dim=1)
            return p.numpy().astype(np.float32), None
        if self.kind == "rppo":
            if starts is None:
                starts = np.zeros(len(x), dtype=np.float32)
            dist, state = self.policy.get_distribution(
                x, state, torch.as_tensor(starts, dtype=torch.float32)
            )
        else:
            dist = self.policy.get_distribution(x)
        return dist.distribution.probs.numpy().astype(np.float32), state

    @torch.no_grad()
    def values(self, obs: np.ndarray) -> np.ndarray | None:
        """``float32[B]`` state values (None for DQN and recurrent policies)."""
        if self.kind != "ppo":
            return None
        x = torch.as_tensor(np.asarray(obs)).float()
        return self.policy.predict_values(x).squeeze(-1).numpy().astype(np.float32)


@dataclass
class RolloutResult:
    """One task's rollout.

    Attributes:
        cells: cells the agent stood on, in order, from the origin (a move into a wall adds none).
        actions: every action taken (``int``, including moves into walls).
        reached: the agent reached the target within the step limit.
        wall_hits: moves into walls.
        optimal_length: shortest-path moves from origin to target.
    """

    cells: list[tuple[int, int]]
    actions: list[int]
    reached: bool
    wall_hits: int
    optimal_length: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.actions)

    @property
    def exact(self) -> bool:
        """Reached the target along a shortest path, with no wasted step."""
        return self.reached and self.steps == self.optimal_length


def _env_kwargs_for(shape: tuple[int, int], env_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Env arguments for tasks of ``shape``: a policy trained padded (``pad_to``, with a mask
    channel) plays padded to ``pad_to`` or, for larger mazes, to the maze itself."""
    kw = {k: v for k, v in env_kwargs.items() if k in ("visited", "max_steps") and v is not None}
    kw["shape"] = tuple(shape)
    pad = env_kwargs.get("pad_to")
    if pad:
        kw["pad_to"] = (max(int(pad[0]), shape[0]), max(int(pad[1]), shape[1]))
    return kw


def rollout(
    runner: PolicyRunner | None,
    tasks: Sequence[Task],
    *,
    env_kwargs: dict[str, Any] | None = None,
    deterministic: bool = True,
    seed: int = 0,
    batch_size: int = 256,
    check_space: bool = True,
    stop_loops: bool = True,
) -> list[RolloutResult]:
    """Play every task once with the policy (``runner=None``: a uniform random walk).

    Tasks are grouped by maze shape and played ``batch_size`` at a time through a
    :class:`~maze_env.vector_env.MazeVectorEnv` built with ``env_kwargs`` (``visited``,
    ``max_steps``, ``pad_to``; the env's default step limit ``4 * rows * cols``). Stochastic
    actions draw from a per-task stream (:func:`task_seed`), so results do not depend on batching.

    Raises:
        ValueError: the policy is not size-independent and the tasks' observation space differs
            from the one it was trained on (both are named).
    """
    from maze_env.vector_env import MazeVectorEnv

    env_kwargs = dict(env_kwargs or {})
    out: list[RolloutResult | None] = [None] * len(tasks)
    by_shape: dict[tuple[int, int], list[int]] = {}
    for i, t in enumerate(tasks):
        by_shape.setdefault(tuple(t.maze.shape), []).append(i)
    for shape, idx in by_shape.items():
        for s in range(0, len(idx), batch_size):
            chunk = idx[s : s + batch_size]
            venv = MazeVectorEnv(len(chunk), **_env_kwargs_for(shape, env_kwargs))
            if runner is not None and check_space:
                _check_space(runner, venv.single_observation_space, shape)
            results = _play(
                runner, venv, [tasks[i] for i in chunk], deterministic, seed, stop_loops
            )
            for i, r in zip(chunk, results, strict=True):
                out[i] = r
    return [r for r in out if r is not None]


def _check_space(runner: PolicyRunner, space: Any, shape: tuple[int, int]) -> None:
    trained = runner.observation_space
    if trained.shape == space.shape:
        return
    if runner.size_independent and trained.shape[0] == space.shape[0]:
        return
    what = (
        "its extractor is not size-independent"
        if trained.shape[0] == space.shape[0]
        else "the channels differ"
    )
    raise ValueError(
        f"the policy was trained on observations {type(trained).__name__}{tuple(trained.shape)} "
        f"but these {shape[0]}x{shape[1]} mazes give {type(space).__name__}{tuple(space.shape)} "
        f"({what}); train on this size or use a size-independent extractor (fcn, deepthink, vin)"
    )


def _play(
    runner: PolicyRunner | None,
    venv: Any,
    tasks: list[Task],
    deterministic: bool,
    seed: int,
    stop_loops: bool = True,
) -> list[RolloutResult]:
    n = len(tasks)
    obs, infos = venv.reset(seed=seed, options={"tasks": tasks})
    rngs = [np.random.default_rng(task_seed(seed, t)) for t in tasks]
    pos = np.array([t.origin for t in tasks], dtype=np.int64)
    cells: list[list[tuple[int, int]]] = [[tuple(t.origin)] for t in tasks]
    actions: list[list[int]] = [[] for _ in tasks]
    hits = np.zeros(n, dtype=np.int64)
    reached = np.zeros(n, dtype=bool)
    active = np.ones(n, dtype=bool)
    optimal = np.asarray(infos["optimal_length"], dtype=np.int64).copy()
    state = runner.initial_state(n) if runner is not None else None
    starts = np.ones(n, dtype=np.float32)
    # A deterministic feed-forward policy without the visited channel sees only its cell: once it
    # stands on a cell it stood on before it repeats itself until the step limit. Stop it there
    # (same outcome: not reached), which saves up to 4 x cells forward passes per task.
    detect_loops = stop_loops and (
        deterministic and runner is not None and runner.kind != "rppo"
        and "visited" not in venv.channels
    )  # fmt: skip
    seen = [{tuple(t.origin)} for t in tasks]
    looped = np.zeros(n, dtype=bool)
    while active.any():
        rows = np.flatnonzero(active)
        if runner is None:
            probs = np.full((len(rows), 4), 0.25, dtype=np.float32)
        else:
            sub = runner.select_state(state, rows)
            probs, sub = runner.probs(obs[rows], sub, starts[rows])
            if sub is not None:
                for k in range(2):
                    state[k][:, torch.as_tensor(rows)] = sub[k]
        starts[rows] = 0.0
        if deterministic and runner is not None:
            chosen = probs.argmax(axis=1)
        else:
            u = np.array([rngs[i].random() for i in rows])
            cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
            chosen = np.minimum((u[:, None] > cdf).sum(axis=1), 3)
        a = np.zeros(n, dtype=np.int64)
        a[rows] = chosen
        obs, _, term, trunc, infos = venv.step(a)
        hit = np.asarray(infos["hit_wall"], dtype=bool)
        for j, i in enumerate(rows.tolist()):
            actions[i].append(int(chosen[j]))
            if hit[i]:
                hits[i] += 1
            else:
                pos[i] += ACTION_DELTAS[chosen[j]]
                cells[i].append((int(pos[i, 0]), int(pos[i, 1])))
        reached[rows] = term[rows]
        active[rows] = ~(term[rows] | trunc[rows])
        if detect_loops:
            for i in rows.tolist():
                if not active[i]:
                    continue
                here = (int(pos[i, 0]), int(pos[i, 1]))
                if hit[i] or here in seen[i]:
                    active[i], looped[i] = False, True
                seen[i].add(here)
    return [
        RolloutResult(
            cells[i],
            actions[i],
            bool(reached[i]),
            int(hits[i]),
            int(optimal[i]),
            extra={"loop": True} if looped[i] else {},
        )  # fmt: skip
        for i in range(n)
    ]


def _length_bins(lengths: np.ndarray) -> list[tuple[int, int]]:
    edges = [1, 3, 6, 11, 21, 41, 81, 161, 10**9]
    return [
        (lo, hi - 1)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        if (lengths >= lo).any() and (lengths < hi).any()
    ]


def evaluate(
    runner: PolicyRunner,
    tasks: Sequence[Task],
    *,
    env_kwargs: dict[str, Any] | None = None,
    deterministic: bool = True,
    seed: int = 0,
    floor: bool = True,
) -> dict[str, Any]:
    """Success, exact-path rate, success by shortest-path length, and the random-walk floor.

    Returns:
        ``{"n", "success", "exact", "mean_steps", "wall_hits", "by_length": {"lo-hi": {"n",
        "success", "exact"}}, "random_walk_success"}`` (rates in [0, 1]; the random walk plays the
        same tasks with the same step limit, the floor a policy must beat).
    """
    res = rollout(runner, tasks, env_kwargs=env_kwargs, deterministic=deterministic, seed=seed)
    succ = np.array([r.reached for r in res])
    exact = np.array([r.exact for r in res])
    lengths = np.array([r.optimal_length for r in res])
    by_length = {}
    for lo, hi in _length_bins(lengths):
        m = (lengths >= lo) & (lengths <= hi)
        by_length[f"{lo}-{hi}"] = {
            "n": int(m.sum()),
            "success": float(succ[m].mean()),
            "exact": float(exact[m].mean()),
        }
    out: dict[str, Any] = {
        "n": len(res),
        "success": float(succ.mean()),
        "exact": float(exact.mean()),
        "mean_steps": float(np.mean([r.steps for r in res])),
        "wall_hits": float(np.mean([r.wall_hits for r in res])),
        "by_length": by_length,
    }
    if floor:
        out["random_walk_success"] = random_walk_floor(tasks, env_kwargs=env_kwargs, seed=seed)
    return out


def random_walk_floor(
    tasks: Sequence[Task], *, env_kwargs: dict[str, Any] | None = None, seed: int = 0
) -> float:
    """Share of ``tasks`` a uniform random walk solves within the env's step limit."""
    res = rollout(None, tasks, env_kwargs=env_kwargs, deterministic=False, seed=seed)
    return float(np.mean([r.reached for r in res]))

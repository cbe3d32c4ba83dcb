"""Causal edits: change an internal quantity, see whether behaviour follows.

Each edit returns :class:`Edit` records: ``k`` successes of ``n`` tasks with a Wilson 95% interval
(:func:`agents.harness.metrics.wilson_interval`), beside a control that should not move behaviour
(patching a model with its own activations).

* :func:`vin_goal_edit`: the VIN's reward map ``r`` has its values at the target and at a new
  random cell swapped (a forward hook on the reward convolution); the policy is rolled out
  greedily from the origin for ``2 R C`` moves, and succeeds if it reaches the new cell before the
  episode would end on the real target. Controls: the identity patch (``vin_self_patch``: reaching
  the real target, as unedited), the unedited policy (``vin_unedited``) and the unedited policy
  passing the new cell on its way (``vin_goal_edit_control_unedited``).
* :func:`dt_target_move`: the deep-thinking net runs ``k`` iterations on the task, then the rest
  on the input with the target moved to a new cell; success = the output walk (the agent's
  :func:`agents.deepthinking.agent.walk_mask`) from the origin reaches the new target.
  ``k = 0`` is the moved task from scratch; ``k = N`` never sees the move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from maze_env import Task
from maze_env.types import ACTION_DELTAS


@dataclass(frozen=True)
class Edit:
    """One edit's rate: ``k`` of ``n`` tasks; ``low``/``high`` the Wilson 95% interval;
    ``layer`` the iteration it was applied at (``None`` for input-level edits)."""

    kind: str
    layer: int | None
    rate: float
    k: int
    n: int
    low: float
    high: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def edit(kind: str, hits: np.ndarray, layer: int | None = None) -> Edit:
    """An :class:`Edit` of boolean ``hits: bool[n]``."""
    from agents.harness.metrics import wilson_interval

    k, n = int(np.sum(hits)), int(len(hits))
    low, high = wilson_interval(k, n)
    return Edit(kind, layer, k / n if n else float("nan"), k, n, float(low), float(high))


def new_targets(tasks: Sequence[Task], seed: int = 0) -> np.ndarray:
    """``int64[n, 2]``: a random cell per task, neither its origin nor its target."""
    rng = np.random.default_rng(seed)
    out = []
    for t in tasks:
        R, C = t.maze.shape
        while True:
            cell = (int(rng.integers(R)), int(rng.integers(C)))
            if cell != tuple(t.origin) and cell != tuple(t.target):
                out.append(cell)
                break
    return np.asarray(out, dtype=np.int64)


# -- the VIN ----------------------------------------------------------------------------------
def rollout(policy: Any, tasks: Sequence[Task], goals: np.ndarray, n_channels: int) -> np.ndarray:
    """``bool[n]``: the policy, greedy from each origin for ``2 R C`` moves (a move into a wall
    stays put), stands on ``goals[i]`` before its episode ends on the task's real target (the
    observation shows it) or runs out of moves."""
    from agents.interp.activations import grid_obs

    R, C = tasks[0].maze.shape
    opened = np.stack([t.maze.open_moves() for t in tasks])  # [n, R, C, 4]
    at = np.array([t.origin for t in tasks], dtype=np.int64)
    ends = np.array([t.target for t in tasks], dtype=np.int64)
    hit = np.zeros(len(tasks), dtype=bool)
    done = np.zeros(len(tasks), dtype=bool)
    idx = np.arange(len(tasks))
    for _ in range(2 * R * C):
        obs = grid_obs(tasks, at, n_channels).astype(np.int8)
        actions, _ = policy.predict(obs, deterministic=True)
        actions = np.asarray(actions, dtype=np.int64).reshape(-1)
        ok = opened[idx, at[:, 0], at[:, 1], actions]
        at = np.where((ok & ~done)[:, None], at + ACTION_DELTAS[actions], at)
        hit |= ~done & (at == goals).all(1)
        done |= hit | (at == ends).all(1)
        if done.all():
            break
    return hit


def _swap_hook(goals: np.ndarray, olds: np.ndarray, swap: bool) -> Any:
    """A forward hook on the reward conv: ``r[b, 0, old_b] <-> r[b, 0, goal_b]`` (batch rows in
    task order; identity when not ``swap``)."""

    def hook(_module: Any, _inputs: Any, out: Any) -> Any:
        if not swap:
            return out.clone()
        out = out.clone()
        b = np.arange(out.shape[0])
        a = out[b, 0, olds[:, 0], olds[:, 1]].clone()
        out[b, 0, olds[:, 0], olds[:, 1]] = out[b, 0, goals[:, 0], goals[:, 1]]
        out[b, 0, goals[:, 0], goals[:, 1]] = a
        return out

    return hook


def vin_goal_edit(model: Any, tasks: Sequence[Task], seed: int = 0) -> list[Edit]:
    """The VIN goal edit and its controls (see the module docstring)."""
    import torch

    policy, ext = model.policy, model.net
    n_ch = int(policy.observation_space.shape[0])
    goals = new_targets(tasks, seed)
    olds = np.array([t.target for t in tasks], dtype=np.int64)
    out = []
    with torch.inference_mode():
        out.append(edit("vin_unedited", rollout(policy, tasks, olds, n_ch)))
        # chance of passing the new cell on the way to the real target, unedited
        out.append(edit("vin_goal_edit_control_unedited", rollout(policy, tasks, goals, n_ch)))
        for kind, swap, aim in (("vin_self_patch", False, olds), ("vin_goal_edit", True, goals)):
            handle = ext.reward.register_forward_hook(_swap_hook(goals, olds, swap))
            try:
                out.append(edit(kind, rollout(policy, tasks, aim, n_ch)))
            finally:
                handle.remove()
    return out


# -- the deep-thinking net --------------------------------------------------------------------
def dt_target_move(
    net: Any, tasks: Sequence[Task], n_iter: int, ks: Sequence[int], seed: int = 0
) -> list[Edit]:
    """``dt_target_move`` at each ``k`` of ``ks`` (iterations before the move), the controls
    ``dt_self_patch`` (the same split of iterations without a move: reaches the real target) and
    ``dt_unedited``."""
    import torch

    from agents.deepthinking.agent import walk_mask
    from agents.deepthinking.model import open_sides
    from agents.interp.activations import dt_input

    goals = new_targets(tasks, seed)
    x = torch.from_numpy(dt_input(tasks))
    x2 = torch.from_numpy(dt_input(tasks, goals))
    opened = [t.maze.open_moves() for t in tasks]

    def run(k: int, moved: bool) -> np.ndarray:
        with torch.inference_mode():
            e, s = net.embed(x), open_sides(x) if net.graph is not None else None
            h = net.init_state(e)
            for _ in range(k):
                h = net.step(h, e, s)
            xb = x2 if moved else x
            e2, s2 = net.embed(xb), open_sides(xb) if net.graph is not None else None
            for _ in range(n_iter - k):
                h = net.step(h, e2, s2)
            scores = net.readout(h)[:, 1::2, 1::2].numpy()
        aims = goals if moved else np.array([t.target for t in tasks])
        return np.array([
            walk_mask(o, sc, t.origin, tuple(g))[1] == "target"
            for o, sc, t, g in zip(opened, scores, tasks, aims, strict=True)
        ])  # fmt: skip

    out = [edit("dt_unedited", run(n_iter, False), n_iter)]
    for k in ks:
        out.append(edit("dt_target_move", run(int(k), True), int(k)))
    k_mid = int(ks[len(ks) // 2]) if len(ks) else 0
    out.append(edit("dt_self_patch", run(k_mid, False), k_mid))
    return out

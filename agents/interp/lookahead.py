"""Look-ahead probes: does the transformer's residual at path step ``k`` hold moves beyond the next?

Site ``path_step``: the token at position ``start + k`` of a task's sequence (``start`` is
``<PATH_START>``, ``k = 0 .. m - 1`` of its ``m`` shortest-path moves), the token after which the
model writes move ``k + 1``; the current cell is the path's cell ``k``. Target ``move_ahead`` at
``j``: move ``k + j`` (0 up, 1 right, 2 down, 3 left), for steps with ``k + j <= m``. ``j = 1``
is the move the model is about to write (its output, readable at the last layer by design);
``j >= 2`` is a plan: the model would have to hold moves it has not written yet.

Each score stands beside three controls (the pipeline's two and one of its own):

* ``control_random_init``: the same architecture randomly initialised;
* ``control_shuffled``: the Hewitt & Liang control task, labels drawn at random per current cell;
* ``control_local``: the same probe on what a planless model has at the step (Jenner et al.
  2024's worry: a probe can read a "future move" off local features that predict it): the
  current cell's four sides (open or closed), the last move (none at ``k = 0``) and the signs of
  the target's row and column offsets, one-hot over their joint configurations (so the probe can
  be any function of them). A model that plans beats this control at ``j >= 2``; one that follows
  local rules does not.

Multi-class balanced accuracy (chance 0.25): :func:`agents.interp.probes.probe`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from agents.interp.probes import probe, probe_record
from agents.interp.truth import Truth

JS = (1, 2, 3, 4, 5)
"""Moves ahead probed by default."""


def step_rows(truth: Truth, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of the ``move_ahead`` probe at ``j >= 1``: ``(task, k, label)``, each ``int64[N]``:
    every step ``k`` of every task with ``k + j <= m``, labelled with move ``k + j``."""
    if j < 1:
        raise ValueError(f"look-ahead j must be >= 1, got {j}")
    task, step, label = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for i, moves in enumerate(truth.moves):
        ks = np.arange(max(0, len(moves) - j + 1), dtype=np.int64)
        task.append(np.full(len(ks), i, dtype=np.int64))
        step.append(ks)
        label.append(moves[ks + j - 1].astype(np.int64))
    return np.concatenate(task), np.concatenate(step), np.concatenate(label)


def current_cells(truth: Truth, task: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``int64[N, 2]``: the path's cell ``k`` of each row (where the model stands)."""
    out = np.zeros((len(task), 2), dtype=np.int64)
    for r, (i, k) in enumerate(zip(task, step, strict=True)):
        out[r] = truth.paths[i][k]
    return out


def local_features(truth: Truth, task: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``float32[N, K]``: the planless control's view of each row, one-hot over the joint
    configurations present (four sides x last move or none x two offset signs: at most 720),
    so a linear probe on it can be any function of the local view (a lookup table), not only
    a linear one."""
    cell = current_cells(truth, task, step)
    sides = (truth.open[task, cell[:, 0], cell[:, 1]].astype(np.int64) * (1 << np.arange(4))).sum(1)
    last = np.full(len(task), 4, dtype=np.int64)  # 4: no move yet
    has = step > 0
    last[has] = [truth.moves[i][k - 1] for i, k in zip(task[has], step[has], strict=True)]
    off = np.sign(truth.target[task] - cell) + 1  # [N, 2] in {0, 1, 2}
    config = sides + 16 * last + 80 * off[:, 0] + 240 * off[:, 1]
    _, inv = np.unique(config, return_inverse=True)
    out = np.zeros((len(task), int(inv.max()) + 1 if len(task) else 0), dtype=np.float32)
    out[np.arange(len(task)), inv.reshape(-1)] = 1.0
    return out


def lookahead_probes(
    resid: np.ndarray, resid_random: np.ndarray, start: int, truth: Truth, test: np.ndarray,
    layers: list[int] | None = None, js: tuple[int, ...] = JS, seed: int = 0,
) -> list[dict[str, Any]]:  # fmt: skip
    """``probes[]`` records of target ``move_ahead`` at site ``path_step``, per layer and ``j``.

    Args:
        resid, resid_random: ``float[L, n, T, d]`` residual streams (trained, random-init) of the
            tasks with their shortest paths appended (:func:`agents.interp.activations.transformer_resid`).
        start: position of ``<PATH_START>``.
        truth: the tasks' :class:`Truth`.
        test: test maze ids (the split of every other probe).
    """
    layers = list(range(resid.shape[0])) if layers is None else layers
    R, C = truth.shape
    out = []
    for j in js:
        task, step, y = step_rows(truth, j)
        if len(np.unique(task)) < 4:
            continue  # paths this short leave too few mazes with a move j ahead
        pos = start + step
        cells = current_cells(truth, task, step)
        types = cells[:, 0] * C + cells[:, 1]
        local = probe(local_features(truth, task, step), y, task, "balanced_accuracy", test, seed=seed)
        for layer in layers:
            rec = probe_record("move_ahead", "path_step", layer, resid[layer, task, pos],
                               resid_random[layer, task, pos], y, task, types,
                               "balanced_accuracy", test, seed, j=j)  # fmt: skip
            out.append({**rec, "chance": 0.25, "control_local": local.score,
                        "control_local_interval": [local.low, local.high], "n_rows": int(len(y))})  # fmt: skip
    return out

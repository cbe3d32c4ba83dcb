"""All of ``mazebench inspect`` for one checkpoint: tasks, activations, probes, edits, records.

:func:`inspect_checkpoint` returns the ``inspect.json`` record (see :mod:`agents.interp.report`).
Probe rows per kind (every score beside the random-init model's and the control task's):

* deepthinking: per-cell state per iteration (site ``state``, layer = iteration): ``on_path``
  (balanced accuracy), ``distance`` (r2).
* vin: per-cell value map per iteration (site ``state``): the same two targets.
* transformer: per layer ``l`` (0 = embedding, ``l + 1`` = ``blocks.{l}.hook_resid_post``):
  at each cell's token (site ``cell_token``: that cell's ``on_path`` and ``distance``) and at
  ``<PATH_START>`` (site ``path_start``, multi-output from one vector: every cell's ``on_path``,
  every inner ``passage`` open or closed, which cell is the ``target_cell``);
  at each path step (site ``path_step``: ``move_ahead`` ``j`` = 1..5 moves on, beside a local
  control: :mod:`agents.interp.lookahead`). ``heads[]``: every head's attention from the path
  steps by key group, adjacency heads named; with edits, their ablation beside as many random
  heads (:mod:`agents.interp.heads`); and retargeting by patching the target cells' residual
  from a prompt with another target, and the world-model edit (a passage of the path closed),
  per layer, with controls (:mod:`agents.interp.patching`); whether the move decoded two ahead
  is used, by patching the step's residual from a maze that branches there
  (:mod:`agents.interp.plan_patching`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agents.interp import activations as acts
from agents.interp.probes import probe_record, split_by_maze
from agents.interp.truth import Truth, truth_of

DEFAULT_SUITE = "in_distribution"
DEFAULT_N = 150


def suite_tasks(suite: str, n: int, seed: int = 0) -> list[Any]:
    """``n`` tasks of a built-in suite (the run seed ``seed`` fixes the dataset)."""
    from agents.harness.suites import SuiteRegistry
    from maze_env.dataset import MazeDataset

    if n < 4:
        raise ValueError(f"--n must be >= 4 (mazes split into train and test), got {n}")
    found = SuiteRegistry.builtin().resolve([suite])
    if len(found) != 1:
        raise ValueError(f"--suite names one suite, not the group {suite!r} ({len(found)} suites)")
    s = found[0]
    return MazeDataset.from_config(s.dataset_config(n, seed)).tasks()


def _rows(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``float[n, R, C, F]`` -> rows ``float[n R C, F]`` and their maze ids."""
    n = states.shape[0]
    return states.reshape(-1, states.shape[-1]), np.repeat(np.arange(n), states[0, ..., 0].size)


def cell_probes(site: str, layers: list[int], S: np.ndarray, Sr: np.ndarray, truth: Truth,
                test: np.ndarray, seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """``on_path`` and ``distance`` probes on per-cell activations ``S, Sr: float[L, n, R, C, F]``."""
    types = truth.cell_types().reshape(-1)
    out = []
    for li, layer in enumerate(layers):
        X, groups = _rows(S[li])
        Xr, _ = _rows(Sr[li])
        for target, y, metric in (("on_path", truth.on_path.reshape(-1), "balanced_accuracy"),
                                  ("distance", truth.dist.reshape(-1), "r2")):  # fmt: skip
            out.append(probe_record(target, site, layer, X, Xr, y, groups, types, metric, test, seed))
    return out


def _iters(n_max: int) -> list[int]:
    return sorted({0, 1, 2, 4, 8, 16, 32, 64, n_max} & set(range(n_max + 1)) | {n_max})


def inspect_checkpoint(
    ckpt: str | Path, suite: str = DEFAULT_SUITE, n: int = DEFAULT_N, seed: int = 0,
    edits: bool = True, log: Callable[[str], None] = lambda s: None,
    ahead: tuple[int, ...] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The ``inspect.json`` record of ``ckpt`` on ``n`` tasks of ``suite`` (see the module docstring).

    ``ahead``: the look-ahead distances ``j`` probed on a transformer (default
    :data:`agents.interp.lookahead.JS`, 1..5).
    """
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    model = acts.load(ckpt)
    rand = acts.random_init(model, seed + 1)
    tasks = suite_tasks(suite, n, seed)
    truth = truth_of(tasks)
    R, C = truth.shape
    _, test = split_by_maze(truth.n, seed=seed)
    probes: list[dict[str, Any]] = []
    interventions: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    head_rows: list[dict[str, Any]] = []
    if model.kind == "deepthinking":
        from agents.deepthinking.agent import AUTO_ITERS, auto_iters

        rule = dict(AUTO_ITERS)
        meta = Path(ckpt) / "meta.json"
        if meta.is_file():
            import json

            rule.update(json.loads(meta.read_text()).get("n_iter_auto", {}))
        n_iter = auto_iters((R, C), rule)
        layers = _iters(n_iter)
        S, Sr = acts.dt_states(model.net, tasks, layers), acts.dt_states(rand.net, tasks, layers)
        log(f"activations {S.shape} in {time.perf_counter() - t0:.1f}s")
        probes += cell_probes("state", layers, S, Sr, truth, test, seed)
        extra["n_iter"] = n_iter
        if edits:
            from agents.interp.edits import dt_target_move

            ks = sorted({0, n_iter // 4, n_iter // 2, 3 * n_iter // 4, n_iter})
            interventions += [e.to_dict() for e in dt_target_move(model.net, tasks, n_iter, ks, seed)]
    elif model.kind == "vin":
        n_ch = int(model.policy.observation_space.shape[0])
        shape = tuple(model.policy.observation_space.shape[1:])
        if shape != (2 * R + 1, 2 * C + 1):
            raise ValueError(f"the policy reads {shape} grids; suite {suite!r} has {R}x{C} mazes")
        obs = acts.grid_obs(tasks, None, n_ch)
        layers = _iters(R * C)
        S, Sr = acts.vin_values(model.net, obs, layers), acts.vin_values(rand.net, obs, layers)
        log(f"activations {S.shape} in {time.perf_counter() - t0:.1f}s")
        probes += cell_probes("state", layers, S, Sr, truth, test, seed)
        if edits:
            from agents.interp.edits import vin_goal_edit

            interventions += [e.to_dict() for e in vin_goal_edit(model, tasks, seed)]
    else:
        A = acts.transformer_resid(model, tasks, truth.paths, attention=True)
        Ar = acts.transformer_resid(rand, tasks, truth.paths)
        log(f"activations {A.resid.shape} in {time.perf_counter() - t0:.1f}s")
        layers = list(range(A.resid.shape[0]))
        cells = A.cell_pos.reshape(-1)
        S = A.resid[:, :, cells].reshape(len(layers), truth.n, R, C, -1)
        Sr = Ar.resid[:, :, cells].reshape(len(layers), truth.n, R, C, -1)
        probes += cell_probes("cell_token", layers, S, Sr, truth, test, seed)
        groups = np.arange(truth.n)
        whole = (("on_path", truth.on_path.reshape(truth.n, -1)), ("passage", truth.passages()),
                 ("target_cell", truth.target_cells()))  # fmt: skip
        for layer in layers:  # the whole maze, route and target from one token (Ivanitskiy et al.)
            X, Xr = A.resid[layer, :, A.start_pos], Ar.resid[layer, :, A.start_pos]
            for target, y in whole:
                probes.append(probe_record(target, "path_start", layer, X, Xr, y, groups, groups,
                                           "balanced_accuracy", test, seed))  # fmt: skip
        from agents.interp import heads as hd
        from agents.interp.lookahead import JS, lookahead_probes

        probes += lookahead_probes(A.resid, Ar.resid, A.start_pos, truth, test, js=ahead or JS, seed=seed)
        log(f"look-ahead probes in {time.perf_counter() - t0:.1f}s")
        assert A.attn is not None
        mass, uniform = hd.attention_by_group(A.attn, truth, A.start_pos, A.cell_pos, A.lengths)
        head_rows = hd.head_records(mass, uniform)
        extra["adjacency_rule"] = {"threshold": hd.ADJACENCY_THRESHOLD, "ratio": hd.ADJACENCY_RATIO}
        if edits:
            adj = hd.adjacency_heads(mass, uniform)
            interventions += hd.ablations(model, tasks, truth, adj, seed)
            from agents.interp.patching import retarget
            from agents.interp.plan_patching import plan_patching

            interventions += [e.to_dict() for e in retarget(model, tasks, seed=seed)]
            interventions += [e.to_dict() for e in plan_patching(model, tasks, seed=seed)]
            log(f"retarget, reroute and plan patching in {time.perf_counter() - t0:.1f}s")
    log(f"{len(probes)} probes, {len(interventions)} edits in {time.perf_counter() - t0:.1f}s")
    return {
        "checkpoint": str(ckpt), "kind": model.kind, "suite": suite, "n": truth.n,
        "shape": [R, C], "seed": seed, "probes": probes, "heads": head_rows,
        "interventions": interventions, "seconds": round(time.perf_counter() - t0, 1), **extra,
    }  # fmt: skip

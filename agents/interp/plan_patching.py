"""Is the decoded plan used? Look-ahead by activation patching (seed 004; Jenner et al. 2024).

The look-ahead probes (:mod:`agents.interp.lookahead`) read move ``k + 2`` from the residual at
path step ``k`` (the token after which move ``k + 1`` is written). Decodable is not used: the
token that writes move ``k + 2`` (path step ``k + 1``) may compute it afresh from the prompt.

The test, per task: a path step ``k`` and a twin maze in which the path is the same up to its
cell ``k + 1`` and then branches elsewhere (the passage to cell ``k + 2`` closed, one from cell
``k + 1`` into the target's half opened; the maze stays perfect). Teacher-force the shared path
prefix (moves ``1 .. k + 1``) on the original prompt, but at one residual site ``l`` overwrite
the residual at step ``k`` with the twin run's; read move ``k + 2`` (the most likely of the four
move tokens) at step ``k + 1``. ``plan_patch``: the rate at which it becomes the twin's move.
If the plan decoded at step ``k`` is what step ``k + 1`` acts on, that rate is high at the
layers where the probe decodes it; if step ``k + 1`` recomputes from the prompt, it stays low.

Beside it: ``plan_unpatched`` (the model's own move ``k + 2`` on the original, its accuracy) and
``plan_twin`` (on the twin prompt: the ceiling), ``plan_patch_next`` (the twin's residual at step
``k + 1`` itself: the positive control, near the ceiling at the last site and 0 at site 0, where
the two tokens are the same), ``plan_patch_other_maze`` (step ``k`` from another task's twin: a
disturbance of the same size that carries no plan for this maze; success as for ``plan_patch``).

Grid-scheme vocabularies that write the path as moves (one token a step) only; others get no
rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.interp.edits import Edit, edit
from agents.interp.patching import patched
from maze_env import Task
from maze_env.types import ACTION_DELTAS


def branch_twins(tasks: Sequence[Task], seed: int = 0) -> tuple[list[int], np.ndarray, list[Task]]:
    """Per usable task: a step ``k`` and the twin task (see the module docstring).

    Returns the indices of the tasks used (those whose path has a step with such a twin),
    ``int64[n_used]`` the steps ``k``, and the twin tasks.
    """
    from maze_env.maze import Maze
    from maze_env.solve import shortest_path

    rng = np.random.default_rng([seed, 47])
    used, ks, twins = [], [], []
    for i, t in enumerate(tasks):
        path = [tuple(map(int, c)) for c in shortest_path(t.maze, t.origin, t.target)]
        R, C = t.maze.shape
        options = []
        for k in range(len(path) - 2):  # move k + 2 exists: cell k + 2 is on the path
            here, nxt = path[k + 1], path[k + 2]
            edges = [e for e in t.maze.edges() if set(e) != {here, nxt}]
            half = Maze.from_edges(t.maze.shape, edges).reachable(t.origin)
            if half[t.target]:
                continue  # loops: closing it leaves another way, not a clean branch
            for dr, dc in ACTION_DELTAS:
                w = (here[0] + int(dr), here[1] + int(dc))
                if w != nxt and 0 <= w[0] < R and 0 <= w[1] < C and not half[w]:
                    options.append((k, edges, here, w))
        if not options:
            continue
        k, edges, here, w = options[int(rng.integers(len(options)))]
        used.append(i)
        ks.append(k)
        twins.append(Task(Maze.from_edges(t.maze.shape, [*edges, (here, w)]), t.origin, t.target))
    return used, np.asarray(ks, dtype=np.int64), twins


def _sequences(model: Any, tasks: Sequence[Task], paths: Sequence[np.ndarray], ks: np.ndarray) -> np.ndarray:
    """``int64[n, T]``: prompt and the first ``k + 1`` moves of ``paths`` per task, right-padded."""
    from agents.interp.activations import transformer_tokens

    seqs = transformer_tokens(model, tasks, [p[: k + 2] for p, k in zip(paths, ks, strict=True)])
    ids = np.full((len(seqs), max(len(s) for s in seqs)), model.vocab.pad_id, dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
    return ids


def _next_moves(model: Any, ids: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``int64[n]``: the action of the most likely of the four move tokens at position ``at[i]``
    of each row."""
    import torch

    from agents.transformer.decoding import Codec

    codec = Codec(model.vocab)
    move_ids = torch.tensor([codec.step_ids((0, 0), a)[0] for a in range(4)])  # type: ignore[index]
    with torch.inference_mode():
        logits, _ = model.net(torch.from_numpy(ids))
    rows = logits[torch.arange(len(ids)), torch.from_numpy(at)]
    return rows[:, move_ids].argmax(-1).numpy()


def plan_patching(model: Any, tasks: Sequence[Task], sites: Sequence[int] | None = None,
                  seed: int = 0) -> list[Edit]:  # fmt: skip
    """The edits of the module docstring, per site (``layer`` = site; default every site)."""
    from agents.interp.patching import resid_at
    from agents.interp.truth import truth_of
    from maze_env.tokens.schemes import GridScheme

    scheme = model.vocab.scheme
    if not isinstance(scheme, GridScheme) or scheme.path != "moves":
        return []
    used, ks, twins = branch_twins(tasks, seed)
    if len(used) < 2:
        return []
    own = [tasks[i] for i in used]
    R, C = own[0].maze.shape
    step = R * (C + 1) + ks  # the residual at path step k (<PATH_START> is step 0)
    paths, twin_paths = truth_of(own), truth_of(twins)
    truth = np.array([m[k + 1] for m, k in zip(paths.moves, ks, strict=True)])  # move k + 2
    twin_truth = np.array([m[k + 1] for m, k in zip(twin_paths.moves, ks, strict=True)])
    ids = _sequences(model, own, paths.paths, ks)
    twin_ids = _sequences(model, twins, twin_paths.paths, ks)
    rows = np.arange(len(own))
    other = np.roll(rows, 1)  # another task's twin (same shape, another maze)
    out = [edit("plan_unpatched", _next_moves(model, ids, step + 1) == truth),
           edit("plan_twin", _next_moves(model, twin_ids, step + 1) == twin_truth)]  # fmt: skip
    sites = list(range(model.net.config.n_layer + 1)) if sites is None else list(sites)
    for site in sites:
        donor = resid_at(model, twin_ids, site)
        for kind, where, src in (("plan_patch", step, rows), ("plan_patch_next", step + 1, rows),
                                 ("plan_patch_other_maze", step, other)):  # fmt: skip
            pos_src = step[src] if kind == "plan_patch_other_maze" else where
            with patched(model.net, site, where[:, None], donor[src, pos_src][:, None]):
                got = _next_moves(model, ids, step + 1)
            out.append(edit(kind, got == twin_truth, site))
    return out


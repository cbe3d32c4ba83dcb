"""Activation patching in the transformer: retarget by editing the residual stream (seed 003).

The grid scheme marks the target in its cell's token (``t`` for ``c``), so a prompt ``P`` with
target ``t`` and a prompt ``P'`` on the same maze and origin with target ``t'`` differ in two tokens:
the cells ``t`` and ``t'``. :func:`retarget` runs ``P`` but, at one residual site ``l`` (0: the
embedding, ``l + 1``: after block ``l``: :mod:`agents.interp.activations`' indexing), overwrites
the residual at those two cells' tokens with ``P'``'s, then decodes greedily. Success: the path is
an exact shortest path to ``t'``.

At site 0 this is ``P'`` itself (the model's own exact on the moved target: the ceiling). At a
later site the tokens after the target cell have already read the old target in the layers below
``l``, and that is not patched: the rate per layer shows where the goal is copied out of its cell.
If the rate stays high up to layer ``l``, the model's goal lives in the target cell's residual up
to there, and editing that residual redirects the whole path.

``retarget_path_start`` patches only the ``<PATH_START>`` token's residual from ``P'`` (the token
the first move is read from): if the goal is copied there, that alone may redirect the path.
``retarget_prompt`` patches every prompt token up to ``<PATH_START>``: all of ``P'`` at site
``l`` (the tokens before the first changed cell are the same in both: attention is causal).
What it leaves is the layers below ``l``: the path tokens still attend to ``P``'s keys and
values there. Its rate per layer shows up to which layer the path tokens read the goal from
the prompt.

Controls: ``retarget_random_cells`` patches two random other cells (not origin, ``t``, ``t'``)
from ``P'`` at the same site (success: exact to ``t'``; near 0 unless the effect is generic), and
``self_patch`` patches ``t``, ``t'`` from ``P`` itself (success: exact to ``t``, equal to
unedited).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from agents.interp.edits import Edit, edit, new_targets
from maze_env import Task


@contextlib.contextmanager
def patched(net: Any, site: int, positions: np.ndarray, donor: np.ndarray) -> Iterator[None]:
    """Within the block, every prompt pass (a call of ``>= prompt`` tokens from position 0) of
    ``net`` has its residual at ``site`` overwritten: row ``b`` of the ``j``-th such call's batch
    (tasks in decoding order) at ``positions[i, :]`` with ``donor[i]`` (``i`` counts rows over the
    calls).

    Args:
        net: a ``GPT``.
        site: 0 (embedding) .. ``n_layer`` (after the last block).
        positions: ``int64[n, P]`` token positions per task.
        donor: ``float32[n, P, d_model]`` the residuals to write there.
    """
    import torch

    state = {"row": 0}
    need = int(positions.max()) + 1

    def write(x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] < need:  # a decoding step after the prompt: nothing to patch
            return x
        lo = state["row"]
        hi = lo + x.shape[0]
        if hi > len(positions):
            raise ValueError(f"patched: {hi} rows decoded, {len(positions)} patches given")
        state["row"] = hi
        x = x.clone()
        rows = torch.arange(x.shape[0])[:, None]
        x[rows, torch.from_numpy(positions[lo:hi])] = torch.from_numpy(donor[lo:hi]).to(x.dtype)
        return x

    if site == 0:
        handle = net.wte.register_forward_hook(lambda _m, _i, out: write(out))
    else:
        handle = net.blocks[site - 1].register_forward_hook(
            lambda _m, _i, out: (write(out[0]), out[1])
        )
    try:
        yield
    finally:
        handle.remove()


def prompt_resid(model: Any, tasks: Sequence[Task], site: int) -> np.ndarray:
    """``float32[n, T, d]``: the residual at ``site`` over each task's prompt (same shapes)."""
    import torch

    from agents.transformer.decoding import Codec

    prompts = Codec(model.vocab).prompts(tasks)
    bad = [p for p in prompts if isinstance(p, str)]
    if bad:
        raise ValueError(f"the transformer cannot read these tasks: {bad[0]}")
    ids = torch.as_tensor(np.stack(prompts), dtype=torch.long)
    out = []
    with torch.inference_mode():
        for lo in range(0, len(ids), 64):
            _, acts = model.net.run_with_cache(ids[lo : lo + 64])
            out.append(acts.resid[site].numpy())
    return np.concatenate(out).astype(np.float32)


def _cells_pos(cells: np.ndarray, C: int) -> np.ndarray:
    """Token positions of cells ``int[..., 2]`` in the grid raster (``C + 1`` tokens a row)."""
    return cells[..., 0] * (C + 1) + cells[..., 1]


def _random_cells(tasks: Sequence[Task], avoid: np.ndarray, k: int, seed: int) -> np.ndarray:
    """``int64[n, k, 2]``: ``k`` distinct cells per task, none of ``avoid[i]`` (``int[n, m, 2]``)."""
    rng = np.random.default_rng(seed)
    R, C = tasks[0].maze.shape
    out = []
    for i in range(len(tasks)):
        banned = {int(r) * C + int(c) for r, c in avoid[i]}
        free = np.array([j for j in range(R * C) if j not in banned])
        pick = rng.choice(free, size=k, replace=False)
        out.append(np.stack([pick // C, pick % C], axis=1))
    return np.asarray(out, dtype=np.int64)


def retarget(model: Any, tasks: Sequence[Task], sites: Sequence[int] | None = None,
             seed: int = 0) -> list[Edit]:  # fmt: skip
    """``retarget``, ``retarget_path_start``, ``retarget_prompt`` and ``retarget_random_cells``
    per site (``layer`` = site), ``self_patch`` at the middle site, and the unedited rates (``unedited`` on ``P``, ``unedited_new_target`` on
    ``P'``); see the module docstring. Tasks share one maze shape."""
    from agents.interp.heads import greedy_exact
    from agents.interp.truth import truth_of

    R, C = tasks[0].maze.shape
    L = model.net.config.n_layer
    sites = list(range(L + 1)) if sites is None else list(sites)
    goals = new_targets(tasks, seed)
    moved = [Task(t.maze, t.origin, (int(g[0]), int(g[1]))) for t, g in zip(tasks, goals, strict=True)]
    olds = np.array([t.target for t in tasks], dtype=np.int64)
    origins = np.array([t.origin for t in tasks], dtype=np.int64)
    truth, truth_moved = truth_of(tasks), truth_of(moved)
    pos = _cells_pos(np.stack([olds, goals], axis=1), C)  # [n, 2]
    start = np.full((len(tasks), 1), R * (C + 1), dtype=np.int64)  # <PATH_START>
    prompt = np.tile(np.arange(R * (C + 1) + 1, dtype=np.int64), (len(tasks), 1))
    rand = _cells_pos(_random_cells(tasks, np.stack([olds, goals, origins], 1), 2, seed + 1), C)
    out = [edit("unedited", greedy_exact(model, tasks, truth)),
           edit("unedited_new_target", greedy_exact(model, moved, truth_moved))]  # fmt: skip
    for site in sites:
        donor = prompt_resid(model, moved, site)
        rows = np.arange(len(tasks))[:, None]
        with patched(model.net, site, pos, donor[rows, pos]):
            out.append(edit("retarget", greedy_exact(model, tasks, truth_moved), site))
        with patched(model.net, site, start, donor[rows, start]):
            out.append(edit("retarget_path_start", greedy_exact(model, tasks, truth_moved), site))
        with patched(model.net, site, prompt, donor[rows, prompt]):
            out.append(edit("retarget_prompt", greedy_exact(model, tasks, truth_moved), site))
        with patched(model.net, site, rand, donor[rows, rand]):
            out.append(edit("retarget_random_cells", greedy_exact(model, tasks, truth_moved), site))
    mid = sites[len(sites) // 2]
    own = prompt_resid(model, tasks, mid)
    rows = np.arange(len(tasks))[:, None]
    with patched(model.net, mid, pos, own[rows, pos]):
        out.append(edit("self_patch", greedy_exact(model, tasks, truth), mid))
    return out

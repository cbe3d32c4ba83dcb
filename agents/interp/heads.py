"""Attention heads of a grid-scheme transformer: where each head looks from a path step, which are
adjacency heads, and what ablating them does.

From the query at path step ``k`` (the token at ``start + k``, after which move ``k + 1`` is
written; the current cell is the path's cell ``k``), every head's attention probabilities are
summed over disjoint groups of keys, first match wins:

* ``current``: the current cell's token in the prompt;
* ``target``: the target cell's token;
* ``open``: the tokens of the current cell's neighbours through a passage;
* ``closed``: the tokens of its in-grid neighbours behind a wall;
* ``path``: the path tokens so far (``<PATH_START>`` and the moves written);
* ``other``: everything else (the rest of the prompt).

``uniform_open`` is what ``open`` would be if the head attended uniformly over the keys it can
see. A head is an **adjacency head** when its mean ``open`` mass is at least
:data:`ADJACENCY_THRESHOLD` (stated in the report) and at least :data:`ADJACENCY_RATIO` times
``uniform_open``.

Ablation: a head's output is zeroed (a forward pre-hook on its block's output projection drops
the head's slice), then every task is decoded greedily and judged exact (a shortest path through
passages). Rows: ``ablate_adjacency`` (all adjacency heads at once), ``ablate_random_heads`` (as
many other heads, drawn with the seed: the control), one ``ablate_head`` per adjacency head, and
``unablated``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from agents.interp.edits import edit
from agents.interp.truth import Truth, moves_of
from maze_env import Task
from maze_env.types import ACTION_DELTAS

GROUPS = ("current", "target", "open", "closed", "path", "other")
ADJACENCY_THRESHOLD = 0.3
"""Least mean attention mass on the open neighbours' tokens for an adjacency head."""
ADJACENCY_RATIO = 3.0
"""... and at least this many times the mass of uniform attention over the visible keys."""


def key_groups(truth: Truth, start: int, cell_pos: np.ndarray, i: int, k: int, T: int) -> np.ndarray:
    """``int8[T]``: the group (index into :data:`GROUPS`) of each key position for the query at
    step ``k`` of task ``i`` (positions past the query: -1, not visible)."""
    R, C = truth.shape
    g = np.full(T, GROUPS.index("other"), dtype=np.int8)
    q = start + k
    g[start : q + 1] = GROUPS.index("path")
    g[q + 1 :] = -1
    r, c = (int(v) for v in truth.paths[i][k])
    for a, (dr, dc) in enumerate(ACTION_DELTAS):
        nr, nc = r + int(dr), c + int(dc)
        if 0 <= nr < R and 0 <= nc < C:
            g[cell_pos[nr, nc]] = GROUPS.index("open" if truth.open[i, r, c, a] else "closed")
    tr, tc = (int(v) for v in truth.target[i])
    g[cell_pos[tr, tc]] = GROUPS.index("target")
    g[cell_pos[r, c]] = GROUPS.index("current")
    return g


def attention_by_group(
    attn: np.ndarray, truth: Truth, start: int, cell_pos: np.ndarray, lengths: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean attention mass per head and group over every (task, step) query.

    Args:
        attn: ``float[L, n, H, T, T]`` attention probabilities of the tasks with their shortest
            paths appended.
    Returns:
        ``(mass, uniform_open)``: ``float[L, H, len(GROUPS)]`` and ``float[L, H]`` (identical
        across heads: it depends on the keys only).
    """
    L, n, H, T, _ = attn.shape
    total = np.zeros((L, H, len(GROUPS)))
    uniform = 0.0
    rows = 0
    for i in range(n):
        for k in range(len(truth.moves[i])):
            q = start + k
            if q >= lengths[i]:
                break
            g = key_groups(truth, start, cell_pos, i, k, T)
            a = attn[:, i, :, q, :]  # [L, H, T]
            for gi in range(len(GROUPS)):
                total[:, :, gi] += a[:, :, g == gi].sum(-1)
            uniform += np.count_nonzero(g == GROUPS.index("open")) / np.count_nonzero(g >= 0)
            rows += 1
    if not rows:
        raise ValueError("no path steps to read attention from")
    return total / rows, np.full((L, H), uniform / rows)


def adjacency_heads(mass: np.ndarray, uniform_open: np.ndarray) -> list[tuple[int, int]]:
    """``(layer, head)`` pairs that meet both adjacency criteria (module docstring)."""
    open_ = mass[..., GROUPS.index("open")]
    hit = (open_ >= ADJACENCY_THRESHOLD) & (open_ >= ADJACENCY_RATIO * uniform_open)
    return [(int(a), int(b)) for a, b in zip(*np.nonzero(hit), strict=True)]


@contextmanager
def ablated(net: Any, heads: Sequence[tuple[int, int]]) -> Iterator[None]:
    """Within the block, the outputs of ``heads`` (``(layer, head)``) are zero."""
    dh = net.config.d_model // net.config.n_head
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        by_layer.setdefault(layer, []).append(head)
    handles = []
    for layer, hs in by_layer.items():
        keep = np.ones(net.config.d_model, dtype=np.float32)
        for h in hs:
            keep[h * dh : (h + 1) * dh] = 0.0

        def hook(_m: Any, inputs: tuple[Any, ...], keep: np.ndarray = keep) -> tuple[Any, ...]:
            import torch

            return (inputs[0] * torch.from_numpy(keep),)

        handles.append(net.blocks[layer].attn.c_proj.register_forward_pre_hook(hook))
    try:
        yield
    finally:
        for h in handles:
            h.remove()


def exact_paths(truth: Truth, cells: Sequence[Sequence[tuple[int, int]]]) -> np.ndarray:
    """``bool[n]``: each decoded walk ``cells[i]`` (origin first) is a shortest path of task ``i``
    through passages."""
    out = np.zeros(truth.n, dtype=bool)
    for i, walk in enumerate(cells):
        w = np.asarray(walk, dtype=np.int64).reshape(-1, 2)
        if len(w) != len(truth.paths[i]) or not (w[0] == truth.origin[i]).all():
            continue
        if not (w[-1] == truth.target[i]).all():
            continue
        try:
            moves = moves_of(w)
        except ValueError:  # a jump, not a single move
            continue
        out[i] = bool(truth.open[i, w[:-1, 0], w[:-1, 1], moves].all())
    return out


def greedy_exact(model: Any, tasks: Sequence[Task], truth: Truth) -> np.ndarray:
    """``bool[n]``: greedy decoding of ``model`` (an inspectable transformer) is exact."""
    from agents.transformer.decoding import Codec, decode

    got = decode(model.net, Codec(model.vocab), tasks, "greedy")
    return exact_paths(truth, [d.cells for d in got])


def head_records(mass: np.ndarray, uniform_open: np.ndarray) -> list[dict[str, Any]]:
    """``heads[]`` records of ``inspect.json``: per (layer, head) the mass per group."""
    adj = set(adjacency_heads(mass, uniform_open))
    out = []
    for layer in range(mass.shape[0]):
        for head in range(mass.shape[1]):
            out.append({
                "layer": layer, "head": head, "adjacency": (layer, head) in adj,
                "uniform_open": float(uniform_open[layer, head]),
                **{g: float(mass[layer, head, gi]) for gi, g in enumerate(GROUPS)},
            })  # fmt: skip
    return out


def ablations(model: Any, tasks: Sequence[Task], truth: Truth, heads: list[tuple[int, int]],
              seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """``interventions[]`` records of the head ablations (module docstring)."""
    L, H = model.net.config.n_layer, model.net.config.n_head
    out = [edit("unablated", greedy_exact(model, tasks, truth)).to_dict()]
    if not heads:
        return out
    with ablated(model.net, heads):
        out.append(edit("ablate_adjacency", greedy_exact(model, tasks, truth)).to_dict())
    others = [(a, b) for a in range(L) for b in range(H) if (a, b) not in set(heads)]
    rng = np.random.default_rng(seed)
    pick = [others[i] for i in rng.choice(len(others), size=min(len(heads), len(others)), replace=False)]
    with ablated(model.net, pick):
        rec = edit("ablate_random_heads", greedy_exact(model, tasks, truth)).to_dict()
    out.append({**rec, "heads": [list(h) for h in pick]})
    for layer, head in heads:
        with ablated(model.net, [(layer, head)]):
            rec = edit("ablate_head", greedy_exact(model, tasks, truth), layer).to_dict()
        out.append({**rec, "head": head})
    return out

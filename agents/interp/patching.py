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

*Edit the world model* (:func:`rerouted`): the same sweep with ``P'`` the prompt of the same
task in an edited maze, one passage of the shortest path closed and a wall between the two
halves opened, so the old path is blocked. ``reroute`` patches the (up to four) cells whose
sides changed; success: an exact path in the edited maze. It asks up to which layer the maze is
read from the cells' residuals, the world-model counterpart of ``retarget``.

Controls: ``retarget_random_cells`` patches two random other cells (not origin, ``t``, ``t'``)
from ``P'`` at the same site (success: exact to ``t'``; near 0 unless the effect is generic), and
``self_patch`` patches ``t``, ``t'`` from ``P`` itself (success: exact to ``t``, equal to
unedited).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
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
    from agents.transformer.decoding import Codec

    prompts = Codec(model.vocab).prompts(tasks)
    bad = [p for p in prompts if isinstance(p, str)]
    if bad:
        raise ValueError(f"the transformer cannot read these tasks: {bad[0]}")
    return resid_at(model, np.stack(prompts).astype(np.int64), site)


def resid_at(model: Any, ids: np.ndarray, site: int, batch: int = 64) -> np.ndarray:
    """``float32[n, T, d]``: the residual at ``site`` of the token rows ``ids: int64[n, T]``."""
    import torch

    out = []
    with torch.inference_mode():
        for lo in range(0, len(ids), batch):
            _, acts = model.net.run_with_cache(torch.from_numpy(ids[lo : lo + batch]))
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


def rerouted(tasks: Sequence[Task], seed: int = 0) -> tuple[list[Task], np.ndarray]:
    """The world-model edit: per task, a passage on its shortest path closed and one random
    wall between the two halves it leaves opened (the maze stays connected; a perfect maze stays
    perfect), so the old path walks through a wall and the new one goes round.

    Returns the edited tasks and ``int64[n, 4, 2]``: the cells whose sides changed (the closed
    passage's two ends, the opened one's).
    """
    from maze_env.maze import Maze
    from maze_env.solve import shortest_path

    rng = np.random.default_rng([seed, 31])
    out, cells = [], []
    for t in tasks:
        path = shortest_path(t.maze, t.origin, t.target)
        k = int(rng.integers(len(path) - 1))
        a, b = tuple(map(int, path[k])), tuple(map(int, path[k + 1]))
        edges = [e for e in t.maze.edges() if set(e) != {a, b}]
        half = Maze.from_edges(t.maze.shape, edges).reachable(t.origin)
        R, C = t.maze.shape
        walls = [((r, c), (r + dr, c + dc)) for r in range(R) for c in range(C)
                 for dr, dc in ((1, 0), (0, 1)) if r + dr < R and c + dc < C
                 and half[r, c] != half[r + dr, c + dc] and {(r, c), (r + dr, c + dc)} != {a, b}]  # fmt: skip
        if half[t.target]:  # a maze with loops: closing it leaves another way round
            u, v = a, b
        elif not walls:  # a 1 x C corridor: no other wall joins the halves
            raise ValueError(f"a {R}x{C} maze: no wall reconnects the two halves")
        else:
            u, v = walls[int(rng.integers(len(walls)))]
            edges.append((u, v))
        out.append(Task(Maze.from_edges(t.maze.shape, edges), t.origin, t.target))
        cells.append([a, b, u, v])
    return out, np.asarray(cells, dtype=np.int64)


def _sweep(model: Any, tasks: Sequence[Task], edited: Sequence[Task], cells: np.ndarray,
           name: str, sites: Sequence[int], seed: int) -> list[Edit]:  # fmt: skip
    """Per site: patch ``cells`` (``int[n, m, 2]``), ``<PATH_START>``, the whole prompt, and as
    many random other cells, from the ``edited`` prompts into ``tasks``' run; success is an
    exact path of the edited task. Kinds ``name``, ``name_path_start``, ``name_prompt``,
    ``name_random_cells``; then ``self_patch`` of ``cells`` at the middle site (success: exact
    on the task itself)."""
    from agents.interp.heads import greedy_exact
    from agents.interp.truth import truth_of

    R, C = tasks[0].maze.shape
    truth, truth_edited = truth_of(tasks), truth_of(edited)
    pos = _cells_pos(cells, C)  # [n, m]
    start = np.full((len(tasks), 1), R * (C + 1), dtype=np.int64)  # <PATH_START>
    prompt = np.tile(np.arange(R * (C + 1) + 1, dtype=np.int64), (len(tasks), 1))
    origins = np.array([t.origin for t in tasks], dtype=np.int64)[:, None]
    rand = _cells_pos(_random_cells(tasks, np.concatenate([cells, origins], 1), cells.shape[1],
                                    seed + 1), C)  # fmt: skip
    rows = np.arange(len(tasks))[:, None]
    out = []
    for site in sites:
        donor = prompt_resid(model, edited, site)
        for kind, where in ((name, pos), (f"{name}_path_start", start), (f"{name}_prompt", prompt),
                            (f"{name}_random_cells", rand)):  # fmt: skip
            with patched(model.net, site, where, donor[rows, where]):
                out.append(edit(kind, greedy_exact(model, tasks, truth_edited), site))
    mid = sites[len(sites) // 2]
    own = prompt_resid(model, tasks, mid)
    with patched(model.net, mid, pos, own[rows, pos]):
        out.append(edit("self_patch", greedy_exact(model, tasks, truth), mid))
    return out


def retarget(model: Any, tasks: Sequence[Task], sites: Sequence[int] | None = None,
             seed: int = 0) -> list[Edit]:  # fmt: skip
    """The unedited rates (``unedited`` on ``P``, ``unedited_new_target`` on ``P'``), then
    :func:`_sweep` of the two target cells (``retarget*``, ``self_patch``) and of the world-model
    edit :func:`rerouted` (``unedited_new_maze``, ``reroute*``, its own ``self_patch``), per site
    (``layer`` = site; default every site); see the module docstring. Tasks share one shape."""
    from agents.interp.heads import greedy_exact
    from agents.interp.truth import truth_of

    sites = list(range(model.net.config.n_layer + 1)) if sites is None else list(sites)
    goals = new_targets(tasks, seed)
    moved = [Task(t.maze, t.origin, (int(g[0]), int(g[1]))) for t, g in zip(tasks, goals, strict=True)]
    olds = np.array([t.target for t in tasks], dtype=np.int64)
    out = [edit("unedited", greedy_exact(model, tasks, truth_of(tasks))),
           edit("unedited_new_target", greedy_exact(model, moved, truth_of(moved)))]  # fmt: skip
    out += _sweep(model, tasks, moved, np.stack([olds, goals], axis=1), "retarget", sites, seed)
    maze_edit, changed = rerouted(tasks, seed)
    out.append(edit("unedited_new_maze", greedy_exact(model, maze_edit, truth_of(maze_edit))))
    sweep = _sweep(model, tasks, maze_edit, changed, "reroute", sites, seed)
    return out + [e if e.kind != "self_patch" else replace(e, kind="self_patch_reroute") for e in sweep]

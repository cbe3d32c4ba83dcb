"""Activations of the learned agents, per layer / iteration, as per-cell arrays.

A :class:`Model` wraps one checkpoint's network (loaded without unpickling:
:func:`agents.deepthinking.weights.load_weights`, :func:`agents.rl.agent.load_model`,
:func:`agents.transformer.agent.load_model`); :func:`random_init` is the same architecture with
fresh weights (the random-init control). Every reader takes ``n`` same-shaped tasks ``(R, C)``:

* :func:`dt_states`: the deep-thinking net's per-cell state ``float32[L, n, R, C, w]`` after each
  iteration of ``iters`` (stride-2 nets have one state vector per cell).
* :func:`vin_values`: the VIN's value map ``float32[L, n, R, C, 1]`` after each iteration of
  ``iters`` (iteration 0 is the reward floor), agent at the origin.
* :func:`transformer_resid`: the residual stream ``float32[n_layer + 1, n, T, d]`` of the prompt
  and the shortest path's moves (``blocks.{l}.hook_resid_post`` is index ``l + 1``; 0 is the
  embedding), with the positions of the cell tokens and of ``<PATH_START>``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from maze_env import Task

KINDS = ("deepthinking", "vin", "transformer")
"""What :func:`load` can inspect (``inspect.json`` "kind")."""


@dataclass
class Model:
    """One inspectable network.

    Attributes:
        kind: one of :data:`KINDS`.
        net: the ``torch.nn.Module``: a ``DTNet``, a ``MazeVIN`` extractor, or a ``GPT``.
        policy: the SB3 policy holding the VIN (``None`` otherwise); its ``predict`` plays moves.
        vocab: the transformer's vocabulary (``None`` otherwise).
        info: kind-specific extras (the checkpoint's config).
    """

    kind: str
    net: Any
    policy: Any = None
    vocab: Any = None
    info: dict[str, Any] = field(default_factory=dict)


def load(ckpt: str | Path) -> Model:
    """The inspectable network of a checkpoint folder (``ValueError`` for a kind without one)."""
    from agents.checkpoint import read_kind

    kind = read_kind(ckpt)
    if kind == "deepthinking":
        from agents.deepthinking.weights import load_weights

        return Model("deepthinking", load_weights(Path(ckpt) / "model.safetensors"))
    if kind == "transformer":
        from agents.transformer.agent import load_model

        model, vocab, info = load_model(ckpt)
        return Model("transformer", model, vocab=vocab, info=info)
    if kind == "ppo":
        from agents.rl.agent import load_model as load_rl
        from agents.rl.extractors import MazeVIN

        sb3, _ = load_rl(ckpt)
        ext = sb3.policy.features_extractor
        if isinstance(ext, MazeVIN):
            return Model("vin", ext, policy=sb3.policy)
        raise ValueError(
            f"{ckpt}: a ppo checkpoint with a {type(ext).__name__} extractor; inspect reads the "
            "VIN's value map only (extractor vin)"
        )
    raise ValueError(f"{ckpt}: inspect reads deepthinking, ppo (vin) and transformer checkpoints, not {kind!r}")


def random_init(model: Model, seed: int = 0) -> Model:
    """The same architecture with freshly initialised weights (the random-init control)."""
    import torch

    torch.manual_seed(seed)
    if model.kind == "deepthinking":
        from agents.deepthinking.model import DTNet

        return Model("deepthinking", DTNet(model.net.config).eval())
    if model.kind == "transformer":
        from agents.transformer.model import GPT

        return Model("transformer", GPT(model.net.config).eval(), vocab=model.vocab, info=model.info)
    ext = model.net
    fresh = type(ext)(ext._observation_space, iterations=ext.iterations, reward_mode=ext.reward_mode)
    policy = copy.deepcopy(model.policy)
    policy.features_extractor = fresh
    policy.pi_features_extractor = policy.vf_features_extractor = fresh
    return Model("vin", fresh, policy=policy)


# -- inputs -----------------------------------------------------------------------------------
def dt_input(tasks: Sequence[Task], targets: np.ndarray | None = None) -> np.ndarray:
    """``float32[n, 3, 2R+1, 2C+1]`` deep-thinking input (walls, origin, target); ``targets``
    ``int[n, 2]`` replaces the tasks' targets (an edit)."""
    from agents.deepthinking.model import encode_grids

    conn = np.stack([t.maze.connections for t in tasks])
    tgt = np.array([t.target for t in tasks]) if targets is None else np.asarray(targets)
    return encode_grids(conn, np.array([t.origin for t in tasks]), tgt)


def grid_obs(
    tasks: Sequence[Task], agents: np.ndarray | None = None, n_channels: int = 3
) -> np.ndarray:
    """``float32[n, n_channels, 2R+1, 2C+1]`` env grid observations: walls, agent (at
    ``agents[i]``, default the origin), target; a 4th channel (visited) marks the agent's cell,
    a 5th (mask) the maze."""
    n = len(tasks)
    R, C = tasks[0].maze.shape
    obs = np.zeros((n, n_channels, 2 * R + 1, 2 * C + 1), dtype=np.float32)
    at = np.array([t.origin for t in tasks]) if agents is None else np.asarray(agents)
    for i, t in enumerate(tasks):
        obs[i, 0] = t.maze.as_grid()
        obs[i, 1, 2 * at[i][0] + 1, 2 * at[i][1] + 1] = 1
        obs[i, 2, 2 * t.target[0] + 1, 2 * t.target[1] + 1] = 1
        if n_channels > 3:
            obs[i, 3, 2 * at[i][0] + 1, 2 * at[i][1] + 1] = 1
        if n_channels > 4:
            obs[i, 4] = 1
    return obs


# -- readers ----------------------------------------------------------------------------------
def dt_states(net: Any, tasks: Sequence[Task], iters: Sequence[int]) -> np.ndarray:
    """``float32[len(iters), n, R, C, w]``: the per-cell state after each iteration of ``iters``
    (sorted ascending). A stride-1 net's state is read at the cell pixels."""
    import torch

    from agents.deepthinking.model import open_sides

    x = torch.from_numpy(dt_input(tasks))
    out = []
    with torch.inference_mode():
        e = net.embed(x)
        sides = open_sides(x) if net.graph is not None else None
        h, done = net.init_state(e), 0
        for i in sorted(iters):
            for _ in range(i - done):
                h = net.step(h, e, sides)
            done = i
            s = h if net.config.stride == 2 else h[:, :, 1::2, 1::2]
            out.append(s.permute(0, 2, 3, 1).numpy().copy())
    return np.stack(out).astype(np.float32)


def vin_values(
    ext: Any, obs: np.ndarray, iters: Sequence[int], reward_hook: Any = None
) -> np.ndarray:
    """``float32[len(iters), n, R, C, 1]``: the VIN's value map ``v`` after each iteration of
    ``iters`` (ascending; 0 = the reward floor) on grid observations ``obs``; ``reward_hook``
    maps the reward map ``float[n, 1, R, C]`` to an edited one."""
    import torch

    with torch.inference_mode():
        floor, k, closed, *_ = ext.maps(torch.from_numpy(obs), reward_hook)
        v, done, out = floor, 0, []
        for i in sorted(iters):
            for _ in range(i - done):
                v = ext.step(v, floor, k, closed)
            done = i
            out.append(v.permute(0, 2, 3, 1).numpy().copy())
    return np.stack(out).astype(np.float32)


@dataclass(frozen=True)
class Resid:
    """The transformer's residual stream on prompts plus shortest paths.

    Attributes:
        resid: ``float32[n_layer + 1, n, T, d]`` (index 0: embedding; ``l + 1``: after block ``l``),
            rows padded past each task's length (see ``lengths``).
        cell_pos: ``int64[R, C]``: position of each cell's token (row-major raster).
        start_pos: position of ``<PATH_START>``; path step ``k`` (after ``k`` moves) is at
            ``start_pos + k``.
        lengths: ``int64[n]`` tokens per task.
        attn: ``float32[n_layer, n, n_head, T, T]`` attention probabilities (only when asked).
    """

    resid: np.ndarray
    cell_pos: np.ndarray
    start_pos: int
    lengths: np.ndarray
    attn: np.ndarray | None = None


def transformer_tokens(model: Model, tasks: Sequence[Task], paths: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Token ids per task: the prompt (ending ``<PATH_START>``) and the path's moves."""
    from agents.transformer.decoding import Codec

    codec = Codec(model.vocab)
    prompts = codec.prompts(tasks)
    out = []
    for p, path in zip(prompts, paths, strict=True):
        if isinstance(p, str):
            raise ValueError(f"the transformer cannot read this suite's tasks: {p}")
        steps = codec.path_ids([tuple(int(v) for v in c) for c in path])
        out.append(np.concatenate([p, np.asarray(steps, dtype=p.dtype)]))
    return out


def transformer_resid(
    model: Model, tasks: Sequence[Task], paths: Sequence[np.ndarray], batch: int = 64,
    attention: bool = False,
) -> Resid:  # fmt: skip
    """:class:`Resid` of ``tasks`` with their shortest ``paths`` (``int[m_i + 1, 2]``) appended
    (grid-scheme vocabularies only: one token per cell); with ``attention``, the attention
    probabilities too."""
    import torch

    from maze_env.tokens.schemes import GridScheme

    if not isinstance(model.vocab.scheme, GridScheme):
        raise ValueError("inspect reads grid-scheme transformers (one token per cell) only")
    R, C = tasks[0].maze.shape
    seqs = transformer_tokens(model, tasks, paths)
    start = R * (C + 1)
    if any(len(s) <= start for s in seqs):
        raise ValueError("unexpected prompt layout: shorter than the cell raster")
    from maze_env.tokens.schemes import PATH_START

    if any(int(s[start]) != model.vocab.id_of(PATH_START) for s in seqs):
        raise ValueError(f"unexpected prompt layout: {PATH_START} is not at position {start}")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    T = int(lengths.max())
    ids = np.full((len(seqs), T), model.vocab.pad_id, dtype=np.int64)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
    chunks, attn = [], []
    with torch.inference_mode():
        for lo in range(0, len(seqs), batch):
            _, acts = model.net.run_with_cache(torch.from_numpy(ids[lo : lo + batch]))
            chunks.append(np.stack([a.numpy() for a in acts.resid]))
            if attention:
                attn.append(np.stack([a.numpy() for a in acts.attn]).astype(np.float32))
    resid = np.concatenate(chunks, axis=1).astype(np.float32)
    cell_pos = (np.arange(R)[:, None] * (C + 1) + np.arange(C)[None, :]).astype(np.int64)
    return Resid(resid=resid, cell_pos=cell_pos, start_pos=start, lengths=lengths,
                 attn=np.concatenate(attn, axis=1) if attention else None)  # fmt: skip

"""Train the path-predicting transformer: ``main(config)`` (``mazebench train-transformer``).

Data: the tasks of one or more :class:`~maze_env.dataset.DatasetConfig` (named training sets or
inline configs) with their shortest paths, encoded once into id arrays (AOTP schemes re-encode
every epoch with a fresh adjacency order: it is one vectorised call). The loss is on the path
tokens only (what follows ``<PATH_START>``, ``<PATH_END>`` included). AdamW, linear warm-up then
cosine decay, gradient clipping, optional bf16 autocast and ``torch.compile``.

Every ``eval_every`` steps: greedy exact rate on held-out tasks (disjoint from the training
tasks), and beam(k) exact on a subset (``eval/lookahead_gain`` = beam - greedy), to TensorBoard
and ``log.jsonl``. Checkpoints (``train_state.pt``: weights, optimizer, step, RNG, clocks; and the
agent-facing ``model.safetensors`` + ``config.json``) are written atomically; ``resume=True``
continues a killed run exactly where it stopped (the data order is a function of the step).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from agents.checkpoint import make_meta, selection, write_meta
from agents.transformer.decoding import Codec, decode
from agents.transformer.model import GPT, GPTConfig
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.files import atomic_path, atomic_write_text
from maze_env.solve import batch_shortest_path_arrays
from maze_env.tokens import Vocabulary, make_vocabulary
from maze_env.tokens.schemes import PATH_START, GridScheme, Scheme
from train.config_args import check_ints
from train.config_base import TrainerConfig

_RESUME_FREE = {
    "max_minutes",
    "eval_every",
    "threads",
    "out_dir",
    "progress",
    "log_every",
    "name",
    "eval_beam_n",
    "eval_n",
    "tensorboard",
}
"""Config fields a resumed run may change (they do not change the weights' trajectory)."""


@dataclass
class TrainConfig(TrainerConfig):
    """Arguments of a training run (YAML-loadable with :meth:`from_yaml`)."""

    KIND: ClassVar[str] = "transformer"
    RESUME_FREE: ClassVar[frozenset[str]] = frozenset(_RESUME_FREE)

    name: str = "transformer"
    """Run name (used in logs and the checkpoint's meta)."""
    out_dir: str = "runs/transformer"
    """Folder for checkpoints, ``log.jsonl`` and TensorBoard events."""
    scheme: str = "grid"
    """Token scheme (a key of ``maze_env.tokens.SCHEMES``)."""
    max_shape: list[int] = field(default_factory=lambda: [16, 16])
    """Largest maze the vocabulary must write (coordinate schemes only)."""
    train_sets: list[Any] = field(default_factory=lambda: ["default"])
    """Training data: names in ``agents/training_sets.yaml`` or inline DatasetConfig mappings."""
    eval_sets: list[Any] = field(
        default_factory=lambda: [{"generator": "dfs", "shape": [6, 6], "n": 500, "seed": 1000}]
    )
    """Held-out evaluation data (DatasetConfig mappings); made disjoint from the training tasks."""
    n_layer: int = 4
    """Transformer blocks."""
    n_head: int = 4
    """Attention heads."""
    d_model: int = 128
    """Residual width."""
    d_mlp: int | None = None
    """MLP width (None: 4 * d_model)."""
    pos: str = "learned"
    """Positional encoding: learned, rotary, none, or grid (2-D RoPE over the maze cell each
    token is about: raster schemes only; no position table, so any maze size fits)."""
    prefix_lm: bool = False
    """The prompt (maze, origin, target, up to ``<PATH_START>``) attends both ways; the path
    stays causal (a prefix LM: the maze's cells can read cells that come later in the raster)."""
    dropout: float = 0.0
    """Dropout rate."""
    n_ctx: int = 0
    """Context length of the training data (0: the longest training or evaluation sequence)."""
    model_ctx: int = 0
    """Longest sequence the saved model accepts (0: ``n_ctx``). With ``pos: grid`` there is no
    position table, so a model trained on 6x6 can be asked about larger mazes: say how large."""
    batch_size: int = 64
    """Sequences per optimizer step (global, across DDP ranks)."""
    batch_by_set: bool = False
    """Each batch is drawn from one training set (mixed sizes: a batch of 3x3 mazes is not
    padded to the 9x9 length). Every epoch still sees every task once; a set's share of the
    batches is its share of the tasks."""
    lr: float = 1e-3
    """Peak learning rate."""
    min_lr: float = 1e-4
    """Learning rate at the end of the cosine decay."""
    warmup_steps: int = 200
    """Linear warm-up steps."""
    max_steps: int = 10000
    """Optimizer steps (the cosine schedule's length)."""
    weight_decay: float = 0.1
    """AdamW weight decay on matrices (not on biases, LayerNorms, embeddings)."""
    beta2: float = 0.99
    """AdamW's beta2."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this (0: off)."""
    seed: int = 0
    """Seed of initialisation, data order and sampling."""
    bf16: bool = False
    """bf16 autocast (measured slower than fp32 on this CPU)."""
    compile: bool = False
    """torch.compile the model."""
    threads: int = 2
    """torch.set_num_threads."""
    max_minutes: float = 0.0
    """Stop after this many CPU-minutes of this run (all sessions), checkpointing (0: no limit)."""
    anneal_by_time: bool = False
    """Run the cosine decay over ``max_minutes`` of CPU time (whichever of steps and time is
    further along), so a time-limited run ends annealed. Not bit-reproducible (timing varies)."""
    init_from: str | None = None
    """Start from the weights of this checkpoint folder (same model shape and vocabulary): a
    curriculum, e.g. 6x6 after 5x5 with a size-independent scheme."""
    eval_every: int = 500
    """Steps between evaluations (and checkpoints)."""
    eval_n: int = 500
    """Held-out tasks per evaluation set for greedy exact."""
    eval_beam_n: int = 100
    """Tasks of the first evaluation set for beam exact (lookahead gain; 0: off)."""
    beam_k: int = 4
    """Beam width for the lookahead gain."""
    log_every: int = 50
    """Steps between train/loss log lines."""
    progress: bool = True
    """tqdm progress bar."""
    tensorboard: bool = True
    """Write TensorBoard events to out_dir/tb."""

    def __post_init__(self) -> None:
        check_ints(self, ("batch_size", "max_steps", "eval_every", "log_every", "threads",
                          "n_layer", "n_head", "d_model", "beam_k"), 1)  # fmt: skip
        check_ints(self, ("warmup_steps", "eval_n", "eval_beam_n", "n_ctx", "model_ctx"), 0)
        if self.model_ctx and self.pos == "learned":
            raise ValueError(
                "model_ctx needs pos grid, rotary or none: a learned position table has n_ctx rows"
            )
        for name in ("lr", "min_lr", "max_minutes", "weight_decay", "grad_clip", "dropout"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)!r}")


_PLANNER = {
    "scheme": "grid", "pos": "grid", "model_ctx": 2048,
    "n_layer": 8, "n_head": 4, "d_model": 96, "batch_size": 64, "max_steps": 100000,
    "anneal_by_time": True, "eval_every": 500, "eval_n": 300,
}  # fmt: skip
"""The wave-3 design: path as moves, 2-D RoPE over cells, causal, 8 layers (5x5 probes, 1,500
steps: the prefix LM measured no gain, 86.7% either way; 8 layers instead of 4: 97.3% at step
1,000 against 86.0%; docs/RESULTS.md)."""

_EVAL_6X6 = [
    {"generator": "dfs", "shape": [6, 6], "n": 500, "seed": 1006},
    {"generator": "dfs_percolation", "shape": [6, 6], "n": 300, "seed": 1016},
    {"generator": "dfs", "shape": [8, 8], "n": 300, "seed": 1008},
]
"""Held-out sets of the 6x6 presets: in distribution, with loops, two sizes up."""

PRESETS: dict[str, dict[str, Any]] = {
    "tiny": {
        **_PLANNER, "name": "tiny", "train_sets": ["dfs_5x5"],
        "eval_sets": [{"generator": "dfs", "shape": [5, 5], "n": 500, "seed": 1005}],
        "lr": 2e-3, "warmup_steps": 200, "max_minutes": 14.0, "threads": 1,
    },
    "grid6": {
        **_PLANNER, "name": "grid6", "train_sets": ["default"],
        "eval_sets": _EVAL_6X6,
        "lr": 2e-3, "warmup_steps": 200, "max_minutes": 60.0, "threads": 2,
    },
    # issue 21, diversity: every dfs size 3x3 .. 9x9 in one model (batches of one size each);
    # held-out 6x6 and 9x9 of the training distribution, and 12x12 logged as a monitor only
    # (the last step is kept: nothing selects on it); context for mazes to 64x64
    "grid3to9": {
        **_PLANNER, "name": "grid3to9",
        "train_sets": ["dt_dfs_3", "dt_dfs_4", "tf_dfs_5", "tf_dfs_6", "tf_dfs_7", "tf_dfs_8",
                       "tf_dfs_9"],
        "batch_by_set": True, "model_ctx": 8192,
        "eval_sets": [{"generator": "dfs", "shape": [6, 6], "n": 300, "seed": 1106},
                      {"generator": "dfs", "shape": [9, 9], "n": 300, "seed": 1109},
                      {"generator": "dfs", "shape": [12, 12], "n": 200, "seed": 1112}],
        "lr": 2e-3, "warmup_steps": 200, "max_minutes": 120.0, "threads": 2, "eval_every": 1000,
        "eval_n": 200, "eval_beam_n": 0,
    },
    # next step for dfs_percolation (loops): grid6's weights, then dfs 6x6 mixed with
    # dfs_percolation 6x6 (started at the end of wave 3; see docs/RESULTS.md)
    "grid6_mix": {
        **_PLANNER, "name": "grid6_mix", "train_sets": ["default", "dfs_percolation_6x6"],
        "init_from": "checkpoints/transformer_grid6",
        "eval_sets": _EVAL_6X6,
        "lr": 1e-3, "warmup_steps": 100, "max_minutes": 40.0, "threads": 2,
    },
    # the first design (wave 2): path as cells, learned absolute positions, causal
    "tiny_learned": {
        "name": "tiny", "scheme": "grid_cells", "train_sets": ["dfs_5x5"],
        "eval_sets": [{"generator": "dfs", "shape": [5, 5], "n": 500, "seed": 1005}],
        "n_layer": 4, "n_head": 4, "d_model": 96, "n_ctx": 128, "batch_size": 64, "lr": 2e-3,
        "max_steps": 100000, "warmup_steps": 200, "max_minutes": 14.0, "anneal_by_time": True,
        "eval_every": 500, "eval_n": 300, "threads": 1,
    },
    "grid6_learned": {
        "name": "grid6", "scheme": "grid_cells", "train_sets": ["default"],
        "init_from": "checkpoints/transformer_tiny_learned",
        "eval_sets": [{"generator": "dfs", "shape": [6, 6], "n": 500, "seed": 1006},
                      {"generator": "dfs", "shape": [5, 5], "n": 200, "seed": 1005}],
        "n_layer": 4, "n_head": 4, "d_model": 96, "n_ctx": 128, "batch_size": 64, "lr": 1.5e-3,
        "max_steps": 100000, "warmup_steps": 100, "max_minutes": 24.0, "anneal_by_time": True,
        "eval_every": 500, "eval_n": 300, "threads": 2,
    },
}  # fmt: skip
"""Named configurations (``--preset``); each field a :class:`TrainConfig` field."""
TrainConfig.PRESETS = PRESETS


# ------------------------------------------------------------------------------------------------
# data
# ------------------------------------------------------------------------------------------------


def resolve_set(spec: Any) -> DatasetConfig:
    """A training-set name or a DatasetConfig mapping as a DatasetConfig."""
    if isinstance(spec, str):
        from agents.training_sets import TRAINING_SETS

        if spec not in TRAINING_SETS:
            raise ValueError(
                f"unknown training set {spec!r}; declared in agents/training_sets.yaml: {', '.join(TRAINING_SETS)}"
            )
        return TRAINING_SETS[spec]
    return DatasetConfig.from_dict(spec)


@dataclass
class EncodedSet:
    """One dataset's tasks as arrays, ready to encode (``paths`` as ``(cells, lengths)``)."""

    dataset: MazeDataset
    paths: tuple[np.ndarray, np.ndarray]


def load_sets(
    specs: list[Any], exclude: list[MazeDataset] = (), cache_dir: str | None = None
) -> list[EncodedSet]:  # type: ignore[assignment]
    out = []
    for spec in specs:
        config = resolve_set(spec)
        same = [d for d in exclude if d.config.shape == config.shape]
        ds = MazeDataset.from_config(config, cache_dir=cache_dir, exclude=same or None)
        if len(ds) == 0:
            raise ValueError(f"dataset {config.to_dict()} is empty")
        paths = batch_shortest_path_arrays(ds.mazes, ds.origins, ds.targets)
        out.append(EncodedSet(ds, paths))
    return out


def encode_sets(
    vocab: Vocabulary, sets: list[EncodedSet], length: int, rng: np.random.Generator | None
) -> np.ndarray:
    """``int32[N, length]`` ids of every task of ``sets`` with its shortest path."""
    return np.concatenate(
        [
            vocab.encode_arrays(
                s.dataset.mazes,
                s.dataset.origins,
                s.dataset.targets,
                s.paths,
                rng=rng,
                length=length,
            )
            for s in sets
        ]
    )


def loss_targets(ids: torch.Tensor, path_start: int, pad_id: int) -> torch.Tensor:
    """``(B, T)`` next-token targets, ``-1`` except where the next token is a path token."""
    T = ids.shape[1]
    start = (ids == path_start).int().argmax(dim=1, keepdim=True)  # (B, 1)
    pos = torch.arange(T)[None, :]
    nxt = torch.cat([ids[:, 1:], torch.full_like(ids[:, :1], pad_id)], dim=1)
    keep = (pos >= start) & (nxt != pad_id)
    return torch.where(keep, nxt, torch.full_like(nxt, -1))


def epoch_cuts(n: int, batch_size: int, set_sizes: list[int] | None = None) -> list[int]:
    """Whole batches per epoch, per set (``set_sizes``, see :func:`batch_indices`) or of all
    ``n`` rows as one: the epoch is ``sum`` of them."""
    return [max(1, size // batch_size) for size in (set_sizes or [n])]


def batch_indices(
    step: int, n: int, batch_size: int, seed: int, set_sizes: list[int] | None = None
) -> np.ndarray:
    """Rows of batch ``step``: epochs are seeded permutations, so the order is a function of step.

    With ``set_sizes`` (the rows ``0..n`` are consecutive sets of these sizes), every batch holds
    rows of one set: each set is permuted and cut into whole batches (a set's leftover rows wait
    for a later epoch's permutation), and the batches of all sets are shuffled together.
    """
    cuts = epoch_cuts(n, batch_size, set_sizes)
    epoch, k = divmod(step, sum(cuts))
    if not set_sizes:
        perm = np.random.default_rng([seed, epoch]).permutation(n)
        return perm[k * batch_size : (k + 1) * batch_size]
    if sum(set_sizes) != n:
        raise ValueError(f"set_sizes {set_sizes} do not add up to the {n} rows")
    order = int(np.random.default_rng([seed, epoch, 1]).permutation(sum(cuts))[k])
    ends = np.cumsum(cuts)
    i = int(np.searchsorted(ends, order, side="right"))
    j = order - int(ends[i] - cuts[i])
    start = sum(set_sizes[:i])
    perm = np.random.default_rng([seed, epoch, 2, i]).permutation(set_sizes[i])
    return start + perm[j * batch_size : (j + 1) * batch_size]


# ------------------------------------------------------------------------------------------------
# schedule, optimizer, evaluation
# ------------------------------------------------------------------------------------------------


def lr_at(step: int, c: TrainConfig, cpu_s: float = 0.0) -> float:
    """Linear warm-up to ``lr``, cosine decay to ``min_lr`` at ``max_steps`` (or, with
    ``anneal_by_time``, at ``max_minutes`` of CPU time if that comes first)."""
    if step < c.warmup_steps:
        return c.lr * (step + 1) / c.warmup_steps
    frac = min(1.0, (step - c.warmup_steps) / max(1, c.max_steps - c.warmup_steps))
    if c.anneal_by_time and c.max_minutes > 0:
        frac = max(frac, min(1.0, cpu_s / (60 * c.max_minutes)))
    return c.min_lr + 0.5 * (1 + math.cos(math.pi * frac)) * (c.lr - c.min_lr)


def make_optimizer(model: GPT, c: TrainConfig) -> torch.optim.AdamW:
    decay = [
        p for n, p in model.named_parameters() if p.dim() >= 2 and "wte" not in n and "wpe" not in n
    ]
    other = [
        p
        for n, p in model.named_parameters()
        if not (p.dim() >= 2 and "wte" not in n and "wpe" not in n)
    ]
    groups = [
        {"params": decay, "weight_decay": c.weight_decay},
        {"params": other, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=c.lr, betas=(0.9, c.beta2))


def exact_rate(
    model: GPT, codec: Codec, ds: MazeDataset, n: int, mode: str = "greedy", k: int = 4
) -> float:
    """Fraction of the first ``n`` tasks decoded to a valid shortest path."""
    tasks = [ds[i] for i in range(min(n, len(ds)))]
    results = decode(model, codec, tasks, mode, k=k)
    lengths = ds.path_lengths[: len(tasks)]
    ok = 0
    for task, res, length in zip(tasks, results, lengths, strict=True):
        cells = res.cells
        if (
            res.problems
            or len(cells) != int(length) + 1
            or cells[0] != task.origin
            or cells[-1] != task.target
        ):
            continue
        ok += all(task.maze.has_passage(a, b) for a, b in zip(cells[:-1], cells[1:], strict=True))
    return ok / max(1, len(tasks))


# ------------------------------------------------------------------------------------------------
# checkpoints
# ------------------------------------------------------------------------------------------------


def vocab_info(vocab: Vocabulary) -> dict[str, Any]:
    return {
        "scheme": vocab.scheme.name,
        "max_shape": list(vocab.max_shape),
        "size": len(vocab),
        "tokens_sha": _sha(vocab.tokens),
    }


def _sha(tokens: tuple[str, ...]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16]


def save_checkpoint(
    out: Path,
    model: GPT,
    opt: torch.optim.Optimizer,
    c: TrainConfig,
    vocab: Vocabulary,
    step: int,
    clocks: dict[str, float],
) -> None:
    """Write ``train_state.pt`` (resume), then ``model.safetensors`` and ``config.json`` (agents)."""
    from safetensors.torch import save_file

    out.mkdir(parents=True, exist_ok=True)
    raw = getattr(model, "_orig_mod", model)
    weights = {
        k: v.detach().clone().contiguous()
        for k, v in raw.state_dict().items()
        if k != "lm_head.weight"
    }
    info = {
        "train": c.to_dict(),
        "model": raw.config.to_dict(),
        "vocab": vocab_info(vocab),
        "step": step,
        "clocks": clocks,
    }
    state = {
        "model": weights,
        "optimizer": opt.state_dict(),
        "torch_rng": torch.get_rng_state(),
        "info": json.dumps(info),
    }
    with atomic_path(out / "train_state.pt") as tmp:
        torch.save(state, tmp)
    with atomic_path(out / "model.safetensors") as tmp:
        save_file(weights, str(tmp))
    atomic_write_text(out / "config.json", json.dumps(info, indent=1))


def grid_layout(vocab: Vocabulary) -> dict[str, Any]:
    """The raster vocabulary facts ``pos="grid"`` reads (``GPTConfig.grid``)."""
    scheme = vocab.scheme
    if not isinstance(scheme, GridScheme):
        raise ValueError(
            f"pos='grid' needs a raster scheme (grid or grid_cells), not {scheme.name!r}"
        )
    return {"max_shape": list(vocab.max_shape), "path": scheme.path}


def check_compatible(saved: dict[str, Any], c: TrainConfig, vocab: Vocabulary) -> None:
    """Raise ``ValueError`` naming every config or vocabulary field that differs."""
    now = c.to_dict()
    diffs = [f"{k}: checkpoint {saved['train'].get(k)!r} != now {now[k]!r}"
             for k in c.resume_diff(saved["train"])]  # fmt: skip
    if saved["vocab"] != vocab_info(vocab):
        diffs.append(f"vocabulary: checkpoint {saved['vocab']} != now {vocab_info(vocab)}")
    if diffs:
        raise ValueError(
            "cannot resume: the checkpoint was trained with another config: " + "; ".join(diffs)
        )


def load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint to resume at {path}")
    try:
        state = torch.load(path, weights_only=True)
        state["info"] = json.loads(state["info"])
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same problem for the user
        raise ValueError(f"corrupt checkpoint {path}: {type(err).__name__}: {err}") from None
    return state


# ------------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------------


def build(
    c: TrainConfig, cache_dir: str | None = None
) -> tuple[Vocabulary, list[EncodedSet], list[EncodedSet], int]:
    """Vocabulary, training and evaluation sets, and the context length."""
    vocab = make_vocabulary(tuple(c.max_shape), c.scheme)
    train = load_sets(c.train_sets, cache_dir=cache_dir)
    evals = load_sets(c.eval_sets, exclude=[s.dataset for s in train], cache_dir=cache_dir)
    need = max(encode_sets(vocab, [s], None, None).shape[1] for s in train + evals)  # type: ignore[arg-type]
    n_ctx = c.n_ctx or need
    if need > n_ctx:
        raise ValueError(f"sequences need {need} tokens but n_ctx={c.n_ctx}; raise n_ctx or use 0")
    return vocab, train, evals, n_ctx


def main(
    c: TrainConfig, resume: bool = False, cache_dir: str | None = None, stop_at: int | None = None
) -> dict[str, Any]:
    """Train (or resume) per ``c``; returns the last log record.

    Args:
        c: the run's config.
        resume: continue from ``c.out_dir/train_state.pt`` (same config but ``TrainConfig.RESUME_FREE``).
        cache_dir: dataset cache folder.
        stop_at: stop after this step, checkpointing, as if killed there (for tests).
    """
    torch.set_num_threads(max(1, c.threads))
    out = Path(c.out_dir)
    vocab, train, evals, n_ctx = build(c, cache_dir)
    mc = GPTConfig(
        vocab_size=len(vocab),
        n_ctx=max(n_ctx, c.model_ctx),
        n_layer=c.n_layer,
        n_head=c.n_head,
        d_model=c.d_model,
        d_mlp=c.d_mlp,
        dropout=c.dropout,
        pos=c.pos,
        grid=grid_layout(vocab) if c.pos == "grid" else None,
        prefix_id=vocab.id_of(PATH_START) if c.prefix_lm else None,
    )
    torch.manual_seed(c.seed)
    model = GPT(mc)
    opt = make_optimizer(model, c)
    step, clocks = 0, {"cpu_s": 0.0, "wall_s": 0.0}
    if c.init_from and not resume:
        _init_from(model, Path(c.init_from), vocab)
    if resume:
        state = load_state(out / "train_state.pt")
        check_compatible(state["info"], c, vocab)
        model.load_state_dict(state["model"], strict=False)
        opt.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        step, clocks = state["info"]["step"], state["info"]["clocks"]
    shuffle = isinstance(vocab.scheme, Scheme) and not vocab.scheme.sorted
    data = torch.from_numpy(encode_sets(vocab, train, n_ctx, None).astype(np.int64))
    set_sizes = [len(s.dataset) for s in train] if c.batch_by_set else None
    epoch_len = sum(epoch_cuts(len(data), c.batch_size, set_sizes))
    path_start, pad = vocab.id_of(PATH_START), vocab.pad_id
    world, rank = _distributed()
    if c.batch_size % world:
        raise ValueError(f"batch_size={c.batch_size} must be a multiple of the {world} processes")
    fwd: Any = torch.compile(model) if c.compile else model
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        fwd = DistributedDataParallel(fwd)
    lead = rank == 0
    codec = Codec(vocab)
    writer = _writer(out, c) if lead else None
    log = out / "log.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    bar = _bar(c, step, clocks["cpu_s"]) if lead else None
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    record: dict[str, Any] = {}
    losses: list[float] = []
    enc_epoch = -1
    while step < c.max_steps:
        if shuffle and step // epoch_len != enc_epoch:  # fresh adjacency order every epoch
            enc_epoch = step // epoch_len
            data = torch.from_numpy(
                encode_sets(
                    vocab, train, n_ctx, np.random.default_rng([c.seed, 7, enc_epoch])
                ).astype(np.int64)
            )
        rows = torch.from_numpy(batch_indices(step, len(data), c.batch_size, c.seed, set_sizes))
        for group in opt.param_groups:
            group["lr"] = lr_at(
                step, c, _from_lead(clocks["cpu_s"], world) if c.anneal_by_time else 0.0
            )
        losses.append(_step(fwd, model, opt, data[rows], path_start, pad, c, world, rank))
        step += 1
        now_cpu, now_wall = time.process_time(), time.perf_counter()
        clocks["cpu_s"] += now_cpu - t_cpu
        clocks["wall_s"] += now_wall - t_wall
        t_cpu, t_wall = now_cpu, now_wall
        if bar is not None:
            if c.max_minutes > 0:
                bar.update(max(0, min(round(clocks["cpu_s"]), bar.total) - bar.n))
            else:
                bar.update(1)
            bar.set_postfix(step=step, loss=f"{losses[-1]:.3f}")
        if step % c.log_every == 0 and writer is not None:
            writer.add_scalar("train/loss", float(np.mean(losses[-c.log_every :])), step)
            writer.add_scalar("train/lr", opt.param_groups[0]["lr"], step)
        out_of_time = _agree(
            (c.max_minutes > 0 and clocks["cpu_s"] >= 60 * c.max_minutes) or step == stop_at, world
        )
        if step % c.eval_every == 0 or step == c.max_steps or out_of_time:
            if lead:
                record = _evaluate(model, codec, evals, c, step, clocks, losses)
                _append(log, record)
                write_curve(out)
                if writer is not None:
                    for key, value in record.items():
                        if key.startswith("eval/"):
                            writer.add_scalar(key, value, step)
                    writer.flush()
                if bar is not None:
                    bar.write(json.dumps(record))
                save_checkpoint(out, model, opt, c, vocab, step, clocks)
            losses = []
            if world > 1:
                torch.distributed.barrier()
            t_cpu, t_wall = (
                time.process_time(),
                time.perf_counter(),
            )  # evaluation is not training time
        if out_of_time:
            break
    if bar is not None:
        bar.close()
    if world > 1:
        torch.distributed.destroy_process_group()
    return record


def train(
    cfg: TrainConfig,
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
    cache_dir: str | None = None,
) -> dict[str, Any]:
    """The trainer protocol (:data:`train.trainers.TRAINERS`): train ``cfg`` into the checkpoint
    folder ``out`` and write its ``meta.json``; returns the meta (empty on non-lead ranks).

    The folder's weights are those of the run's last step (no best is kept), which ``meta.json``
    records as its selection.
    """
    c = cfg.replace(out_dir=str(out), progress=progress)
    record = main(c, resume=resume, cache_dir=cache_dir)
    if os.environ.get("RANK", "0") != "0":
        return {}  # torchrun: rank 0 writes the meta
    sets = list(c.train_sets)
    meta = make_meta(
        "transformer", name=c.name, training_set=sets[0] if len(sets) == 1 else sets,
        config=c.to_dict(), hashed=c.hashed_fields(), seed=c.seed, steps=record.get("step"),
        cpu_seconds=60 * record.get("cpu_minutes", 0.0),
        selected=selection("last", note="the weights of the run's last step"),
        metrics={k: v for k, v in record.items() if k.startswith("eval/")}, command=command,
        cpu_minutes=round(record.get("cpu_minutes", 0.0), 2),
    )  # fmt: skip
    write_meta(out, meta)
    return meta


def _distributed() -> tuple[int, int]:
    """``(world size, rank)``; joins the gloo process group when started by ``torchrun``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 1, 0
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return world, dist.get_rank()


def _from_lead(value: float, world: int) -> float:
    """Rank 0's ``value`` on every rank (one clock drives a time-based schedule)."""
    if world <= 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    torch.distributed.broadcast(t, src=0)
    return float(t.item())


def _agree(flag: bool, world: int) -> bool:
    """``flag`` of rank 0 on every rank (clocks differ between processes)."""
    if world <= 1:
        return flag
    t = torch.tensor([int(flag)])
    torch.distributed.broadcast(t, src=0)
    return bool(t.item())


def _step(
    fwd: Any,
    model: GPT,
    opt: torch.optim.Optimizer,
    ids: torch.Tensor,
    path_start: int,
    pad: int,
    c: TrainConfig,
    world: int,
    rank: int,
) -> float:
    """One optimizer step on the global batch ``ids`` (this rank's rows ``rank::world``).

    Each rank's loss is its summed token losses over the global batch's supervised-token count
    (times ``world``, which DDP's gradient averaging divides out), so any number of processes
    follows the single-process loss curve. Returns the global mean loss.
    """
    count = int((loss_targets(ids, path_start, pad) != -1).sum())
    mine = ids[rank::world]
    mine = mine[:, : int((mine != pad).sum(1).max())]
    targets = loss_targets(mine, path_start, pad)
    model.train()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=c.bf16):
        logits, _ = fwd(mine)
    part = (
        torch.nn.functional.cross_entropy(
            logits.float().view(-1, logits.shape[-1]),
            targets.reshape(-1),
            ignore_index=-1,
            reduction="sum",
        )
        / count
    )
    opt.zero_grad(set_to_none=True)
    (part * world).backward()
    if c.grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(model.parameters(), c.grad_clip)
    opt.step()
    total = part.detach()
    if world > 1:
        torch.distributed.all_reduce(total)
    return float(total)


def _init_from(model: GPT, folder: Path, vocab: Vocabulary) -> None:
    """Load ``folder/model.safetensors`` into ``model``; errors name what differs."""
    from safetensors.torch import load_file

    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"init_from={str(folder)!r}: no config.json and model.safetensors there"
        )
    info = json.loads((folder / "config.json").read_text())
    if info["model"] != model.config.to_dict():
        diffs = [
            f"{k}: {info['model'].get(k)!r} != {v!r}"
            for k, v in model.config.to_dict().items()
            if info["model"].get(k) != v
        ]
        raise ValueError(f"init_from={str(folder)!r} has another model shape: {'; '.join(diffs)}")
    if info["vocab"]["tokens_sha"] != vocab_info(vocab)["tokens_sha"]:
        raise ValueError(
            f"init_from={str(folder)!r} has another vocabulary: {info['vocab']} != {vocab_info(vocab)}"
        )
    model.load_state_dict(load_file(str(folder / "model.safetensors")), strict=False)


def _evaluate(
    model: GPT,
    codec: Codec,
    evals: list[EncodedSet],
    c: TrainConfig,
    step: int,
    clocks: dict[str, float],
    losses: list[float],
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "step": step,
        "train/loss": float(np.mean(losses)) if losses else None,
        "cpu_minutes": clocks["cpu_s"] / 60,
        "wall_minutes": clocks["wall_s"] / 60,
    }
    for i, s in enumerate(evals):
        tag = (
            ""
            if i == 0
            else f"_{s.dataset.config.generator}_{s.dataset.config.shape[0]}x{s.dataset.config.shape[1]}"
        )
        rec[f"eval/exact{tag}"] = exact_rate(model, codec, s.dataset, c.eval_n)
    if c.eval_beam_n > 0 and evals:
        greedy = exact_rate(model, codec, evals[0].dataset, c.eval_beam_n)
        beam = exact_rate(model, codec, evals[0].dataset, c.eval_beam_n, "beam", c.beam_k)
        rec["eval/beam_exact"] = beam
        rec["eval/lookahead_gain"] = beam - greedy
    return rec


def write_curve(folder: str | Path) -> Path:
    """``folder/curve.csv``: the learning curve (held-out exact and the other logged figures vs
    step and CPU-minutes) from ``folder/log.jsonl``, one row per evaluation, written atomically."""
    import csv
    import io

    folder = Path(folder)
    rows = [json.loads(x) for x in (folder / "log.jsonl").read_text().splitlines() if x.strip()]
    keys = sorted({k for r in rows for k in r})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(keys)
    for r in rows:
        w.writerow([f"{r[k]:.4f}" if isinstance(r.get(k), float) else r.get(k, "") for k in keys])
    path = folder / "curve.csv"
    atomic_write_text(path, buf.getvalue())
    return path


def _append(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
        f.flush()


def _writer(out: Path, c: TrainConfig) -> Any:
    if not c.tensorboard:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(out / "tb"))


def _bar(c: TrainConfig, step: int, cpu_s: float) -> Any:
    """A tqdm bar over steps, or over CPU-seconds when ``max_minutes`` ends the run first (so
    the time left is that of the budget, not of ``max_steps``)."""
    if not c.progress:
        return None
    from tqdm import tqdm

    if c.max_minutes > 0:
        return tqdm(total=round(60 * c.max_minutes), initial=round(cpu_s), desc=c.name,
                    unit="cpu-s", dynamic_ncols=True)  # fmt: skip
    return tqdm(total=c.max_steps, initial=step, desc=c.name, unit="step", dynamic_ncols=True)

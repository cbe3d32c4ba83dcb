"""Training the deep-thinking maze net (``mazebench train-dt``): progressive loss, mixed sizes.

The loss is Bansal et al. 2022's (``deepthinking/utils/training.py`` in aks2203/deep-thinking):
``(1 - alpha) * L(max_iters iterations) + alpha * L(progressive)``, where the progressive term runs
a random ``n`` in ``[0, max_iters)`` iterations without gradient, then ``k`` in ``[1, max_iters - n]``
with gradient from that state, so the net learns to improve *any* state it is handed rather than
to count iterations: that is what lets it run longer on larger mazes without "overthinking".
``warm_iters`` (ours, off by default) widens the draw of ``n`` to ``[0, max_iters + warm_iters)``
(the no-gradient iterations are cheap: no graph is kept), meant to grade states after hundreds of
iterations against overthinking. Measured on the graph mixer (docs/RESULTS.md): with
``warm_iters=240`` it had learned nothing after 1,000 steps (0% on 9x9) where the same run without
it was at 30%, and the run without it went on to extrapolate; not used by the presets.
``L`` is the per-pixel binary cross-entropy over the open pixels (walls can never be on a path).
A batch mixes maze sizes (each example from a training set chosen uniformly), padded with walls.

Every random draw comes from one numpy Generator seeded by ``seed`` (batches, ``n`` and ``k``),
saved in the checkpoint with the optimizer, so ``--resume`` continues exactly where a cut run
stopped (tested: resume == uninterrupted).

Run folder (``out_dir``, also the shipped checkpoint folder): ``config.yaml``, ``model.safetensors``
(latest weights; what the agent loads), ``checkpoint/`` (weights, optimizer, state.json: swapped in
atomically), ``log.jsonl`` (the curve), ``tb/`` (TensorBoard), ``meta.json``, and ``best/``
(``model.safetensors`` and ``best.json``: the weights of the best validation so far by
:func:`val_score`, on validation sizes within the training sizes only). The validation mazes are
their own seeds, not harness suites; a validation size beyond the training sizes is logged as a
curve and never selects weights. ``meta.json`` records the selection (the last step) and the
``n_iter="auto"`` rule derived from training (:func:`auto_rule`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
import yaml
from torch.nn import functional as F

from agents.checkpoint import make_meta, selection, write_meta
from agents.deepthinking.model import DTConfig, DTNet, encode_grids, path_pixels
from agents.deepthinking.weights import load_weights, save_weights
from maze_env.files import atomic_path
from maze_env.files import atomic_write_bytes as _atomic_write
from train.config_args import check_ints
from train.config_base import TrainerConfig

DT_SETS = ("dt_dfs_3", "dt_dfs_4", "dt_dfs_5", "dt_dfs_6", "dt_dfs_7", "dt_dfs_8", "dt_dfs_9")
"""The training sets of the shipped model (agents/training_sets.yaml): dfs 3x3 .. 9x9."""


@dataclass
class DTTrainConfig(TrainerConfig):
    """Arguments of ``mazebench train-dt`` (YAML keys are these field names; ``model`` a mapping).

    Attributes:
        model: the network's shape (:class:`~agents.deepthinking.model.DTConfig`).
        training_sets: names in ``agents/training_sets.yaml``.
        mixing: ``"uniform"``: each example's set is drawn uniformly; ``"nested"``: a batch first
            draws its largest set uniformly, then each example uniformly among the sets no larger
            (cheap small batches are frequent, every batch still mixes sizes).
        n_per_set: use only the first ``n_per_set`` tasks of each set (a prefix of it); 0 = all.
        steps: optimizer steps.
        batch_size: mazes per step.
        lr: peak Adam learning rate.
        weight_decay: AdamW weight decay.
        warmup_steps: linear warm-up steps, then cosine decay to ``lr * 0.05``.
        clip: gradient-norm clip (0 = none).
        alpha: weight of the progressive loss (1 - alpha on the full-iteration loss); Bansal et al.
            use 0.01 for mazes; 1.0 skips the full-iteration pass (half the compute).
        max_iters: iterations of the full-iteration loss and the bound of the progressive draw,
            for a batch whose largest maze is the largest training size.
        scale_iters: a batch whose largest side is ``S`` uses ``max(4, round(max_iters * S /
            S_max))`` iterations instead (small mazes need fewer; saves compute).
        warm_iters: the progressive term's no-gradient ``n`` is drawn from ``[0, max_iters +
            warm_iters)`` (scaled like ``max_iters``); beyond ``max_iters`` the graded ``k`` is
            drawn from ``[1, max_iters // 2]``. 0 is Bansal et al.'s draw.
        seed: seeds the weights (torch) and every draw of the loop (numpy).
        threads: ``torch.set_num_threads``.
        eval_every: steps between validation runs (0 = only at the end).
        eval_n: mazes per validation size.
        eval_sizes: square dfs sizes validated (exact mask match after ``eval_iters`` iterations).
        eval_iters: iterations per validation size (same length as ``eval_sizes``).
        log_every: steps between log lines.
        ckpt_every: steps between checkpoints (and at the end).
        max_minutes: stop (with a checkpoint) after this many wall-clock minutes of training in
            this process; 0 = no limit. A later ``--resume`` continues the schedule.
        out_dir: the run folder.
    """

    KIND: ClassVar[str] = "deepthinking"
    RESUME_FREE: ClassVar[frozenset[str]] = frozenset(
        ("steps", "max_minutes", "eval_every", "eval_n", "log_every", "ckpt_every", "out_dir")
    )
    """Fields a resumed run may change: none of them changes the weights' trajectory (validation
    draws nothing from the training RNG; a run folder may be moved or copied, e.g. into
    checkpoints/)."""

    model: DTConfig = field(default_factory=DTConfig)
    training_sets: list[str] = field(default_factory=lambda: list(DT_SETS))
    mixing: str = "nested"
    n_per_set: int = 0
    steps: int = 1500
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 50
    clip: float = 2.0
    alpha: float = 0.5
    max_iters: int = 30
    scale_iters: bool = True
    warm_iters: int = 0
    seed: int = 0
    threads: int = 2
    eval_every: int = 250
    eval_n: int = 100
    eval_sizes: list[int] = field(default_factory=lambda: [9, 16])
    eval_iters: list[int] = field(default_factory=lambda: [30, 100])
    log_every: int = 10
    ckpt_every: int = 100
    max_minutes: float = 0.0
    out_dir: str = "runs/dt"

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            self.model = DTConfig.from_dict(self.model)
        check_ints(self, ("steps", "batch_size", "max_iters", "threads", "log_every",
                          "ckpt_every", "eval_n"), 1)  # fmt: skip
        check_ints(self, ("warm_iters",), 0)
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"DTTrainConfig.alpha must be in [0, 1], got {self.alpha!r}")
        if len(self.eval_sizes) != len(self.eval_iters):
            raise ValueError("DTTrainConfig.eval_sizes and eval_iters must have the same length")
        if self.mixing not in ("uniform", "nested"):
            raise ValueError(
                f"DTTrainConfig.mixing must be 'uniform' or 'nested', got {self.mixing!r}"
            )
        if not self.training_sets:
            raise ValueError(
                "DTTrainConfig.training_sets is empty; name sets of agents/training_sets.yaml"
            )


PRESETS: dict[str, dict[str, Any]] = {
    # a smoke run for tests (seconds): tiny net, tiny sets
    "tiny": dict(
        model=dict(width=8, n_blocks=1, head_width=8),
        n_per_set=64,
        steps=4,
        batch_size=4,
        max_iters=4,
        eval_every=0,
        eval_n=4,
        eval_sizes=[5],
        eval_iters=[6],
        log_every=1,
        ckpt_every=2,
        warmup_steps=1,
    ),
    # the shipped model (checkpoints/deepthinking_w16): results in docs/RESULTS.md
    "w16": dict(
        model=dict(width=16, n_blocks=1, gate=True),
        steps=20000,
        batch_size=32,
        max_iters=30,
        alpha=0.5,
        lr=5e-3,
        eval_every=1000,
        ckpt_every=250,
        max_minutes=18.0,
        threads=1,  # measured: 2 threads ran 10x slower a step on the shared 2-core machine
    ),
    # message passing along open passages (DTConfig.mixer="graph"): results in docs/RESULTS.md
    "graph": dict(
        model=dict(width=32, mixer="graph", head_width=16),
        steps=5000,
        batch_size=32,
        max_iters=60,
        alpha=0.5,
        lr=1e-3,  # measured: 3e-3 with a 6,000-step schedule was unstable (grad-norm spikes)
        eval_every=500,
        eval_n=100,
        eval_sizes=[6, 9],  # held-out mazes of the training sizes only (issue 19: never select
        eval_iters=[40, 60],  # or stop on a size the report judges off distribution)
        ckpt_every=250,
        threads=1,  # a step is many small ops: one thread each, two runs side by side
    ),
}
"""Named overrides of :class:`DTTrainConfig` (``mazebench train-dt --preset NAME``)."""
DTTrainConfig.PRESETS = PRESETS


# -- data ---------------------------------------------------------------------------------------
@dataclass
class _Set:
    x: np.ndarray  # bool[N, 3, H, W]
    y: np.ndarray  # bool[N, H, W]
    shape: tuple[int, int]  # cells


def load_set(config: Any) -> _Set:
    """A :class:`~maze_env.dataset.DatasetConfig` as network inputs and path masks."""
    from maze_env.dataset import MazeDataset
    from maze_env.solve import batch_shortest_path_arrays

    ds = MazeDataset.from_config(config)
    conn = ds.mazes.connections
    x = encode_grids(conn, ds.origins, ds.targets).astype(bool)
    paths, lengths = batch_shortest_path_arrays(conn, ds.origins, ds.targets)
    y = path_pixels(paths, lengths, x.shape[2:])
    return _Set(x, y, tuple(conn.shape[2:]))


def load_training_sets(cfg: DTTrainConfig) -> list[_Set]:
    from agents.training_sets import TRAINING_SETS

    out = []
    for name in cfg.training_sets:
        if name not in TRAINING_SETS:
            raise ValueError(f"unknown training set {name!r}; declared: {', '.join(TRAINING_SETS)}")
        c = TRAINING_SETS[name]
        out.append(load_set(c.replace(n=min(c.n, cfg.n_per_set)) if cfg.n_per_set else c))
    return out


def make_batch(
    sets: list[_Set], rng: np.random.Generator, batch_size: int, mixing: str = "uniform"
) -> tuple[torch.Tensor, ...]:
    """Draw a batch: ``(x (B,3,H,W) float, y (B,H,W) float, mask (B,H,W) float of open pixels)``.

    Each example picks a set (see ``DTTrainConfig.mixing``), then a task uniformly; all are padded
    with walls to the largest shape drawn.
    """
    if mixing == "nested":
        order = sorted(range(len(sets)), key=lambda i: sets[i].x.shape[2] * sets[i].x.shape[3])
        top = int(rng.integers(0, len(sets)))
        which = np.array(order)[rng.integers(0, top + 1, size=batch_size)]
        which[0] = order[top]  # the batch reaches its drawn size
    else:
        which = rng.integers(0, len(sets), size=batch_size)
    idx = [int(rng.integers(0, len(sets[w].x))) for w in which]
    h = max(sets[w].x.shape[2] for w in which)
    wd = max(sets[w].x.shape[3] for w in which)
    x = np.zeros((batch_size, 3, h, wd), dtype=np.float32)
    x[:, 0] = 1.0
    y = np.zeros((batch_size, h, wd), dtype=np.float32)
    for b, (w, i) in enumerate(zip(which, idx, strict=True)):
        s = sets[w]
        hh, ww = s.x.shape[2:]
        x[b, :, :hh, :ww] = s.x[i]
        y[b, :hh, :ww] = s.y[i]
    mask = 1.0 - x[:, 0]
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(mask)


def masked_bce(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy over the open pixels."""
    loss = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    return (loss * mask).sum() / mask.sum()


def exact_rate(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    """Fraction of mazes whose predicted mask (logit > 0) equals the path on every open pixel."""
    wrong = ((logits > 0).float() != y).float() * mask
    return float((wrong.flatten(1).sum(1) == 0).float().mean())


def progressive_loss(
    net: DTNet,
    x: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
    cfg: DTTrainConfig,
    rng: np.random.Generator,
    max_side: int = 0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Bansal et al.'s loss (see the module docstring); returns the loss and logged parts.

    ``max_side``: the largest training side (cells), for ``cfg.scale_iters``; 0 turns scaling off.
    """
    max_iters, warm = cfg.max_iters, cfg.warm_iters
    if cfg.scale_iters and max_side:
        max_iters = max(4, round(cfg.max_iters * (x.shape[2] // 2) / max_side))
        warm = round(cfg.warm_iters * (x.shape[2] // 2) / max_side)
    n = int(rng.integers(0, max_iters + warm))
    k = int(rng.integers(1, (max_iters - n if n < max_iters else max_iters // 2) + 1))
    parts: dict[str, float] = {"n": n, "k": k, "max_iters": max_iters}
    loss = torch.zeros(())
    if cfg.alpha < 1:
        logits, _ = net(x, max_iters)
        full = masked_bce(logits, y, mask)
        loss = loss + (1 - cfg.alpha) * full
        parts["loss_full"] = full.item()
        parts["exact_full"] = exact_rate(logits.detach(), y, mask)
    if cfg.alpha > 0:
        state = None
        if n > 0:
            with torch.no_grad():
                _, state = net(x, n)
        logits, _ = net(x, k, state=state)
        prog = masked_bce(logits, y, mask)
        loss = loss + cfg.alpha * prog
        parts["loss_progressive"] = prog.item()
    parts["loss"] = loss.item()
    return loss, parts


def lr_at(step: int, cfg: DTTrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


# -- checkpoints --------------------------------------------------------------------------------
def save_checkpoint(
    out: Path, net: DTNet, opt: torch.optim.Optimizer, state: dict[str, Any]
) -> None:
    """Write ``out/checkpoint/`` (weights, optimizer, state.json) as one atomic swap, then
    ``out/model.safetensors``. A run cut at any point leaves ``checkpoint/`` or ``checkpoint.old/``."""
    from safetensors.torch import save_file

    tmp = Path(tempfile.mkdtemp(dir=out, prefix=".checkpoint."))
    os.chmod(tmp, 0o755)
    save_weights(net, tmp / "model.safetensors")
    opt_sd = opt.state_dict()
    tensors = {f"{i}.{k}": v for i, s in opt_sd["state"].items() for k, v in s.items()}
    save_file(tensors, str(tmp / "optimizer.safetensors"))
    state = {**state, "param_groups": opt_sd["param_groups"]}
    (tmp / "state.json").write_text(json.dumps(state), encoding="utf-8")
    final, old = out / "checkpoint", out / "checkpoint.old"
    if final.exists():
        if old.exists():
            shutil.rmtree(old)
        os.replace(final, old)
    os.replace(tmp, final)
    if old.exists():
        shutil.rmtree(old)
    save_weights(net, out / "model.safetensors")


def load_checkpoint(out: Path, net: DTNet, opt: torch.optim.Optimizer) -> dict[str, Any]:
    from safetensors.torch import load_file

    ckpt = out / "checkpoint" if (out / "checkpoint").exists() else out / "checkpoint.old"
    if not (ckpt / "state.json").is_file():
        raise FileNotFoundError(f"nothing to resume in {out} (no checkpoint/state.json)")
    state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
    loaded = load_weights(ckpt / "model.safetensors")
    if loaded.config != net.config:
        raise ValueError(f"checkpoint model {loaded.config} differs from the config's {net.config}")
    net.load_state_dict(loaded.state_dict())
    flat = load_file(str(ckpt / "optimizer.safetensors"))
    opt_state: dict[int, dict[str, torch.Tensor]] = {}
    for key, v in flat.items():
        i, name = key.split(".", 1)
        opt_state.setdefault(int(i), {})[name] = v
    opt.load_state_dict({"state": opt_state, "param_groups": state.pop("param_groups")})
    return state


# -- validation and the loop --------------------------------------------------------------------
def val_score(metrics: dict[str, float], max_side: int) -> tuple[float, float] | None:
    """How :func:`main` ranks validations for ``best/``: exact on the largest validation size of
    the training distribution first, then the mean over those sizes; ``None`` when no validation
    size is within the training sizes (then ``best/`` is not kept).

    Only sizes with a side ``<= max_side`` (the largest training side) count: a larger size is a
    suite the report judges off distribution, logged as a curve but never used to select weights.
    """
    inside = {k: v for k, v in metrics.items() if _val_side(k) <= max_side}
    if not inside:
        return None
    largest = max(inside, key=_val_side)
    return inside[largest], sum(inside.values()) / len(inside)


def auto_rule(cfg: DTTrainConfig, max_side: int) -> dict[str, Any]:
    """The checkpoint's ``n_iter="auto"`` rule, from training alone (no size beyond the training
    sizes is consulted): ``max_iters`` iterations at the largest training maze, scaled by cells."""
    return {
        "min": cfg.max_iters,
        "per_cell": round(cfg.max_iters / (max_side * max_side), 4),
        "from": f"training: max_iters={cfg.max_iters} at {max_side}x{max_side}, scaled by cells",
    }


def _val_side(key: str) -> int:
    """The side of a validation metric's size: ``val/exact_9x9_it60`` -> 9."""
    return int(key.split("_")[1].split("x")[0])


VAL_SEED = 987_654
"""Seed of the validation mazes (dfs, one set per size; not a harness suite)."""


def load_val_sets(cfg: DTTrainConfig) -> list[_Set]:
    from maze_env.dataset import DatasetConfig

    return [
        load_set(DatasetConfig(generator="dfs", shape=(s, s), n=cfg.eval_n, seed=VAL_SEED + s))
        for s in cfg.eval_sizes
    ]


@torch.no_grad()
def validate(net: DTNet, val: list[_Set], cfg: DTTrainConfig) -> dict[str, float]:
    """Exact mask match per validation size after ``eval_iters`` iterations (``val/exact_SxS``)."""
    net.eval()
    out = {}
    for s, n_iter in zip(val, cfg.eval_iters, strict=True):
        x = torch.from_numpy(s.x.astype(np.float32))
        y = torch.from_numpy(s.y.astype(np.float32))
        hits = 0.0
        for i in range(0, len(x), 64):
            logits, _ = net(x[i : i + 64], n_iter)
            hits += exact_rate(logits, y[i : i + 64], 1.0 - x[i : i + 64, 0]) * len(logits)
        out[f"val/exact_{s.shape[0]}x{s.shape[1]}_it{n_iter}"] = hits / len(x)
    net.train()
    return out


def _trim_log(path: Path, step: int) -> None:
    """Keep only log lines up to ``step`` (a resumed run rewrites what came after)."""
    if not path.exists():
        return
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    keep = [ln for ln in lines if json.loads(ln).get("step", 0) <= step]
    _atomic_write(path, ("\n".join(keep) + "\n" if keep else "").encode())


def main(
    cfg: DTTrainConfig, *, resume: bool = False, progress: bool = True, command: str = ""
) -> dict[str, Any]:
    """Train (or resume) into ``cfg.out_dir``; returns the final state (step, metrics, minutes).

    Raises:
        FileNotFoundError: ``resume`` without a checkpoint in ``out_dir``.
        ValueError: ``resume`` with a config that differs from the saved one.
    """
    from torch.utils.tensorboard import SummaryWriter
    from tqdm.auto import tqdm

    from agents.training_sets import TRAINING_SETS

    torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config_text = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    if not resume and (out / "checkpoint").exists():
        raise ValueError(
            f"{out} already holds a checkpoint; pass --resume or choose another out_dir"
        )
    if resume:
        if (out / "config.yaml").exists():
            saved = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8")) or {}
            cfg.check_resume(saved, str(out / "config.yaml"))
    _atomic_write(out / "config.yaml", config_text.encode())

    torch.manual_seed(cfg.seed)
    net = DTNet(cfg.model)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    state: dict[str, Any] = {"step": 0, "cpu_seconds": 0.0, "wall_seconds": 0.0}
    if resume:
        state = load_checkpoint(out, net, opt)
        rng.bit_generator.state = state.pop("rng")
    _trim_log(out / "log.jsonl", state["step"])

    sets = load_training_sets(cfg)
    max_side = max(max(s.shape) for s in sets)
    val = load_val_sets(cfg)
    writer = SummaryWriter(str(out / "tb"))
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    cpu0, wall0 = state["cpu_seconds"], state["wall_seconds"]

    best = state.get("best")  # [score..., step] of the best validation so far

    def snapshot() -> dict[str, Any]:
        return {
            "step": step,
            "best": best,
            "rng": rng.bit_generator.state,
            "cpu_seconds": cpu0 + time.process_time() - t_cpu,
            "wall_seconds": wall0 + time.perf_counter() - t_wall,
        }

    net.train()
    step = state["step"]
    metrics: dict[str, float] = {}
    bar = tqdm(total=cfg.steps, initial=step, disable=not progress, desc="train-dt", unit="step")
    with open(out / "log.jsonl", "a", encoding="utf-8") as log:
        while step < cfg.steps:
            for g in opt.param_groups:
                g["lr"] = lr_at(step, cfg)
            x, y, mask = make_batch(sets, rng, cfg.batch_size, cfg.mixing)
            loss, parts = progressive_loss(net, x, y, mask, cfg, rng, max_side)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.clip > 0:
                parts["grad_norm"] = float(
                    torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.clip)
                )
            opt.step()
            step += 1
            bar.update(1)
            out_of_time = (
                cfg.max_minutes > 0 and time.perf_counter() - t_wall > 60 * cfg.max_minutes
            )
            is_last = step == cfg.steps or out_of_time
            row: dict[str, Any] = {}
            if step % cfg.log_every == 0 or is_last:
                row = {f"train/{k}": v for k, v in parts.items()}
                row["train/lr"] = opt.param_groups[0]["lr"]
                bar.set_postfix(loss=f"{parts['loss']:.4f}")
            if (cfg.eval_every and step % cfg.eval_every == 0) or is_last:
                metrics = validate(net, val, cfg)
                row.update(metrics)
                bar.write(f"step {step}: " + ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()))
                score = val_score(metrics, max_side)
                if score is not None and (best is None or list(score) > best[:2]):
                    best = [*score, step]
                    (out / "best").mkdir(exist_ok=True)
                    save_weights(net, out / "best" / "model.safetensors")
                    _atomic_write(
                        out / "best" / "best.json",
                        (json.dumps({"step": step, **metrics}, indent=1) + "\n").encode(),
                    )
            if row:
                snap = snapshot()
                row = {"step": step, "cpu_minutes": snap["cpu_seconds"] / 60, **row}
                log.write(json.dumps(row) + "\n")
                log.flush()
                for k, v in row.items():
                    if "/" in k:
                        writer.add_scalar(k, v, step)
            if step % cfg.ckpt_every == 0 or is_last:
                save_checkpoint(out, net, opt, snapshot())
            if out_of_time:
                bar.write(
                    f"stopping at step {step}: max_minutes={cfg.max_minutes} reached (--resume continues)"
                )
                break
    bar.close()
    writer.close()
    final = snapshot()
    # the harness reads one name (the size curve marks its side): the largest set
    largest = max(
        cfg.training_sets, key=lambda n: TRAINING_SETS[n].shape[0] * TRAINING_SETS[n].shape[1]
    )
    meta = make_meta(
        "deepthinking", name=out.name, training_set=largest, config=cfg.to_dict(),
        hashed=cfg.hashed_fields(), seed=cfg.seed, steps=step, cpu_seconds=final["cpu_seconds"],
        selected=selection(
            "last", note="model.safetensors: the last step (no validation selects or stops it); "
            "best/ holds the best validation within the training sizes (best.json), which the "
            "agent loads only when asked"),
        n_iter_auto=auto_rule(cfg, max_side),
        metrics=metrics, command=command, training_sets=list(cfg.training_sets),
        cpu_minutes=round(final["cpu_seconds"] / 60, 2),
        wall_minutes=round(final["wall_seconds"] / 60, 2), threads=cfg.threads,
        final_val=metrics, best_step=best[2] if best else None,
    )  # fmt: skip
    write_meta(out, meta)
    plot_curve(out)
    return {**final, "metrics": metrics}


def plot_curve(out: str | Path) -> Path | None:
    """``out/curve.png``: the training loss and the held-out validation exact rates against
    steps, from ``out/log.jsonl`` (None when the log holds no validation)."""
    out = Path(out)
    path = out / "log.jsonl"
    if not path.is_file():
        return None
    rows = [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    val = sorted({k for r in rows for k in r if k.startswith("val/")}, key=_val_side)
    if not val:
        return None
    from agents.harness.figures import pyplot

    plt = pyplot()
    fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(8, 3.2), dpi=100)
    loss = [(r["step"], r["train/loss"]) for r in rows if "train/loss" in r]
    if loss:
        ax_loss.plot(*zip(*loss, strict=True), lw=0.6)
    ax_loss.set(xlabel="step", ylabel="training loss", yscale="log", title=out.name)
    for key in val:
        pts = [(r["step"], r[key]) for r in rows if key in r]
        ax_val.plot(*zip(*pts, strict=True), "-o", ms=3, label=key.removeprefix("val/exact_"))
    ax_val.set(xlabel="step", ylabel="held-out exact", ylim=(0, 1.02))
    ax_val.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic_path(out / "curve.png") as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return out / "curve.png"


def train(
    cfg: DTTrainConfig,
    out: str | os.PathLike[str],
    *,
    resume: bool = False,
    progress: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """The trainer protocol (:data:`train.trainers.TRAINERS`): train ``cfg`` into the checkpoint
    folder ``out`` (its ``out_dir``); returns the ``meta.json`` that :func:`main` wrote."""
    from agents.checkpoint import read_meta

    main(cfg.replace(out_dir=str(out)), resume=resume, progress=progress, command=command)
    return read_meta(out)

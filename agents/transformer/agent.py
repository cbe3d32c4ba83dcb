"""``transformer`` agents and MCTS hooks from a checkpoint folder.

``transformer:ckpt=checkpoints/transformer_grid6,decode=greedy|constrained|beam|sample,k=4``:
the model writes a path for each task (batched, KV cache); the path is parsed, never trusted, so
garbage becomes a failed trajectory with its problems in ``extra["problems"]``.
``mcts:prior=checkpoints/transformer_grid6`` uses :func:`load_hooks`' ``prior_fn``: the model's
next-move distribution after the path so far.

A checkpoint folder holds ``model.safetensors`` and ``config.json`` (written by
:mod:`train.transformer`), and ``meta.json`` with ``"kind": "transformer"``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import BaseAgent, Trajectory
from maze_env import Task
from maze_env.types import Coord


def load_model(ckpt: str | Path) -> tuple[Any, Any, dict[str, Any]]:
    """``(model, vocabulary, info)`` from a checkpoint folder (weights loaded without pickle)."""
    import torch  # noqa: F401
    from safetensors.torch import load_file

    from agents.malloc import keep_freed_memory
    from agents.transformer.model import GPT, GPTConfig
    from maze_env.tokens import make_vocabulary

    keep_freed_memory()  # decoding batches reuse their freed activations (agents.malloc)
    folder = Path(ckpt)
    if not folder.is_dir():
        raise FileNotFoundError(f"transformer checkpoint {str(ckpt)!r}: no such folder")
    for name in ("config.json", "model.safetensors"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"transformer checkpoint {str(ckpt)!r} has no {name} (written by mazebench train-transformer)"
            )
    try:
        info = json.loads((folder / "config.json").read_text())
        model = GPT(GPTConfig(**info["model"]))
        vocab = make_vocabulary(tuple(info["vocab"]["max_shape"]), info["vocab"]["scheme"])
        weights = load_file(str(folder / "model.safetensors"))
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is one problem for the user
        raise ValueError(
            f"corrupt transformer checkpoint {str(ckpt)!r}: {type(err).__name__}: {err}"
        ) from None
    if len(vocab) != model.config.vocab_size:
        raise ValueError(
            f"checkpoint {str(ckpt)!r}: vocabulary of {len(vocab)} tokens but the model has {model.config.vocab_size}"
        )
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if [m for m in missing if m != "lm_head.weight"] or unexpected:
        raise ValueError(
            f"checkpoint {str(ckpt)!r}: weights do not match the config (missing {missing}, unexpected {unexpected})"
        )
    model.eval()
    return model, vocab, info


class TransformerAgent(BaseAgent):
    """Solve tasks with a trained path transformer.

    Args:
        ckpt: checkpoint folder.
        decode: ``greedy``, ``constrained``, ``beam`` or ``sample`` (see
            :mod:`agents.transformer.decoding`).
        k: beam width.
        temperature: sampling temperature.
        seed: sampling seed.
        batch_size: sequences per forward pass.
        threads: torch threads in this process (0: leave torch's setting).
    """

    start_method = "spawn"

    def __init__(
        self,
        *,
        ckpt: str,
        decode: str = "greedy",
        k: int = 4,
        temperature: float = 1.0,
        seed: int = 0,
        batch_size: int = 256,
        threads: int = 0,
    ) -> None:
        from agents.transformer.decoding import MODES, Codec

        if decode not in MODES:
            raise ValueError(f"decode must be one of {MODES}, got {decode!r}")
        if threads:
            import torch

            torch.set_num_threads(int(threads))
        self.model, self.vocab, self.info = load_model(ckpt)
        self.codec = Codec(self.vocab)
        self.mode, self.k, self.temperature, self.seed, self.batch_size = (
            decode,
            int(k),
            float(temperature),
            int(seed),
            int(batch_size),
        )
        extra = (
            f",k={k}"
            if decode == "beam"
            else (f",temperature={temperature}" if decode == "sample" else "")
        )
        self.name = f"transformer:ckpt={Path(ckpt).name},decode={decode}{extra}"

    def solve(self, task: Task) -> Trajectory:
        return self.solve_batch([task])[0]

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        from agents.transformer.decoding import decode

        t0 = time.perf_counter()
        todo = [i for i, t in enumerate(tasks) if t.origin != t.target]
        results = decode(
            self.model,
            self.codec,
            [tasks[i] for i in todo],
            self.mode,
            k=self.k,
            temperature=self.temperature,
            seed=self.seed,
            batch_size=self.batch_size,
        )
        seconds = (time.perf_counter() - t0) / max(1, len(tasks))
        out = [Trajectory(cells=(t.origin,), seconds=seconds) for t in tasks]
        for i, res in zip(todo, results, strict=True):
            extra = {"problems": res.problems[:5], "tokens": res.n_tokens, "log_prob": res.log_prob}
            if res.unreadable:
                extra["cannot_read"] = res.problems[0]  # the harness shows "cannot read", not 0%
            out[i] = Trajectory.from_cells(
                res.cells,
                forward_passes=res.n_tokens + 1,
                seconds=seconds,
                gave_up=bool(res.problems) and len(res.cells) <= 1,
                extra=extra,
            )
        return out


def load_hooks(ckpt: str, batch_size: int = 256, **_: Any) -> tuple[Any, None]:
    """``(prior_fn, None)`` for the batched MCTS: ``prior_fn(tasks, cells, paths) -> float32[B, 4]``.

    One :class:`agents.transformer.move_prior.MovePrior` serves every call: prompt caches and the
    priors already computed are kept between the simulations and real steps of a search."""
    from agents.transformer.decoding import Codec
    from agents.transformer.move_prior import MovePrior

    model, vocab, _info = load_model(ckpt)
    prior = MovePrior(model, Codec(vocab), batch_size=batch_size)

    def prior_fn(
        tasks: Sequence[Task], cells: np.ndarray, paths: Sequence[Sequence[Coord]]
    ) -> np.ndarray:
        return prior(tasks, paths)

    prior_fn.reads = prior.reads  # type: ignore[attr-defined]  # unreadable tasks skip the model
    return prior_fn, None

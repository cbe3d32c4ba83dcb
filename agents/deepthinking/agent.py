"""``deepthinking``: the recurrent net's path mask, walked from the origin into a trajectory.

The net (:mod:`agents.deepthinking.model`) scores every pixel "on the shortest path"; the agent runs
it ``n_iter`` iterations (more on larger mazes: ``n_iter="auto"``) and turns the cell scores into a
path with :func:`walk_mask`: from the origin, step through an open passage to the highest-scoring
unvisited neighbour whose logit is above ``threshold``; stop at the target, at a dead end of the
mask (no such neighbour) or a loop (the only mask-positive neighbours are visited). The harness
judges the trajectory like every other agent's.

Spec: ``deepthinking:ckpt=checkpoints/deepthinking_w32,n_iter=auto``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.base import BaseAgent, Trajectory
from maze_env import Task
from maze_env.types import ACTION_DELTAS, Coord

AUTO_ITERS = {"min": 30, "per_cell": 0.5}
"""Default ``n_iter="auto"`` rule, ``max(min, ceil(per_cell * rows * cols))``; a checkpoint's
``meta.json`` may carry its own measured rule under ``"n_iter_auto"``."""


def auto_iters(shape: tuple[int, int], rule: dict[str, float] = AUTO_ITERS) -> int:
    """Iterations for a maze of ``shape`` cells under ``rule`` (see :data:`AUTO_ITERS`)."""
    return max(int(rule["min"]), math.ceil(rule["per_cell"] * shape[0] * shape[1]))


def walk_mask(
    open_moves: np.ndarray, scores: np.ndarray, origin: Coord, target: Coord, threshold: float = 0.0
) -> tuple[list[Coord], str]:
    """Follow a score map from ``origin`` through open passages (see the module docstring).

    Args:
        open_moves: ``bool[R, C, 4]`` (``Maze.open_moves()``: up, right, down, left).
        scores: ``float[R, C]`` cell logits.
        origin, target: cells.
        threshold: a neighbour is on the mask if its score is above this.

    Returns:
        ``(cells, stop)``: the cells walked (origin first) and why the walk ended: ``"target"``,
        ``"dead_end"`` (no open neighbour on the mask but the cell it came from) or ``"loop"``
        (mask-positive neighbours, all visited, one of them not the cell it came from).
    """
    rows, cols = scores.shape
    cells = [(int(origin[0]), int(origin[1]))]
    visited = {cells[0]}
    target = (int(target[0]), int(target[1]))
    while cells[-1] != target:
        r, c = cells[-1]
        best, best_score, seen_visited = None, -math.inf, False
        for a in range(4):
            if not open_moves[r, c, a]:
                continue
            nr, nc = r + int(ACTION_DELTAS[a][0]), c + int(ACTION_DELTAS[a][1])
            s = float(scores[nr, nc])
            if s <= threshold:
                continue
            if (nr, nc) in visited:
                seen_visited |= len(cells) < 2 or (nr, nc) != cells[-2]
                continue
            if s > best_score:
                best, best_score = (nr, nc), s
        if best is None:
            return cells, "loop" if seen_visited else "dead_end"
        cells.append(best)
        visited.add(best)
    return cells, "target"


class DeepThinkingAgent(BaseAgent):
    """The deep-thinking net plus the mask walker.

    Args:
        ckpt: a checkpoint folder from ``mazebench train-dt`` (``model.safetensors``, ``meta.json``).
        n_iter: iterations of the recurrent block, an int >= 1, or ``"auto"`` (scales with the
            maze: :func:`auto_iters` with the checkpoint's rule).
        seed: unused (the agent is deterministic); accepted as every factory does.
        batch_size: mazes per forward pass (tasks are grouped by shape first).
        threshold: logit above which a cell counts as on the path.
        threads: ``torch.set_num_threads`` when > 0 (the runner sets it per worker otherwise).
    """

    name = "deepthinking"
    start_method = "spawn"

    def __init__(
        self,
        *,
        ckpt: str,
        n_iter: int | str = "auto",
        seed: int = 0,
        batch_size: int = 32,
        threshold: float = 0.0,
        threads: int = 0,
    ) -> None:
        import torch

        from agents.deepthinking.weights import load_weights

        if ckpt is None:
            raise ValueError(
                "deepthinking needs ckpt=FOLDER (a checkpoint from mazebench train-dt)"
            )
        folder = Path(ckpt)
        if not folder.is_dir():
            raise FileNotFoundError(f"deepthinking checkpoint folder {folder} does not exist")
        if n_iter != "auto" and (
            isinstance(n_iter, bool) or not isinstance(n_iter, int) or n_iter < 1
        ):
            raise ValueError(f"n_iter must be an int >= 1 or 'auto', got {n_iter!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.rule = dict(AUTO_ITERS)
        self.training_set: str | None = None
        meta_path = folder / "meta.json"
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except ValueError as err:
                raise ValueError(f"corrupt {meta_path}: {err}") from None
            if meta.get("kind", "deepthinking") != "deepthinking":
                raise ValueError(
                    f"{folder} holds a {meta.get('kind')!r} checkpoint, not deepthinking"
                )
            self.rule.update(meta.get("n_iter_auto", {}))
            self.training_set = meta.get("training_set")
        if threads > 0:
            torch.set_num_threads(threads)
        self.net = load_weights(folder / "model.safetensors")
        self.name = f"deepthinking:{folder.name}" + ("" if n_iter == "auto" else f",n_iter={n_iter}")
        self.n_iter, self.seed, self.batch_size, self.threshold = (
            n_iter,
            seed,
            batch_size,
            threshold,
        )

    def iters_for(self, shape: tuple[int, int]) -> int:
        """Iterations run on mazes of ``shape``."""
        return auto_iters(shape, self.rule) if self.n_iter == "auto" else int(self.n_iter)

    def cell_scores(self, tasks: Sequence[Task], n_iter: int) -> np.ndarray:
        """``float32[N, R, C]`` cell logits for same-shaped ``tasks`` after ``n_iter`` iterations."""
        import torch

        from agents.deepthinking.model import encode_grids

        conn = np.stack([t.maze.connections for t in tasks])
        x = encode_grids(
            conn, np.array([t.origin for t in tasks]), np.array([t.target for t in tasks])
        )
        with torch.inference_mode():
            logits, _ = self.net(torch.from_numpy(x), n_iter)
        return logits[:, 1::2, 1::2].numpy()

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        out: list[Trajectory | None] = [None] * len(tasks)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, t in enumerate(tasks):
            groups.setdefault(t.maze.shape, []).append(i)
        for shape, idx in groups.items():
            n_iter = self.iters_for(shape)
            for lo in range(0, len(idx), self.batch_size):
                chunk = idx[lo : lo + self.batch_size]
                t0 = time.perf_counter()
                scores = self.cell_scores([tasks[i] for i in chunk], n_iter)
                walks = [
                    walk_mask(
                        tasks[i].maze.open_moves(),
                        s,
                        tasks[i].origin,
                        tasks[i].target,
                        self.threshold,
                    )
                    for i, s in zip(chunk, scores, strict=True)
                ]
                seconds = (time.perf_counter() - t0) / len(chunk)
                for i, (cells, stop) in zip(chunk, walks, strict=True):
                    out[i] = Trajectory.from_cells(
                        cells,
                        forward_passes=1,
                        seconds=seconds,
                        gave_up=stop != "target",
                        extra={"n_iter": n_iter, "stop": stop},
                    )
        return [t for t in out if t is not None]

    def solve(self, task: Task) -> Trajectory:
        return self.solve_batch([task])[0]

    def __repr__(self) -> str:
        return f"DeepThinkingAgent(n_iter={self.n_iter!r}, batch_size={self.batch_size})"


def describe(ckpt: str | Path) -> dict[str, Any]:
    """The checkpoint's ``meta.json`` (empty if absent)."""
    path = Path(ckpt) / "meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

"""Batched generation with the KV cache: greedy, sampling, constrained, beam (the move prior a
search asks for is :mod:`agents.transformer.move_prior`).

Tasks are grouped by prompt length (same shape and passage count), so a group needs no padding
and shares one cache; rows that finish keep emitting padding until the group is done. The output
of every mode is parsed by :func:`maze_env.tokens.parse`, which never raises: garbage becomes a
trajectory with its problems listed (``extra["problems"]``), judged invalid by the harness.

Modes (``decode=``):

* ``greedy``: the most likely token at each position (the model alone, no rules).
* ``sample``: tokens drawn from ``softmax(logits / temperature)`` (seeded).
* ``constrained``: the most likely token among those that continue a legal step (a move through
  a passage to a cell not yet visited; at the target only ``<PATH_END>``): rule-following
  without search (a dead end stops the path short of the target).
* ``beam``: beam search of width ``k`` over tokens, scored by summed log-probability (the model
  plus search; seed 004's "lookahead"). Finished beams compete with unfinished ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from agents.transformer.model import GPT
from maze_env import Task
from maze_env.tokens import Vocabulary, parse
from maze_env.tokens.schemes import PATH_END, GridScheme
from maze_env.types import ACTION_DELTAS, Coord

MODES = ("greedy", "sample", "constrained", "beam")
ROW_TOKENS = 65536
"""Most cached tokens (rows x sequence length) one decoding batch holds: a 32x32 maze's prompt
is ~1,000 tokens, and 256 such rows would cache ~1.7 GB of keys and values at 8 layers."""
_ACTION_OF = {(int(d[0]), int(d[1])): a for a, d in enumerate(ACTION_DELTAS)}


@dataclass
class Decoded:
    """One decoded task: ``cells`` (origin first; as read), parse ``problems``, token count;
    ``unreadable`` when the model cannot take the task in at all (its vocabulary cannot write the
    maze, or the prompt does not fit the context): nothing was generated."""

    cells: list[Coord]
    problems: list[str]
    n_tokens: int
    log_prob: float
    unreadable: bool = False


class Codec:
    """What decoding needs to know about a vocabulary: prompts, path-step tokens, the end token."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.grid = isinstance(vocab.scheme, GridScheme)
        self.end_id = vocab.id_of(PATH_END)
        self.pad_id = vocab.pad_id

    def prompts(self, tasks: Sequence[Task]) -> list[np.ndarray | str]:
        """``int32[T_i]`` prompt ids per task (ending with ``<PATH_START>``), or the reason the
        vocabulary cannot write the task (e.g. a maze larger than its ``max_shape``)."""
        out: list[np.ndarray | str] = [""] * len(tasks)
        by_shape: dict[tuple[int, int], list[int]] = {}
        for i, t in enumerate(tasks):
            by_shape.setdefault(t.maze.shape, []).append(i)
        for idx in by_shape.values():
            try:
                ids = self.vocab.encode_tasks([tasks[i] for i in idx])
            except ValueError as err:
                for i in idx:
                    out[i] = str(err)
                continue
            for i, row in zip(idx, ids, strict=True):
                out[i] = row[row != self.pad_id]
        return out

    def longest_answer(self, shape: tuple[int, int]) -> int:
        """Tokens of the longest answer that can be a shortest path in a maze of ``shape``: a
        path through every cell, and ``<PATH_END>``; decoding stops there (a longer output
        revisits a cell, so it is wrong anyway, and a model with a long context would otherwise
        wander up to it)."""
        scheme = self.vocab.scheme
        width = scheme.step_width if self.grid else scheme.coord_width  # type: ignore[union-attr]
        return int(shape[0]) * int(shape[1]) * width + 2

    def cell_ids(self, cell: Coord) -> list[int]:
        """Tokens naming ``cell`` in the path (empty for move paths); ``[]`` if not representable."""
        v = self.vocab
        if self.grid:
            if v.scheme.path == "moves":  # type: ignore[union-attr]
                return []
            return [v.row_base + cell[0], v.col_base + cell[1]]  # type: ignore[attr-defined]
        return [int(t) for t in v._coord_ids(np.asarray(cell))]

    def first_ids(self, origin: Coord) -> list[int]:
        """Tokens that open the path (the origin, for schemes that write cells)."""
        return self.cell_ids(origin)

    def step_ids(self, cell: Coord, action: int) -> list[int] | None:
        """Tokens of the step from ``cell`` by ``action``; ``None`` when the scheme cannot write it."""
        nxt = (cell[0] + int(ACTION_DELTAS[action][0]), cell[1] + int(ACTION_DELTAS[action][1]))
        if self.grid and self.vocab.scheme.path == "moves":  # type: ignore[union-attr]
            return [3 + int(action)]
        if (
            nxt[0] < 0
            or nxt[1] < 0
            or nxt[0] >= self.vocab.max_shape[0]
            or nxt[1] >= self.vocab.max_shape[1]
        ):
            return None
        return self.cell_ids(nxt)

    def path_ids(self, path: Sequence[Coord]) -> list[int]:
        """Tokens of a path prefix (origin first)."""
        out = list(self.first_ids(path[0]))
        for a, b in zip(path[:-1], path[1:], strict=True):
            action = _ACTION_OF.get((b[0] - a[0], b[1] - a[1]))
            if action is None:
                raise ValueError(f"path step {a} -> {b} is not a single move")
            step = self.step_ids(a, action)
            if step is None:
                raise ValueError(f"path cell {b} cannot be written in {self.vocab!r}")
            out += step
        return out

    def read(
        self, task: Task, prompt: np.ndarray, generated: Sequence[int], log_prob: float
    ) -> Decoded:
        """Parse prompt + generated ids into cells; never raises."""
        gen = [int(t) for t in generated if int(t) != self.pad_id]
        try:
            tokens = self.vocab.decode(np.concatenate([prompt, np.asarray(gen, dtype=np.int64)]))
        except ValueError as err:
            return Decoded([task.origin], [str(err)], len(gen), log_prob)
        parsed = parse(tokens, shape=task.maze.shape, scheme=self.vocab.scheme.name)
        cells = parsed.path if parsed.path else [task.origin]
        return Decoded(list(cells), list(parsed.problems), len(gen), log_prob)


class _Legal:
    """Per-row state for constrained decoding: current cell, cells visited, the partial step.

    Legal steps: a move through a passage to a cell not yet on the path (a shortest path never
    revisits one); at the target only ``<PATH_END>``; in a dead end only ``<PATH_END>`` (the
    trajectory then fails: it stops short of the target).
    """

    def __init__(self, codec: Codec, task: Task) -> None:
        self.codec, self.task = codec, task
        self.cell: Coord = task.origin
        self.visited: set[Coord] = {task.origin}
        self.partial: list[int] = []
        first = codec.first_ids(task.origin)
        self.pending: list[tuple[list[int], Coord | None]] | None = (
            [(first, task.origin)] if first else None
        )
        self.done = False

    def options(self) -> list[tuple[list[int], Coord | None]]:
        if self.pending is not None:
            return self.pending
        if self.cell == self.task.target:
            return [([self.codec.end_id], None)]
        out = []
        for a, nxt in _neighbors(self.task, self.cell):
            ids = self.codec.step_ids(self.cell, a)
            if nxt in self.visited:
                continue
            if ids is not None:
                out.append((ids, nxt))
        return out or [([self.codec.end_id], None)]

    def allowed(self) -> list[int]:
        k = len(self.partial)
        return sorted({ids[k] for ids, _ in self.options() if ids[:k] == self.partial})

    def push(self, token: int) -> None:
        self.partial.append(token)
        for ids, nxt in self.options():
            if ids == self.partial:
                self.partial = []
                self.pending = None
                if nxt is None:
                    self.done = True
                else:
                    self.cell = nxt
                    self.visited.add(nxt)
                return


def _neighbors(task: Task, cell: Coord) -> list[tuple[int, Coord]]:
    out = []
    for a in range(4):
        nxt = (cell[0] + int(ACTION_DELTAS[a][0]), cell[1] + int(ACTION_DELTAS[a][1]))
        rows, cols = task.maze.shape
        if 0 <= nxt[0] < rows and 0 <= nxt[1] < cols and task.maze.has_passage(cell, nxt):
            out.append((a, nxt))
    return out


@torch.no_grad()
def decode(
    model: GPT,
    codec: Codec,
    tasks: Sequence[Task],
    mode: str = "greedy",
    *,
    k: int = 4,
    temperature: float = 1.0,
    seed: int = 0,
    batch_size: int = 256,
    max_new: int | None = None,
) -> list[Decoded]:
    """Decode every task (see the module docstring); results in task order.

    Args:
        model: the network (put in eval mode here).
        codec: the vocabulary's :class:`Codec`.
        tasks: the tasks.
        mode: one of :data:`MODES`.
        k: beam width (``beam``).
        temperature: softmax temperature (``sample``), > 0.
        seed: sampling seed; row ``i`` of the ``j``-th group draws from one generator per call.
        batch_size: rows per forward pass (beams count ``k`` rows each).
        max_new: most generated tokens (default: up to the model's context, and at most
            :meth:`Codec.longest_answer` of the task's shape).
    """
    if mode not in MODES:
        raise ValueError(f"decode mode must be one of {MODES}, got {mode!r}")
    if mode == "sample" and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    if mode == "beam" and (not isinstance(k, int) or k < 1):
        raise ValueError(f"beam width k must be an int >= 1, got {k!r}")
    if model.training:
        model.eval()
    out: list[Decoded | None] = [None] * len(tasks)
    prompts = codec.prompts(tasks)
    groups: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        if isinstance(p, str):
            out[i] = Decoded([tasks[i].origin], [f"cannot encode the task: {p}"], 0, 0.0, True)
        else:
            groups.setdefault(len(p), []).append(i)
    gen = torch.Generator().manual_seed(int(seed))
    per = max(1, batch_size // (k if mode == "beam" else 1))
    for length, idx in sorted(groups.items()):
        longest = max(codec.longest_answer(tasks[i].maze.shape) for i in idx)
        limit = min(model.config.n_ctx - length, longest)
        if max_new is not None:
            limit = min(limit, max_new)
        width = (length + limit) * (k if mode == "beam" else 1)  # cached tokens per task
        rows = max(1, min(per, ROW_TOKENS // width))  # long prompts: fewer rows
        for s in range(0, len(idx), rows):
            chunk = idx[s : s + rows]
            if limit < 1:
                for i in chunk:
                    out[i] = Decoded(
                        [tasks[i].origin],
                        [f"prompt of {length} tokens fills the context n_ctx={model.config.n_ctx}"],
                        0,
                        0.0,
                        True,
                    )
                continue
            batch = torch.as_tensor(np.stack([prompts[i] for i in chunk]), dtype=torch.long)
            sub = [tasks[i] for i in chunk]
            if mode == "beam":
                seqs, lps = _beam(model, codec, batch, k, limit)
            else:
                seqs, lps = _step(model, codec, batch, sub, mode, temperature, gen, limit)
            for j, i in enumerate(chunk):
                out[i] = codec.read(tasks[i], prompts[i], seqs[j], lps[j])
    return out  # type: ignore[return-value]


def _step(
    model: GPT, codec: Codec, batch: torch.Tensor, tasks: list[Task], mode: str,
    temperature: float, gen: torch.Generator, limit: int,
) -> tuple[list[list[int]], list[float]]:  # fmt: skip
    """Greedy / sample / constrained decoding of one group; generated ids and log-probs."""
    B = batch.shape[0]
    logits, cache = model.forward_cached(batch, reserve=limit)  # each step then writes in place
    last = logits[:, -1].float()
    done = torch.zeros(B, dtype=torch.bool)
    lp = torch.zeros(B, dtype=torch.float64)
    seqs: list[list[int]] = [[] for _ in range(B)]
    legal = [_Legal(codec, t) for t in tasks] if mode == "constrained" else None
    for _ in range(limit):
        logp = last.log_softmax(-1)
        if legal is not None:
            mask = torch.full_like(logp, float("-inf"))
            for b in range(B):
                if not done[b]:
                    mask[b, legal[b].allowed()] = 0.0
            logp = logp + mask
        if mode == "sample":
            tok = torch.multinomial((last / temperature).softmax(-1), 1, generator=gen)[:, 0]
        else:
            tok = logp.argmax(-1)
        tok = torch.where(done, torch.full_like(tok, codec.pad_id), tok)
        lp += torch.where(done, 0.0, logp.gather(1, tok[:, None])[:, 0].double())
        for b in torch.nonzero(~done)[:, 0].tolist():
            seqs[b].append(int(tok[b]))
            if legal is not None:
                legal[b].push(int(tok[b]))
        done |= tok == codec.end_id
        if bool(done.all()):
            break
        if cache.length >= model.config.n_ctx:
            break
        logits, cache = model.forward_cached(tok[:, None], cache)
        last = logits[:, -1].float()
    return seqs, lp.tolist()


def _beam(
    model: GPT, codec: Codec, batch: torch.Tensor, k: int, limit: int
) -> tuple[list[list[int]], list[float]]:
    """Beam search of width ``k`` for one group; the best finished (else best) sequence per row."""
    B, V = batch.shape[0], model.config.vocab_size
    logits, cache = model.forward_cached(batch, reserve=limit)
    rows = torch.arange(B).repeat_interleave(k)
    cache = cache.select(rows)
    last = logits[:, -1].float()[rows]  # (B*k, V)
    score = torch.full((B, k), float("-inf"), dtype=torch.float64)
    score[:, 0] = 0.0  # the k copies start identical: keep one
    done = torch.zeros(B, k, dtype=torch.bool)
    seqs = torch.zeros(B, k, 0, dtype=torch.long)
    for _ in range(limit):
        logp = last.log_softmax(-1).double().view(B, k, V)
        finished = torch.full((V,), float("-inf"), dtype=torch.float64)
        finished[codec.pad_id] = 0.0
        logp = torch.where(done[..., None], finished, logp)
        cand = (score[..., None] + logp).view(B, k * V)
        score, flat = cand.topk(k, dim=1)  # (B, k)
        beam, tok = flat // V, flat % V
        seqs = torch.cat(
            [seqs.gather(1, beam[..., None].expand(-1, -1, seqs.shape[2])), tok[..., None]], dim=2
        )
        done = done.gather(1, beam) | (tok == codec.end_id)
        if bool(done.all()) or cache.length >= model.config.n_ctx:
            break
        src = (torch.arange(B)[:, None] * k + beam).view(-1)
        cache = cache.select(src)
        logits, cache = model.forward_cached(tok.view(-1, 1), cache)
        last = logits[:, -1].float()
    best_score = torch.where(done, score, score - 1e9)  # a finished beam beats any unfinished one
    best = best_score.argmax(1)
    out = [seqs[b, best[b]].tolist() for b in range(B)]
    return out, [float(score[b, best[b]]) for b in range(B)]

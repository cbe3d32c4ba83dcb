"""Batched generation with the KV cache: greedy, sampling, constrained, beam; and the move prior.

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

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from agents.transformer.model import GPT, KVCache
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


def move_prior(
    model: GPT,
    codec: Codec,
    tasks: Sequence[Task],
    paths: Sequence[Sequence[Coord]],
    batch_size: int = 256,
) -> np.ndarray:
    """``float32[B, 4]``: the model's probabilities of up, right, down, left after each path.

    The probability of a move is that of its step tokens (summed log-probs for multi-token
    steps), renormalised over the four moves; a move the scheme cannot write, or whose tokens do
    not fit the context, gets 0; a task the vocabulary cannot write (or with no move that fits)
    gets the uniform prior. One call of a fresh :class:`MovePrior` (which keeps nothing between
    calls of this function; the MCTS hooks keep one :class:`MovePrior` for the whole search).
    """
    return MovePrior(model, codec, batch_size=batch_size)(tasks, paths)


def _path_key(path: Sequence[Coord]) -> bytes:
    """A compact dictionary key of a path (its cells as int16 bytes)."""
    return np.asarray(path, dtype=np.int16).tobytes()


class _Bank:
    """The prompts of one length: their cache (one batch row per task) and last log-probs."""

    def __init__(self) -> None:
        self.cache: KVCache | None = None
        self.last: torch.Tensor | None = None  # (N, V) log-softmax after the prompt
        self.size = 0

    def add(self, cache: KVCache, last: torch.Tensor) -> int:
        """Append rows; the index of the first."""
        first = self.size
        self.cache = cache if self.cache is None else KVCache.concat([self.cache, cache])
        self.last = last if self.last is None else torch.cat([self.last, last])
        self.size += last.shape[0]
        return first

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (renumbered 0..)."""
        assert self.cache is not None and self.last is not None
        idx = torch.as_tensor(rows, dtype=torch.long)
        self.cache, self.last, self.size = self.cache.select(idx), self.last[idx], len(rows)


class _Entry:
    """What :class:`MovePrior` keeps per task: the task itself (so its ``id`` stays unique while
    the entry lives), its prompt ids (or why the vocabulary cannot write it), its row in the bank
    of its prompt length (-1: not computed yet) and the priors already computed, by path."""

    __slots__ = (
        "task", "prompt", "row", "priors", "trunk", "trunk_ids", "trunk_last", "recent", "dirty"
    )

    def __init__(self, task: Task, prompt: np.ndarray | str) -> None:
        self.task, self.prompt, self.row = task, prompt, -1
        self.priors: dict[bytes, np.ndarray] = {}
        # the trunk (MovePrior's trunk mode): the cache of prompt + a path prefix, its ids, the
        # log-probs after it, and the ids of the latest paths asked about
        self.trunk: KVCache | None = None
        self.trunk_ids: list[int] = []
        self.trunk_last: torch.Tensor | None = None
        self.recent: list[list[int]] = []
        self.dirty = False  # the trunk changed since it was copied into the stack


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two id lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class _TrunkStack:
    """Every held task's trunk in one padded cache (:meth:`KVCache.stack`), a row each, kept
    between calls: a search's paths run over it in one forward that copies nothing; a trunk is
    copied into its row only when it changed. A forward writes its tokens past the longest trunk
    (``top``) in place; they are never attended afterwards (the next forward writes over them,
    and a growing ``top`` clears them first)."""

    ROOM = 64
    """Tokens of room past ``top`` for the paths' own tokens (more: the stack is rebuilt)."""

    def __init__(self, entries: list[_Entry], pad_id: int) -> None:
        self.pad = pad_id
        self.row = {id(e): i for i, e in enumerate(entries)}
        self.entries = entries
        self._build(self.ROOM)

    def _build(self, room: int) -> None:
        """Stack every entry's current trunk anew, with ``room`` tokens past the longest."""
        self.cache = KVCache.stack([e.trunk for e in self.entries], room, self.pad)  # type: ignore[misc]
        for e in self.entries:
            e.dirty = False

    def update(self, entries: list[_Entry]) -> None:
        """Copy the changed trunks of ``entries`` into their rows."""
        c = self.cache
        assert c.valid is not None and c.ids is not None
        for e in entries:
            if not e.dirty:
                continue
            assert e.trunk is not None and e.trunk.ids is not None
            i, L = self.row[id(e)], e.trunk.length
            if L + self.ROOM > c.capacity:  # no room left: a bigger stack (copies every trunk)
                self._build(self.ROOM)
                return
            top = c.length
            if L > top:  # clear what earlier forwards wrote past the old top
                c.valid[:, top:L] = False
                c.ids[:, top:L] = self.pad
                c.size, c.tail[0] = L, L
                top = L
            for buf, src in zip(c.keys + c.values, e.trunk.keys + e.trunk.values, strict=True):
                buf[i, :, :L] = src[0, :, :L]
            c.valid[i, :L], c.valid[i, L:top] = True, False
            c.ids[i, :L], c.ids[i, L:top] = e.trunk.ids[0, :L], self.pad
            e.dirty = False

    def run(self, model: GPT, rows: torch.Tensor, rest: list[list[int]]) -> torch.Tensor:
        """Logits ``(N, R, V)`` of the tokens ``rest[j]`` after the trunk of row ``rows[j]``
        (every other row reads padding)."""
        R = max(len(r) for r in rest)
        if R > self.cache.capacity - self.cache.length:
            self._build(2 * R)
        x = torch.full((len(self.entries), R), self.pad, dtype=torch.long)
        for i, r in zip(rows.tolist(), rest, strict=True):
            x[i, : len(r)] = torch.as_tensor(r, dtype=torch.long)
        logits, _ = model.forward_cached(x, self.cache)
        self.cache.tail[0] = self.cache.length  # the next forward may write there again
        return logits


class MovePrior:
    """:func:`move_prior` for a search that asks again and again about the same tasks.

    Computes the same probabilities as running the model on prompt + path + each move's step
    tokens but the last (one sequence per move), up to float rounding, with far less work:

    * each task's prompt runs through the model once; its KV cache is kept (a bank per prompt
      length) and a path runs on top of it (:meth:`GPT.forward_cached`);
    * one forward per path gives the first token of every move; a multi-token step's next tokens
      come from the path's cache, one new token per distinct partial step (``grid_cells``: the
      three rows ``r-1, r, r+1``, not four full sequences);
    * rows of one total length share a forward (no padding), up to ``batch_size`` rows;
    * the prior of a (task, path) already computed is returned again (the MCTS rebuilds its tree
      at every real step, so most nodes of a search were nodes of the previous one).

    Tasks are known by identity (``id``, the task held so the id is not reused); when more than
    ``max_tasks`` are held, those not in the current call are forgotten.

    **Trunk mode** (``pos="grid"`` models whose path is moves, one token a step: the shipped
    design). A search asks about paths that share a long start (the moves made so far) and differ
    in their last few moves; re-reading the whole path at every leaf costs a forward over hundreds
    of tokens in a large maze. So each task keeps a *trunk*: the cache of its prompt plus a prefix
    of the recent paths. A path runs only its tokens past the trunk; the trunks of a batch are
    stacked, padded and masked (:meth:`KVCache.stack`: grid positions come from the tokens, not
    their index, so padding moves nothing). The trunk is cut back to the common prefix when a path
    leaves it, and grown to the common prefix of the last ``_RECENT`` paths once that is
    ``_GROW`` tokens longer.
    """

    _RECENT = 4
    _GROW = 8

    def __init__(
        self, model: GPT, codec: Codec, batch_size: int = 256, max_tasks: int = 256
    ) -> None:
        self.model, self.codec = model, codec
        self.batch_size, self.max_tasks = max(1, int(batch_size)), max(1, int(max_tasks))
        self.entries: dict[int, _Entry] = {}
        self.banks: dict[int, _Bank] = {}
        self.hits = 0  # priors answered from memory (for benchmarks)
        scheme = codec.vocab.scheme
        self._stack: _TrunkStack | None = None
        self.trunk_mode = (
            model.config.pos == "grid" and codec.grid and getattr(scheme, "path", "") == "moves"
        )

    # -- tasks and prompts --------------------------------------------------------------------
    def _entries(self, tasks: Sequence[Task]) -> list[_Entry]:
        new = {}
        for t in tasks:
            e = self.entries.get(id(t))
            if (e is None or e.task is not t) and id(t) not in new:
                new[id(t)] = t
        if new and len(self.entries) + len(new) > self.max_tasks:
            self._forget(keep={id(t) for t in tasks})
        if new:
            fresh = list(new.values())
            for t, p in zip(fresh, self.codec.prompts(fresh), strict=True):
                self.entries[id(t)] = _Entry(t, p)
        return [self.entries[id(t)] for t in tasks]

    def _forget(self, keep: set[int]) -> None:
        self._stack = None
        self.entries = {k: e for k, e in self.entries.items() if k in keep}
        by_len: dict[int, list[_Entry]] = {}
        for e in self.entries.values():
            if e.row >= 0:
                by_len.setdefault(len(e.prompt), []).append(e)
        banks = {}
        for length, es in by_len.items():
            bank = self.banks[length]
            bank.keep([e.row for e in es])
            for i, e in enumerate(es):
                e.row = i
            banks[length] = bank
        self.banks = banks

    def _run_prompts(self, entries: list[_Entry]) -> None:
        """Run the prompts of ``entries`` not in a bank yet (each of at most ``n_ctx`` tokens)."""
        by_len: dict[int, list[_Entry]] = {}
        seen: set[int] = set()
        for e in entries:
            if e.row < 0 and id(e) not in seen:
                seen.add(id(e))
                by_len.setdefault(len(e.prompt), []).append(e)
        for length, es in by_len.items():
            bank = self.banks.setdefault(length, _Bank())
            for s in range(0, len(es), self.batch_size):
                part = es[s : s + self.batch_size]
                x = torch.as_tensor(np.stack([e.prompt for e in part]), dtype=torch.long)
                logits, cache = self.model.forward_cached(x)
                first = bank.add(cache, logits[:, -1].float().log_softmax(-1))
                for i, e in enumerate(part):
                    e.row = first + i

    def reads(self, tasks: Sequence[Task]) -> np.ndarray:
        """``bool[B]``: whether the model can read each task at all (False: the vocabulary cannot
        write it, or its prompt fills the context; the prior is then uniform for every path)."""
        n_ctx = self.model.config.n_ctx
        return np.array(  # the entries keep the prompts for the calls that follow
            [not isinstance(e.prompt, str) and len(e.prompt) <= n_ctx for e in self._entries(tasks)],
            np.bool_,
        )

    # -- the prior ----------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(self, tasks: Sequence[Task], paths: Sequence[Sequence[Coord]]) -> np.ndarray:
        """``float32[B, 4]`` (see :func:`move_prior`)."""
        if self.model.training:
            self.model.eval()
        B = len(tasks)
        out = np.full((B, 4), 0.25)
        if B == 0:
            return out.astype(np.float32)
        if len(paths) != B:
            raise ValueError(f"{B} tasks but {len(paths)} paths")
        entries = self._entries(tasks)
        n_ctx = self.model.config.n_ctx
        todo: dict[tuple[int, bytes], list[int]] = {}  # (task id, path) -> rows of this call
        for b, (e, path) in enumerate(zip(entries, paths, strict=True)):
            if isinstance(e.prompt, str) or len(e.prompt) + len(path) - 1 > n_ctx:
                # the vocabulary cannot write this task, or no move fits the context (every step
                # writes at least one token): the uniform prior
                continue
            key = _path_key(path)
            hit = e.priors.get(key)
            if hit is not None:
                out[b] = hit
                self.hits += 1
            else:
                todo.setdefault((id(e.task), key), []).append(b)
        # each path to compute: its tokens and moves
        jobs = []  # (entry, path ids, [(action, step ids)], rows, key)
        for (_, key), rows in todo.items():
            e, path = entries[rows[0]], paths[rows[0]]
            ids = self.codec.path_ids(list(path))
            total = len(e.prompt) + len(ids)
            cell = (int(path[-1][0]), int(path[-1][1]))
            moves = []
            for a in range(4):
                step = self.codec.step_ids(cell, a)
                if step is not None and total + max(len(step), 1) - 1 <= n_ctx:
                    moves.append((a, step))
            if moves:
                jobs.append((e, ids, moves, rows, key))
            else:  # nothing fits the context: uniform
                e.priors[key] = np.full(4, 0.25)
        self._run_prompts([j[0] for j in jobs])
        probs = self._by_trunk(jobs) if self.trunk_mode else self._by_length(jobs)
        for (e, _ids, _m, rows, key), p in zip(jobs, probs, strict=True):
            total = p.sum()
            p = p / total if total > 0 else np.full(4, 0.25)
            out[rows] = p
            e.priors[key] = p
        return out.astype(np.float32)

    def _by_length(self, jobs: list) -> np.ndarray:
        """``float64[len(jobs), 4]`` unnormalised move probabilities, each path run whole over
        its prompt's cache; paths of one (prompt, path) length share a forward."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i, (e, ids, *_) in enumerate(jobs):
            groups.setdefault((len(e.prompt), len(ids)), []).append(i)
        probs = np.zeros((len(jobs), 4))
        for (plen, _), idx in groups.items():
            for s in range(0, len(idx), self.batch_size):
                part = idx[s : s + self.batch_size]
                probs[part] = self._group(self.banks[plen], [jobs[i] for i in part])
        return probs

    # -- trunk mode ---------------------------------------------------------------------------
    def _by_trunk(self, jobs: list) -> np.ndarray:
        """``float64[len(jobs), 4]`` unnormalised move probabilities, each path run past its
        task's trunk (see the class docstring); one-token steps only."""
        if not jobs:
            return np.zeros((0, 4))
        paths: dict[int, tuple[_Entry, list[list[int]]]] = {}
        rounds: dict[int, list[int]] = {}  # round r: the r-th path of each task (a row each)
        for j, (e, ids, *_) in enumerate(jobs):
            mine = paths.setdefault(id(e), (e, []))[1]
            rounds.setdefault(len(mine), []).append(j)
            mine.append(ids)
        for e, mine in paths.values():
            self._follow(e, mine)
        asked = [e for e, _ in paths.values()]
        if (
            self._stack is None
            or any(id(e) not in self._stack.row for e in asked)
            or 2 * len(asked) < len(self._stack.entries)  # most rows idle (their tasks ended)
        ):
            self._stack = _TrunkStack(asked, self.codec.pad_id)
        stack = self._stack
        stack.update(asked)
        out = np.zeros((len(jobs), 4))
        for rnd in rounds.values():
            part = [jobs[i] for i in rnd]
            rest = [ids[len(e.trunk_ids) :] for e, ids, *_ in part]
            lens = torch.as_tensor([len(r) for r in rest], dtype=torch.long)
            last = torch.stack([e.trunk_last for e, *_ in part])  # (n, V): after the trunk
            if int(lens.max()):
                rows = torch.as_tensor([stack.row[id(e)] for e, *_ in part], dtype=torch.long)
                logits = stack.run(self.model, rows, rest)
                at = logits[rows, (lens - 1).clamp(min=0)].float().log_softmax(-1)
                last = torch.where((lens > 0)[:, None], at, last)
            for k, (j, (_e, _ids, moves, *_)) in enumerate(zip(rnd, part, strict=True)):
                for a, step in moves:
                    out[j, a] = math.exp(float(last[k, step[0]]))
        return out

    def _follow(self, e: _Entry, paths: list[list[int]]) -> None:
        """Keep ``e``'s trunk a prefix of every one of ``paths`` (this call's, as ids); grow it
        to their and the recent paths' common prefix once that is ``_GROW`` tokens longer."""
        if e.trunk is None:
            self._cut(e, 0)
        keep = min(_common(e.trunk_ids, p) for p in paths)
        if keep < len(e.trunk_ids):
            self._cut(e, keep)
        e.recent = (e.recent + paths)[-self._RECENT :]
        first = paths[0]
        grow = min(_common(first, p) for p in [*paths, *e.recent])
        if grow - len(e.trunk_ids) >= self._GROW:
            self._extend(e, first[len(e.trunk_ids) : grow])

    def _cut(self, e: _Entry, k: int) -> None:
        """Cut ``e``'s trunk back to its first ``k`` path tokens (0: the prompt alone)."""
        if k == 0:
            bank = self.banks[len(e.prompt)]
            assert bank.cache is not None and bank.last is not None
            e.trunk = bank.cache.select(torch.as_tensor([e.row], dtype=torch.long))
            e.trunk_ids, e.trunk_last = [], bank.last[e.row]
            e.dirty = True
            return
        assert e.trunk is not None
        keep = e.trunk_ids[:k]
        e.trunk = e.trunk.truncated(len(e.prompt) + k - 1)
        e.trunk_ids = keep[:-1]
        self._extend(e, keep[-1:])  # the log-probs after the last kept token

    def _extend(self, e: _Entry, more: list[int]) -> None:
        if not more:
            return
        x = torch.as_tensor([more], dtype=torch.long)
        logits, e.trunk = self.model.forward_cached(x, e.trunk, reserve=4 * self._GROW)
        e.trunk_ids = e.trunk_ids + list(more)
        e.trunk_last = logits[0, -1].float().log_softmax(-1)
        e.dirty = True

    def _group(self, bank: _Bank, jobs: list) -> np.ndarray:
        """``float64[len(jobs), 4]`` unnormalised move probabilities of paths of one length."""
        assert bank.cache is not None and bank.last is not None
        rows = torch.as_tensor([job[0].row for job in jobs], dtype=torch.long)
        cache: KVCache | None = None  # None: the bank's rows `rows`
        if len(jobs[0][1]):
            x = torch.as_tensor([job[1] for job in jobs], dtype=torch.long)
            logits, cache = self.model.forward_cached(x, bank.cache.select(rows))
            logp = logits[:, -1].float().log_softmax(-1)
        else:  # nothing written after the prompt yet (move paths): the prompt's last position
            logp = bank.last[rows]
        # candidate moves: owner job j, action a, step tokens; log-probs summed token by token
        owner, action, steps = [], [], []
        for j, job in enumerate(jobs):
            for a, step in job[2]:
                owner.append(j)
                action.append(a)
                steps.append(step)
        lp = torch.zeros(len(steps), dtype=torch.float64)
        # level t: one state per distinct (job, step[:t]), its log-probs of the next token
        state_of = list(owner)  # row of `logp` / `cache` each candidate reads next
        prefixes: dict[tuple[int, tuple[int, ...]], int] = {}
        longest = max(len(s) for s in steps)
        for t in range(longest):
            live = [c for c, s in enumerate(steps) if len(s) > t]
            sel = torch.as_tensor([state_of[c] for c in live], dtype=torch.long)
            tok = torch.as_tensor([steps[c][t] for c in live], dtype=torch.long)
            lp[live] += logp[sel, tok].double()
            more = [c for c in live if len(steps[c]) > t + 1]
            if not more:
                break
            prefixes.clear()
            src, feed = [], []
            for c in more:
                key = (owner[c], tuple(steps[c][: t + 1]))
                if key not in prefixes:
                    prefixes[key] = len(src)
                    src.append(state_of[c])
                    feed.append(steps[c][t])
                state_of[c] = prefixes[key]
            src_t = torch.as_tensor(src, dtype=torch.long)
            past = bank.cache.select(rows[src_t]) if cache is None else cache.select(src_t)
            feed_t = torch.as_tensor(feed, dtype=torch.long)[:, None]
            logits, cache = self.model.forward_cached(feed_t, past)
            logp = logits[:, -1].float().log_softmax(-1)
        out = np.zeros((len(jobs), 4))
        out[owner, action] = np.exp(lp.numpy())
        return out

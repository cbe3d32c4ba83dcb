"""The move prior a search asks for: ``P(move | maze, path so far)`` from a path transformer.

:func:`move_prior` is the plain formula (one sequence per move); :class:`MovePrior` computes the
same probabilities for a search that asks again and again about the same tasks (prompt caches
kept per task, memoised paths, the trunk mode of ``pos="grid"`` move models). The MCTS hooks of
a transformer checkpoint (:func:`agents.transformer.agent.load_hooks`) keep one for a whole search.

Tasks are known by identity: an entry holds its task object, so the ``id`` it is filed under
cannot be reused by another task while the entry lives (an entry is dropped, with its task, only
when it is forgotten); a content key (hashing the maze at every call) would cost more than the
prior on a 64x64 maze.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch

from agents.transformer.decoding import Codec
from agents.transformer.model import GPT, KVCache
from maze_env import Task
from maze_env.types import Coord


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


class _Job(NamedTuple):
    """One (task, path) prior to compute in a call of :class:`MovePrior`."""

    entry: _Entry
    ids: list[int]
    """The path's token ids (after the prompt)."""
    moves: list[tuple[int, list[int]]]
    """``(action, step token ids)`` of each move whose tokens fit the context."""
    rows: list[int]
    """The rows of this call that ask for this prior."""
    key: bytes
    """:func:`_path_key` of the path (the memo key in ``entry.priors``)."""


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
        jobs: list[_Job] = []
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
                jobs.append(_Job(e, ids, moves, rows, key))
            else:  # nothing fits the context: uniform
                e.priors[key] = np.full(4, 0.25)
        self._run_prompts([j.entry for j in jobs])
        probs = self._by_trunk(jobs) if self.trunk_mode else self._by_length(jobs)
        for job, p in zip(jobs, probs, strict=True):
            total = p.sum()
            p = p / total if total > 0 else np.full(4, 0.25)
            out[job.rows] = p
            job.entry.priors[job.key] = p
        return out.astype(np.float32)

    def _by_length(self, jobs: list[_Job]) -> np.ndarray:
        """``float64[len(jobs), 4]`` unnormalised move probabilities, each path run whole over
        its prompt's cache; paths of one (prompt, path) length share a forward."""
        groups: dict[tuple[int, int], list[int]] = {}
        for i, job in enumerate(jobs):
            groups.setdefault((len(job.entry.prompt), len(job.ids)), []).append(i)
        probs = np.zeros((len(jobs), 4))
        for (plen, _), idx in groups.items():
            for s in range(0, len(idx), self.batch_size):
                part = idx[s : s + self.batch_size]
                probs[part] = self._group(self.banks[plen], [jobs[i] for i in part])
        return probs

    # -- trunk mode ---------------------------------------------------------------------------
    def _by_trunk(self, jobs: list[_Job]) -> np.ndarray:
        """``float64[len(jobs), 4]`` unnormalised move probabilities, each path run past its
        task's trunk (see the class docstring); one-token steps only."""
        if not jobs:
            return np.zeros((0, 4))
        paths: dict[int, tuple[_Entry, list[list[int]]]] = {}
        rounds: dict[int, list[int]] = {}  # round r: the r-th path of each task (a row each)
        for j, job in enumerate(jobs):
            mine = paths.setdefault(id(job.entry), (job.entry, []))[1]
            rounds.setdefault(len(mine), []).append(j)
            mine.append(job.ids)
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
            rest = [job.ids[len(job.entry.trunk_ids) :] for job in part]
            lens = torch.as_tensor([len(r) for r in rest], dtype=torch.long)
            last = torch.stack([job.entry.trunk_last for job in part])  # (n, V): after the trunk
            if int(lens.max()):
                rows = torch.as_tensor([stack.row[id(job.entry)] for job in part], dtype=torch.long)
                logits = stack.run(self.model, rows, rest)
                at = logits[rows, (lens - 1).clamp(min=0)].float().log_softmax(-1)
                last = torch.where((lens > 0)[:, None], at, last)
            for k, (j, job) in enumerate(zip(rnd, part, strict=True)):
                for a, step in job.moves:
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

    def _group(self, bank: _Bank, jobs: list[_Job]) -> np.ndarray:
        """``float64[len(jobs), 4]`` unnormalised move probabilities of paths of one length."""
        assert bank.cache is not None and bank.last is not None
        rows = torch.as_tensor([job.entry.row for job in jobs], dtype=torch.long)
        cache: KVCache | None = None  # None: the bank's rows `rows`
        if len(jobs[0].ids):
            x = torch.as_tensor([job.ids for job in jobs], dtype=torch.long)
            logits, cache = self.model.forward_cached(x, bank.cache.select(rows))
            logp = logits[:, -1].float().log_softmax(-1)
        else:  # nothing written after the prompt yet (move paths): the prompt's last position
            logp = bank.last[rows]
        # candidate moves: owner job j, action a, step tokens; log-probs summed token by token
        owner, action, steps = [], [], []
        for j, job in enumerate(jobs):
            for a, step in job.moves:
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

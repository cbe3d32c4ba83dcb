"""agents.transformer.move_prior.MovePrior: the cached, memoised move prior equals the plain formula."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from agents.transformer.decoding import Codec
from agents.transformer.model import GPT, GPTConfig
from agents.transformer.move_prior import MovePrior, move_prior
from maze_env import Task, generate
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.solve import shortest_path
from maze_env.tokens import Vocabulary, make_vocabulary
from maze_env.types import ACTION_DELTAS, Coord


def reference_prior(
    model: GPT, codec: Codec, tasks: Sequence[Task], paths: Sequence[Sequence[Coord]]
) -> np.ndarray:
    """The plain formula (the prior before the cache): one full forward of prompt + path + the
    step's tokens but the last per candidate move, the step's log-probs summed, renormalised
    over the four moves; 0 for a move the scheme cannot write or beyond the context; uniform for
    a task the vocabulary cannot write or with no move left."""
    out = np.zeros((len(tasks), 4))
    prompts = codec.prompts(tasks)
    for b, (prompt, path) in enumerate(zip(prompts, paths, strict=True)):
        if isinstance(prompt, str):
            out[b] = 0.25
            continue
        prefix = np.concatenate([prompt, np.asarray(codec.path_ids(list(path)), dtype=np.int64)])
        for a in range(4):
            step = codec.step_ids(tuple(path[-1]), a)  # type: ignore[arg-type]
            if step is None:
                continue
            seq = np.concatenate([prefix, np.asarray(step[:-1], dtype=np.int64)])
            if len(seq) > model.config.n_ctx:
                continue
            with torch.no_grad():
                lps = model(torch.as_tensor(seq)[None])[0][0].float().log_softmax(-1)
            out[b, a] = np.exp(
                sum(float(lps[len(prefix) - 1 + t, tok]) for t, tok in enumerate(step))
            )
        total = out[b].sum()
        out[b] = out[b] / total if total > 0 else 0.25
    return out.astype(np.float32)


def tiny_model(vocab: Vocabulary, n_ctx: int, seed: int = 0, pos: str = "learned") -> GPT:
    torch.manual_seed(seed)
    model = GPT(
        GPTConfig(vocab_size=len(vocab), n_ctx=n_ctx, n_layer=2, n_head=2, d_model=16, pos=pos)
    )
    with torch.no_grad():  # sharper than the initialisation, so the moves differ clearly
        for p in model.parameters():
            p.mul_(8.0)
    return model.eval()


def walks(tasks: list[Task], seed: int) -> tuple[list[Task], list[list[Coord]]]:
    """Every prefix of each task's shortest path, and random walks through open passages
    (revisits included): what MCTS asks about."""
    rng = np.random.default_rng(seed)
    out_t, out_p = [], []
    for t in tasks:
        sp = shortest_path(t.maze, t.origin, t.target)
        for k in range(1, len(sp) + 1):
            out_t.append(t)
            out_p.append(list(sp[:k]))
        path = [t.origin]
        for _ in range(12):
            r, c = path[-1]
            opts = [
                (r + int(d[0]), c + int(d[1]))
                for d in ACTION_DELTAS
                if 0 <= r + int(d[0]) < t.maze.shape[0]
                and 0 <= c + int(d[1]) < t.maze.shape[1]
                and t.maze.has_passage((r, c), (r + int(d[0]), c + int(d[1])))
            ]
            path.append(opts[int(rng.integers(len(opts)))])
            out_t.append(t)
            out_p.append(list(path))
    return out_t, out_p


CASES = [  # scheme, n_ctx (some paths of the walks run past the context)
    ("grid_cells", 40),  # two tokens per step: the second from the cache
    ("grid", 30),  # one token per step; the origin alone writes nothing after the prompt
    ("aotp", 80),
    ("aotp_split", 215),  # five tokens per step
]


@pytest.mark.parametrize(("scheme", "n_ctx"), CASES)
def test_fast_prior_equals_the_plain_formula(scheme: str, n_ctx: int) -> None:
    vocab = make_vocabulary((4, 4), scheme)
    codec = Codec(vocab)
    model = tiny_model(vocab, n_ctx)
    tasks = list(MazeDataset.from_config(DatasetConfig(shape=(4, 4), n=3, seed=7)))
    tasks.append(Task(generate("percolation", (4, 4), seed=3), (0, 0), (3, 3)))
    ts, ps = walks(tasks, seed=1)
    want = reference_prior(model, codec, ts, ps)
    assert (want.max(1) > 0.3).any() and (want == 0.25).all(1).any()  # not all uniform, some cut
    np.testing.assert_allclose(move_prior(model, codec, ts, ps), want, atol=1e-5)
    # one MovePrior across calls, as the MCTS uses it: batches in another order, repeats (from
    # memory), small forward batches, and few tasks held (so it forgets and recomputes)
    prior = MovePrior(model, codec, batch_size=5, max_tasks=2)
    order = np.random.default_rng(2).permutation(len(ts))
    for part in np.array_split(np.concatenate([order, order[::-1]]), 7):
        got = prior([ts[i] for i in part], [ps[i] for i in part])
        np.testing.assert_allclose(got, want[part], atol=1e-5)
        assert got.dtype == np.float32 and got.shape == (len(part), 4)
    assert prior.hits > 0


def test_rotary_model_and_repeated_rows_in_one_call() -> None:
    vocab = make_vocabulary((4, 4), "grid_cells")
    codec = Codec(vocab)
    model = tiny_model(vocab, 48, seed=3, pos="rotary")
    tasks = list(MazeDataset.from_config(DatasetConfig(shape=(4, 4), n=2, seed=9)))
    ts, ps = walks(tasks, seed=4)
    ts, ps = ts + ts[:5], ps + ps[:5]  # the same task and path twice in one call
    prior = MovePrior(model, codec)
    np.testing.assert_allclose(prior(ts, ps), reference_prior(model, codec, ts, ps), atol=1e-5)
    again = prior(ts, ps)  # all from memory now
    np.testing.assert_allclose(again, reference_prior(model, codec, ts, ps), atol=1e-5)
    assert prior.hits >= len(ts)


def test_unwritable_tasks_and_empty_calls() -> None:
    vocab = make_vocabulary(3, "grid_cells")
    codec = Codec(vocab)
    model = tiny_model(vocab, 40)
    big = Task(generate("dfs", (4, 4), seed=1), (0, 0), (3, 3))  # larger than the vocabulary
    small = Task(generate("dfs", (3, 3), seed=2), (0, 0), (2, 2))
    prior = MovePrior(model, codec)
    got = prior([big, small], [[(0, 0)], [(0, 0)]])
    np.testing.assert_allclose(got[0], 0.25)
    np.testing.assert_allclose(
        got[1:], reference_prior(model, codec, [small], [[(0, 0)]]), atol=1e-5
    )
    assert prior([], []).shape == (0, 4)
    with pytest.raises(ValueError, match="not a single move"):
        prior([small], [[(0, 0), (2, 2)]])


@pytest.mark.parametrize(("scheme", "path"), [("grid_cells", "cells"), ("grid", "moves")])
def test_grid_rope_prefix_lm_model(scheme: str, path: str) -> None:
    # pos="grid" reads each new token's cell from the cached ids; the prefix LM sees the prompt
    # both ways, so its cache must come from the whole prompt in one call (as the bank does)
    vocab = make_vocabulary((4, 4), scheme)
    codec = Codec(vocab)
    torch.manual_seed(1)
    model = GPT(
        GPTConfig(
            vocab_size=len(vocab), n_ctx=40, n_layer=2, n_head=2, d_model=16, pos="grid",
            grid={"max_shape": [4, 4], "path": path}, prefix_id=vocab.id_of("<PATH_START>"),
        )
    )  # fmt: skip
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)
    model.eval()
    tasks = list(MazeDataset.from_config(DatasetConfig(shape=(4, 4), n=3, seed=7)))
    ts, ps = walks(tasks, seed=1)
    want = reference_prior(model, codec, ts, ps)
    prior = MovePrior(model, codec, batch_size=5, max_tasks=2)
    got = np.concatenate([prior(ts[i : i + 7], ps[i : i + 7]) for i in range(0, len(ts), 7)])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_reads_says_which_tasks_get_the_uniform_prior_on_every_path() -> None:
    vocab = make_vocabulary((5, 5), "grid")
    codec = Codec(vocab)
    model = tiny_model(vocab, 26)  # a 4x4 prompt (21 tokens) fits; a 5x5 one (31) does not
    small = list(MazeDataset.from_config(DatasetConfig(shape=(4, 4), n=2, seed=1)))
    large = list(MazeDataset.from_config(DatasetConfig(shape=(5, 5), n=1, seed=1)))
    too_big = Task(generate("dfs", (6, 6), seed=0), (0, 0), (5, 5))  # beyond the vocabulary
    tasks = small + large + [too_big]
    prior = MovePrior(model, codec)
    assert prior.reads(tasks).tolist() == [True, True, False, False]
    ts, ps = walks(tasks, seed=3)
    got = prior(ts, ps)
    unread = ~prior.reads(ts)
    assert unread.any() and (got[unread] == 0.25).all()
    assert (got[~unread].max(1) > 0.3).any()


def test_trunk_mode_follows_a_search_and_equals_the_plain_formula() -> None:
    """pos="grid" with the path as moves: paths run past per-task trunks, stacked with padding;
    what an MCTS asks (long shared starts, cut back when the search turns) equals the formula."""
    from agents.search import MCTSAgent

    vocab = make_vocabulary((8, 8), "grid")
    codec = Codec(vocab)
    torch.manual_seed(2)
    model = GPT(
        GPTConfig(vocab_size=len(vocab), n_ctx=200, n_layer=2, n_head=2, d_model=16, pos="grid",
                  grid={"max_shape": [8, 8], "path": "moves"})
    )  # fmt: skip
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(8.0)
    model.eval()
    prior = MovePrior(model, codec, batch_size=3)
    assert prior.trunk_mode
    asked: list[tuple[list[Task], list[list[Coord]], np.ndarray]] = []

    def prior_fn(tasks, cells, paths):  # type: ignore[no-untyped-def]
        got = prior(tasks, paths)
        asked.append((list(tasks), [list(p) for p in paths], got))
        return got

    tasks = [Task(generate(g, (s, s), seed=i), (0, 0), (s - 1, s - 1))
             for i, (g, s) in enumerate([("dfs", 8), ("dfs", 7), ("percolation", 8), ("dfs", 8)])]  # fmt: skip
    MCTSAgent(simulations=12, prior_fn=prior_fn, max_steps=40, seed=1).solve_batch(tasks)
    grown = max(len(e.trunk_ids) for e in prior.entries.values())
    assert grown >= MovePrior._GROW  # the trunks followed the search
    picks = np.random.default_rng(0).choice(len(asked), size=min(60, len(asked)), replace=False)
    for i in picks:
        ts, ps, got = asked[i]
        np.testing.assert_allclose(got, reference_prior(model, codec, ts, ps), atol=2e-5)

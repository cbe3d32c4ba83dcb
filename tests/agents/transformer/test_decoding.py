"""agents.transformer.decoding: each mode on scripted models whose answers are known by hand."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch

from agents.transformer.decoding import Codec, decode
from agents.transformer.model import GPTConfig, KVCache
from agents.transformer.move_prior import move_prior
from maze_env import Maze, Task
from maze_env.solve import shortest_path
from maze_env.tokens import Vocabulary, make_vocabulary

# a 3x3 maze: a corridor along the top row and the right column, and a dead-end branch
#   (0,0)-(0,1)-(0,2)
#     |           |
#   (1,0)       (1,2)
#                 |
#   (2,0)-(2,1)-(2,2)
MAZE = Maze.from_edges(
    (3, 3),
    [((0, 0), (0, 1)), ((0, 1), (0, 2)), ((0, 2), (1, 2)), ((1, 2), (2, 2)), ((2, 2), (2, 1)),
     ((2, 1), (2, 0)), ((0, 0), (1, 0)), ((1, 1), (2, 1))],
)  # fmt: skip
TASK = Task(MAZE, (0, 0), (2, 2))
UP, RIGHT, DOWN, LEFT = 3, 4, 5, 6  # grid vocabulary ids of the moves
END = 1


class Scripted:
    """A stand-in for GPT: logits from ``policy(history ids) -> float[V]``; the cache keeps ids."""

    training = False

    def __init__(
        self, vocab: Vocabulary, policy: Callable[[list[int]], np.ndarray], n_ctx: int = 40
    ) -> None:
        self.config = GPTConfig(vocab_size=len(vocab), n_ctx=n_ctx, n_layer=1, n_head=1, d_model=2)
        self.policy = policy

    def eval(self) -> Scripted:
        return self

    def _logits(self, hist: torch.Tensor, t0: int) -> torch.Tensor:
        rows = [
            [
                torch.as_tensor(self.policy(h[: t + 1].long().tolist()), dtype=torch.float32)
                for t in range(t0, len(h))
            ]
            for h in hist
        ]
        return torch.stack([torch.stack(r) for r in rows])

    def forward_cached(
        self, idx: torch.Tensor, cache: KVCache | None = None, reserve: int = 0
    ) -> tuple[torch.Tensor, KVCache]:
        prev = (
            cache.keys[0][:, 0, :, 0]
            if cache is not None and cache.keys
            else torch.zeros(idx.shape[0], 0)
        )
        hist = torch.cat([prev, idx.float()], dim=1)
        kept = hist[:, None, :, None]  # (B, H=1, T, D=1), as a real cache
        return self._logits(hist, prev.shape[1]), KVCache([kept], [kept])

    def __call__(self, idx: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self._logits(idx.float(), 0), None


def scripted(
    moves_after: Callable[[list[int]], dict[int, float]], vocab: Vocabulary | None = None
) -> tuple[Scripted, Codec]:
    vocab = vocab or make_vocabulary(3, "grid")
    start = vocab.id_of("<PATH_START>")

    def policy(hist: list[int]) -> np.ndarray:
        out = np.full(len(vocab), -20.0)
        if start not in hist:
            return out  # inside the prompt: not used
        path = hist[hist.index(start) + 1 :]
        for tok, p in moves_after(path).items():
            out[tok] = np.log(p)
        return out

    return Scripted(vocab, policy), Codec(vocab)


def oracle(path: list[int]) -> dict[int, float]:
    want = [RIGHT, RIGHT, DOWN, DOWN, END]
    return {want[len(path)] if len(path) < len(want) else END: 1.0}


def test_greedy_follows_the_model() -> None:
    model, codec = scripted(oracle)
    (res,) = decode(model, codec, [TASK], "greedy")  # type: ignore[arg-type]
    assert res.problems == [] and res.cells == shortest_path(MAZE, (0, 0), (2, 2))
    assert res.n_tokens == 5 and res.log_prob == pytest.approx(0.0, abs=1e-6)


def test_beam_finds_what_greedy_misses() -> None:
    # first move: DOWN (into the dead end) 0.6, RIGHT 0.4; after DOWN the model is unsure
    # (0.25 each of four tokens); after RIGHT it is certain. Greedy goes down; beam(2) right.
    def policy(path: list[int]) -> dict[int, float]:
        if not path:
            return {DOWN: 0.6, RIGHT: 0.4}
        if path[0] == DOWN:
            return {UP: 0.25, RIGHT: 0.25, DOWN: 0.25, LEFT: 0.25}
        return oracle(path)

    model, codec = scripted(policy)
    (greedy,) = decode(model, codec, [TASK], "greedy", max_new=8)  # type: ignore[arg-type]
    (beam,) = decode(model, codec, [TASK], "beam", k=2)  # type: ignore[arg-type]
    assert greedy.cells[1] == (1, 0)
    assert beam.cells == shortest_path(MAZE, (0, 0), (2, 2)) and beam.problems == []
    assert beam.log_prob == pytest.approx(np.log(0.4), abs=1e-5)


def test_constrained_only_makes_legal_moves_and_stops_at_the_target() -> None:
    # the model prefers LEFT, UP, RIGHT, DOWN in that order and never ends the path
    model, codec = scripted(lambda path: {LEFT: 0.4, UP: 0.3, RIGHT: 0.2, DOWN: 0.1})
    (free,) = decode(model, codec, [TASK], "greedy", max_new=6)  # type: ignore[arg-type]
    assert free.problems and "outside" in " ".join(free.problems)  # walks off: reported
    (res,) = decode(model, codec, [TASK], "constrained")  # type: ignore[arg-type]
    assert res.cells == shortest_path(MAZE, (0, 0), (2, 2)) and res.problems == []
    # preferring DOWN leads into the dead end (1,0): no unvisited neighbour, so the path stops
    model, codec = scripted(lambda path: {DOWN: 0.4, UP: 0.3, RIGHT: 0.2, LEFT: 0.1})
    (res,) = decode(model, codec, [TASK], "constrained")  # type: ignore[arg-type]
    assert res.cells == [(0, 0), (1, 0)] and any("not at the target" in p for p in res.problems)


def test_a_model_that_never_ends_stops_at_the_longest_possible_answer() -> None:
    # a shortest path in a 3x3 maze has at most 9 cells: 9 * 1 + 2 tokens, though n_ctx allows 40
    model, codec = scripted(lambda path: {UP: 0.5, DOWN: 0.5})
    assert codec.longest_answer((3, 3)) == 11
    (res,) = decode(model, codec, [TASK], "greedy")  # type: ignore[arg-type]
    assert res.n_tokens == 11 and res.problems


def test_garbage_is_reported_not_raised() -> None:
    model, codec = scripted(
        lambda path: {7 + 5: 1.0} if len(path) < 3 else {END: 1.0}
    )  # cell tokens
    (res,) = decode(model, codec, [TASK], "greedy")  # type: ignore[arg-type]
    assert res.cells == [(0, 0)] or res.problems
    assert any("'c5' is not" in p for p in res.problems)


def test_sampling_is_seeded() -> None:
    model, codec = scripted(lambda path: {UP: 0.25, RIGHT: 0.25, DOWN: 0.25, END: 0.25})
    tasks = [TASK] * 6
    a = [r.cells for r in decode(model, codec, tasks, "sample", seed=3)]  # type: ignore[arg-type]
    b = [r.cells for r in decode(model, codec, tasks, "sample", seed=3)]  # type: ignore[arg-type]
    c = [r.cells for r in decode(model, codec, tasks, "sample", seed=4)]  # type: ignore[arg-type]
    assert a == b and a != c


def test_modes_and_arguments_are_checked() -> None:
    model, codec = scripted(oracle)
    with pytest.raises(ValueError, match="decode mode must be one of"):
        decode(model, codec, [TASK], "nucleus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="temperature must be > 0"):
        decode(model, codec, [TASK], "sample", temperature=0)  # type: ignore[arg-type]


def test_move_prior_single_and_multi_token_steps() -> None:
    model, codec = scripted(oracle)
    prior = move_prior(model, codec, [TASK, TASK], [[(0, 0)], [(0, 0), (0, 1), (0, 2)]])  # type: ignore[arg-type]
    assert prior.shape == (2, 4) and prior.dtype == np.float32
    np.testing.assert_allclose(prior.sum(1), 1.0, rtol=1e-5)
    assert prior.argmax(1).tolist() == [1, 2]  # right, then down
    cells_vocab = make_vocabulary(3, "grid_cells")
    row, col = cells_vocab.row_base, cells_vocab.col_base  # type: ignore[attr-defined]
    want = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)]

    def cells_policy(path: list[int]) -> dict[int, float]:
        seq = [t for r, c in want for t in (row + r, col + c)] + [END]
        return {seq[len(path)] if len(path) < len(seq) else END: 1.0}

    model, codec = scripted(cells_policy, cells_vocab)
    prior = move_prior(model, codec, [TASK], [[(0, 0), (0, 1)]])  # type: ignore[arg-type]
    assert prior.argmax(1).tolist() == [1] and prior[0, 1] > 0.99
    (res,) = decode(model, codec, [TASK], "constrained")  # type: ignore[arg-type]
    assert res.cells == want and res.problems == []


def test_a_task_the_vocabulary_cannot_write_fails_cleanly() -> None:
    from maze_env import generate

    model, codec = scripted(oracle, make_vocabulary(3, "grid_cells"))
    big = Task(generate("dfs", (4, 4), seed=1), (0, 0), (3, 3))
    res = decode(model, codec, [big, TASK], "greedy")  # type: ignore[arg-type]
    assert res[0].cells == [(0, 0)] and "cannot encode the task" in res[0].problems[0]
    assert "4x4 maze does not fit" in res[0].problems[0]
    assert res[0].unreadable and not res[1].unreadable  # the harness shows "cannot read"
    prior = move_prior(model, codec, [big], [[(0, 0)]])  # type: ignore[arg-type]
    np.testing.assert_allclose(prior, 0.25)

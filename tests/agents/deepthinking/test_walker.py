"""The mask -> path walker on hand-made masks: follows the mask, stops at dead ends and loops,
never crosses walls."""

from __future__ import annotations

import numpy as np
import pytest

from agents.deepthinking.agent import walk_mask
from maze_env import Maze, Task

# a 3x3 maze with a fork at (1, 1): origin S top-left, target E bottom-right
FORK = """\
#######
#S    #
# ### #
#     #
# ### #
#    E#
#######"""


def _task(text: str) -> Task:
    return Task.from_ascii(text)


def _scores(shape: tuple[int, int], on: list[tuple[int, int]]) -> np.ndarray:
    s = np.full(shape, -5.0, dtype=np.float32)
    for r, c in on:
        s[r, c] = 5.0
    return s


def test_follows_the_mask_to_the_target() -> None:
    task = _task(FORK)
    on = [(0, 0), (1, 0), (1, 1), (1, 2), (2, 2)]
    cells, stop = walk_mask(
        task.maze.open_moves(), _scores(task.maze.shape, on), task.origin, task.target
    )
    assert stop == "target"
    assert cells == on


def test_picks_the_highest_scoring_neighbour_at_a_fork() -> None:
    task = _task(FORK)
    s = _scores(task.maze.shape, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (2, 2)])
    s[0, 1], s[1, 0] = 1.0, 3.0  # both on the mask, the lower branch scores higher
    s[0, 2] = 2.0  # at (1, 2): the target's side scores higher than the way back up
    cells, stop = walk_mask(task.maze.open_moves(), s, task.origin, task.target)
    assert cells == [(0, 0), (1, 0), (1, 1), (1, 2), (2, 2)]
    assert stop == "target"


def test_stops_at_a_dead_end_of_the_mask() -> None:
    task = _task(FORK)
    on = [(0, 0), (0, 1), (0, 2)]  # the mask ends at (0, 2): (1, 2) is off
    cells, stop = walk_mask(
        task.maze.open_moves(), _scores(task.maze.shape, on), task.origin, task.target
    )
    assert cells == on
    assert stop == "dead_end"


def test_stops_on_a_loop() -> None:
    # a 2x2 ring: the mask covers the ring but not the target's cell
    maze = Maze.from_edges(
        (2, 3),
        [((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 1), (1, 0)), ((1, 0), (0, 0)), ((1, 1), (1, 2))],
    )
    s = _scores((2, 3), [(0, 0), (0, 1), (1, 1), (1, 0)])
    cells, stop = walk_mask(maze.open_moves(), s, (0, 0), (1, 2))
    assert stop == "loop"
    assert len(cells) == 4 and len(set(cells)) == 4


def test_never_crosses_walls() -> None:
    task = _task(FORK)
    # every cell scores high, the highest ones sit behind walls of (0, 0)'s corridor
    rng = np.random.default_rng(0)
    moves = task.maze.open_moves()
    for _ in range(20):
        s = rng.normal(size=task.maze.shape).astype(np.float32) + 3.0
        cells, _ = walk_mask(moves, s, task.origin, task.target)
        for a, b in zip(cells, cells[1:], strict=False):
            assert task.maze.has_passage(a, b), (a, b)


@pytest.mark.parametrize("threshold", [0.0, 4.0])
def test_threshold_filters_the_mask(threshold: float) -> None:
    task = _task(FORK)
    s = _scores(task.maze.shape, [(0, 0), (1, 0), (1, 1), (1, 2), (2, 2)])
    s[1, 0] = 2.0
    cells, stop = walk_mask(
        task.maze.open_moves(), s, task.origin, task.target, threshold=threshold
    )
    assert stop == ("target" if threshold < 2.0 else "dead_end")

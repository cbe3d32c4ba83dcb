"""Random baselines: ``random_fork`` (the seed's baseline solver) and ``random_walk``.

``random_fork`` measures how hard a maze is: it obeys the walls and never goes back, choosing
uniformly at every fork, so the probability that it reaches the target is the product of
``1 / branches`` over the forks of the path in a perfect maze (:func:`random_fork_success_probability`
computes it exactly). Both agents draw from a private stream per task (``agents.search.common.task_random``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from agents.base import BaseAgent, Trajectory
from agents.registry import register_agent
from agents.search.common import (
    check_positive,
    check_seed,
    format_name,
    make_trajectory,
    task_random,
)
from agents.search.graph import maze_neighbors_fn
from maze_env import Maze, Task
from maze_env.types import Coord


def random_fork_walk(
    origin: Coord,
    target: Coord,
    *,
    neighbors_fn: Callable[[Coord], list[Coord]],
    rng: random.Random,
) -> tuple[list[Coord], int]:
    """One run of the baseline: a self-avoiding walk that picks uniformly among unvisited neighbours.

    "Never backtracks" means it never enters a cell it has already visited (in a perfect maze
    that is exactly "never returns to the previous cell"; with loops it also forbids circling).
    It stops at the target, or at a cell with no unvisited neighbour (a dead end: it gives up).

    Returns:
        ``(cells, n_forks)``: the cells visited from ``origin`` on, and the number of choices made
        among more than one option.
    """
    cells, visited, n_forks = [origin], {origin}, 0
    cell = origin
    while cell != target:
        options = [nb for nb in neighbors_fn(cell) if nb not in visited]
        if not options:
            break
        if len(options) > 1:
            n_forks += 1
            cell = options[rng.randrange(len(options))]
        else:
            cell = options[0]
        cells.append(cell)
        visited.add(cell)
    return cells, n_forks


def random_fork_success_probability(
    maze: Maze, origin: Coord, target: Coord, *, max_states: int = 100_000
) -> float:
    """The exact probability that ``random_fork`` reaches ``target`` from ``origin``.

    Sums over the agent's possible walks; in a perfect maze the wrong branches are dead subtrees,
    so this costs one visit per reachable cell. Mazes with many loops have exponentially many
    self-avoiding walks: past ``max_states`` states it raises (estimate by running the agent).

    Raises:
        ValueError: if more than ``max_states`` walk states would be visited.
    """
    neighbors = maze_neighbors_fn(maze)
    budget = [max_states]

    def prob(cell: Coord, visited: set[Coord]) -> float:
        budget[0] -= 1
        if budget[0] < 0:
            raise ValueError(
                f"more than max_states={max_states} walk states; raise max_states or estimate the "
                "probability by running the random_fork agent with many seeds"
            )
        if cell == target:
            return 1.0
        options = [nb for nb in neighbors(cell) if nb not in visited]
        total = 0.0
        for nb in options:
            visited.add(nb)
            total += prob(nb, visited)
            visited.discard(nb)
        return total / len(options) if options else 0.0

    return prob(tuple(origin), {tuple(origin)})  # type: ignore[arg-type]


class RandomForkAgent(BaseAgent):
    """The seed's baseline: obeys walls, never backtracks, uniform at forks, gives up at dead ends.

    Args:
        seed: non-negative int; with the task's content it fixes every choice.

    Counters: ``nodes_expanded`` is the number of cells whose moves were examined;
    ``extra["forks"]`` the number of random choices made.
    """

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = check_seed(seed)
        self.name = format_name("random_fork", {"seed": seed}, {"seed": 0})

    def solve(self, task: Task) -> Trajectory:
        t0 = time.perf_counter()
        cells, n_forks = random_fork_walk(
            task.origin,
            task.target,
            neighbors_fn=maze_neighbors_fn(task.maze),
            rng=task_random(self.seed, task),
        )
        reached = cells[-1] == task.target
        return make_trajectory(
            cells,
            nodes_expanded=len(cells) - 1 if reached else len(cells),
            seconds=time.perf_counter() - t0,
            gave_up=not reached,
            extra={"forks": n_forks},
        )


class RandomWalkAgent(BaseAgent):
    """Uniformly random legal moves (going back allowed) until the target or ``max_steps``.

    Args:
        seed: non-negative int; with the task's content it fixes every move.
        max_steps: the most moves; ``None`` (default) is ``10 * rows * cols``.

    Counters: ``nodes_expanded`` is the number of moves made.
    """

    def __init__(self, *, seed: int = 0, max_steps: int | None = None) -> None:
        check_positive("max_steps", max_steps, allow_none=True)
        self.seed, self.max_steps = check_seed(seed), max_steps
        self.name = format_name(
            "random_walk", {"seed": seed, "max_steps": max_steps}, {"seed": 0, "max_steps": None}
        )

    def solve(self, task: Task) -> Trajectory:
        t0 = time.perf_counter()
        rng = task_random(self.seed, task)
        neighbors = maze_neighbors_fn(task.maze)
        limit = self.max_steps or 10 * task.maze.n_cells
        cell, cells = task.origin, [task.origin]
        while cell != task.target and len(cells) <= limit:
            options = neighbors(cell)
            if not options:
                break
            cell = options[rng.randrange(len(options))]
            cells.append(cell)
        return make_trajectory(
            cells,
            nodes_expanded=len(cells) - 1,
            seconds=time.perf_counter() - t0,
            gave_up=cell != task.target,
        )


@register_agent("random_fork")
def make_random_fork(*, seed: int = 0) -> RandomForkAgent:
    """``random_fork``: ``seed`` (default 0)."""
    return RandomForkAgent(seed=seed)


@register_agent("random_walk")
def make_random_walk(*, seed: int = 0, max_steps: int | None = None) -> RandomWalkAgent:
    """``random_walk``: ``seed`` (default 0), ``max_steps`` (default 10 * rows * cols)."""
    return RandomWalkAgent(seed=seed, max_steps=max_steps)

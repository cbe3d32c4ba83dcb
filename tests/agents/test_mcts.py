"""MCTS on tiny mazes: UCT finds the target, PUCT follows a perfect prior and survives a bad one."""

from __future__ import annotations

import random

import numpy as np
import pytest

from agents.base import make_agent
from agents.search import MCTSAgent, maze_neighbors_fn, mcts_search
from maze_env import Task, generate
from maze_env.solve import bfs_distances, shortest_path
from maze_env.types import ACTION_DELTAS
from tests.agents.test_search import FORK, FORK_PATH, LURE, legal


def perfect_prior(task: Task, cell, path):
    """One-hot on the move one step closer to the target (first in action order)."""
    dist = bfs_distances(task.maze, task.target)
    probs = np.zeros(4)
    for a, nb in enumerate(tuple(int(v) for v in np.add(cell, d)) for d in ACTION_DELTAS):
        if task.maze.has_passage(cell, nb) and dist[nb] == dist[cell] - 1:
            probs[a] = 1.0
            break
    return probs


def misleading_prior(task: Task, cell, path):
    """0.9 on a legal move away from the target (when there is one), the rest spread evenly."""
    dist = bfs_distances(task.maze, task.target)
    probs = np.full(4, 0.1 / 3)
    for a, d in enumerate(ACTION_DELTAS):
        nb = (cell[0] + int(d[0]), cell[1] + int(d[1]))
        if task.maze.has_passage(cell, nb) and dist[nb] > dist[cell]:
            probs[a] = 0.9
            break
    return probs


def test_uct_solves_the_fork_maze_exactly():
    traj = make_agent("mcts:simulations=30").solve(Task.from_ascii(FORK))
    assert traj.cells == FORK_PATH  # rollouts into the dead branch never score
    assert traj.nodes_expanded > 0 and traj.extra["simulations"] == 7 * 30  # a search per move


def test_search_prefers_the_short_way_round_a_loop():
    task = Task.from_ascii(LURE)
    out = mcts_search(task, (1, 1), [(0, 0), (1, 0), (1, 1)], neighbors_fn=maze_neighbors_fn(task.maze),
                      rng=random.Random(0), simulations=300)  # fmt: skip
    # down (2,1) is 5 moves from E, up (0,1) 6: the discount favours down; left goes back.
    assert out.action == 2 and out.cell == (2, 1)
    assert out.visits[2] == max(out.visits) and sum(out.visits) == 300


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uct_reaches_the_target_on_small_mazes(seed):
    maze = generate("dfs", (6, 6), seed=seed)
    task = Task(maze, (0, 0), (5, 5))
    traj = make_agent("mcts", simulations=100).solve(task)
    assert not traj.gave_up and traj.cells[-1] == task.target and legal(maze, traj.cells)


def test_puct_follows_a_perfect_prior():
    maze = generate("dfs", (6, 6), seed=4)
    task = Task(maze, (0, 5), (5, 0))
    agent = MCTSAgent(simulations=8, prior_fn=perfect_prior)
    traj = agent.solve(task)
    assert traj.cells == tuple(shortest_path(maze, task.origin, task.target))
    assert traj.forward_passes > 0 and agent.name == "mcts(simulations=8, prior_fn=perfect_prior)"


def test_puct_with_a_misleading_prior_still_reaches():
    maze = generate("dfs", (6, 6), seed=4)
    task = Task(maze, (0, 5), (5, 0))
    traj = MCTSAgent(simulations=200, prior_fn=misleading_prior).solve(task)
    assert not traj.gave_up and legal(maze, traj.cells)


def test_value_fn_replaces_rollouts():
    task = Task.from_ascii(FORK)
    dist = bfs_distances(task.maze, task.target)
    traj = MCTSAgent(simulations=10, value_fn=lambda t, cell, path: 0.9 ** int(dist[cell])).solve(
        task
    )
    assert traj.cells == FORK_PATH and traj.extra["rollout_steps"] == 0 and traj.forward_passes > 0


def test_max_steps_bounds_the_episode():
    maze = generate("dfs", (6, 6), seed=0)
    traj = make_agent("mcts:simulations=5,max_steps=3").solve(Task(maze, (0, 0), (5, 5)))
    assert len(traj.cells) - 1 <= 3 and traj.gave_up


def test_mcts_is_deterministic_per_seed():
    task = Task(generate("dfs", (6, 6), seed=7), (0, 0), (5, 5))
    a = make_agent("mcts:simulations=20,seed=5").solve(task)
    b = make_agent("mcts:simulations=20,seed=5").solve(task)
    assert a.cells == b.cells and a.nodes_expanded == b.nodes_expanded


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mcts:c_uct=-1", "c_uct must be"),
        ("mcts:discount=0", "discount must be"),
        ("mcts:prior_fn=3", "prior_fn must"),
    ],
)
def test_bad_parameters_are_explained(spec, message):
    with pytest.raises(ValueError, match=message):
        make_agent(spec)


def test_dead_branches_are_proven_whatever_the_prior():
    # At S the prior puts 0.99 on "down", into the 4-cell dead-end branch. Below the root a
    # simulation may not re-enter its own path, so that branch is proven dead after a few
    # simulations and every other one goes right, towards E.
    task = Task.from_ascii(FORK)

    def down(task, cell, path):
        return [0.0025, 0.0025, 0.99, 0.0025]

    out = mcts_search(task, task.origin, [task.origin], neighbors_fn=maze_neighbors_fn(task.maze),
                      rng=random.Random(0), simulations=50, prior_fn=down)  # fmt: skip
    assert out.cell == (0, 1) and out.visits[1] > 40


def test_prior_mix_hedges_a_prior():
    agent = make_agent("mcts:prior_mix=0.25,simulations=10")
    assert agent.prior_mix == 0.25 and agent.name == "mcts(simulations=10, prior_mix=0.25)"
    with pytest.raises(ValueError, match="prior_mix must be a number in"):
        make_agent("mcts:prior_mix=2")


@pytest.mark.slow
def test_uct_solves_perfect_mazes_exactly():
    from tests.agents.test_search import random_tasks

    for task in random_tasks("dfs", 30, shape=(8, 8), seed=21):
        traj = make_agent("mcts").solve(task)
        assert len(traj.cells) - 1 == len(shortest_path(task.maze, task.origin, task.target)) - 1

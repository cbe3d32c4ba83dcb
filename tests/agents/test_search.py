"""Search agents on tiny mazes whose answers are worked out by hand, plus invariants and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from agents.registry import AGENTS, make_agent
from agents.search import (
    AStarAgent,
    a_star,
    depth_first_search,
    greedy_best_first,
    maze_neighbors_fn,
    random_fork_success_probability,
)
from maze_env import Maze, Task, generate_batch
from maze_env.solve import bfs_distances, shortest_path

# One fork, at the origin: right leads to E in 7 moves, down into a dead-end branch of 4 cells.
# Distances from S: (0,1) 1, (0,2) 2, (0,3) 3, (1,3) 4, (1,2) 5, (2,2) 6, E=(2,3) 7;
# (1,0) 1, (1,1) 2, (2,1) 3, (2,0) 4.
FORK = """
#########
#S      #
# ##### #
#   #   #
### # ###
#   #  E#
#########
"""
FORK_PATH = ((0, 0), (0, 1), (0, 2), (0, 3), (1, 3), (1, 2), (2, 2), (2, 3))

# Loops: the shortest route S (0,0) -> (1,0) -> (1,1) -> (2,1) -> (2,2) -> (2,3) -> (1,3) -> E (0,3)
# takes 7 moves. Greedy (Manhattan) is lured up to (0,1) (h=2) and (0,2) (h=1), finds the wall
# to E, and reaches E round (1,2) -> (2,2): 9 moves. DFS (up, right, down, left) takes the same
# 9-move branch: at (1,1) it tries up (0,1) first.
LURE = """
#########
#S#   #E#
# # # # #
#   # # #
# # # # #
# #     #
#########
"""
LURE_GREEDY = ((0, 0), (1, 0), (1, 1), (0, 1), (0, 2), (1, 2), (2, 2), (2, 3), (1, 3), (0, 3))

ALL = ("bfs", "astar", "dfs", "greedy", "random_fork", "random_walk", "mcts")
COMPLETE = ("bfs", "astar", "dfs", "greedy")  # always reach a reachable target


def legal(maze: Maze, cells) -> bool:
    return all(maze.has_passage(a, b) for a, b in zip(cells, cells[1:], strict=False))


def random_tasks(generator: str, n: int, shape=(7, 7), seed=0, **params) -> list[Task]:
    batch = generate_batch(generator, shape, n, seed=seed, **params)
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, shape, size=(n, 2, 2))
    return [
        Task(m, tuple(cells[i, 0].tolist()), tuple(cells[i, 1].tolist()))
        for i, m in enumerate(batch)
    ]


def test_registry_lists_every_agent():
    assert set(ALL) <= set(AGENTS)


@pytest.mark.parametrize("name", COMPLETE)
def test_complete_searches_on_the_fork_maze(name):
    traj = make_agent(name).solve(Task.from_ascii(FORK))
    assert traj.cells == FORK_PATH  # a perfect maze: the path is unique
    assert traj.actions == (1, 1, 1, 2, 3, 2, 1)
    assert not traj.gave_up and traj.seconds >= 0


def test_counters_by_hand_on_the_fork_maze():
    task = Task.from_ascii(FORK)
    # bfs: every cell nearer to S than E is (7): all 12 but E.
    assert make_agent("bfs").solve(task).nodes_expanded == 11
    # dfs goes right first and never meets the dead-end branch: S..(2,2), 7 cells.
    assert make_agent("dfs").solve(task).nodes_expanded == 7


def test_astar_tie_breaking_by_hand():
    # 2x2 open field, S top-left, E bottom-right: two shortest paths. After S, (0,1) and (1,0)
    # tie at (f=2, h=1): (0,1) was generated first (action order). From it E has f=2, h=0, which
    # beats (1,0)'s h=1: E is popped next. Expanded: S, (0,1). Generated: S, (0,1), (1,0), E.
    task = Task(Maze(np.array([[[1, 1], [0, 0]], [[1, 0], [1, 0]]], dtype=bool)), (0, 0), (1, 1))
    result = a_star(task.origin, task.target, neighbors_fn=maze_neighbors_fn(task.maze))
    assert result.path == ((0, 0), (0, 1), (1, 1))
    assert (result.nodes_expanded, result.nodes_generated) == (2, 4)
    traj = make_agent("astar").solve(task)  # the numba kernel: same answer
    assert (
        traj.cells == result.path
        and traj.nodes_expanded == 2
        and traj.extra["nodes_generated"] == 4
    )


def test_greedy_and_dfs_are_suboptimal_with_loops():
    task = Task.from_ascii(LURE)
    assert int(bfs_distances(task.maze, task.origin)[task.target]) == 7
    for name in ("bfs", "astar"):
        assert len(make_agent(name).solve(task).cells) - 1 == 7
    assert make_agent("greedy").solve(task).cells == LURE_GREEDY
    dfs = make_agent("dfs").solve(task)
    assert dfs.cells == LURE_GREEDY and legal(task.maze, dfs.cells)


@pytest.mark.parametrize(
    "generator, params", [("dfs", {}), ("percolation", {}), ("open_field", {})]
)
def test_astar_kernel_matches_pure_function(generator, params):
    tasks = random_tasks(generator, 200, shape=(8, 9), seed=3, **params)
    trajs = AStarAgent().solve_batch(tasks)
    for task, traj in zip(tasks, trajs, strict=True):
        result = a_star(task.origin, task.target, neighbors_fn=maze_neighbors_fn(task.maze))
        assert traj.cells == (result.path or (task.origin,))
        assert traj.nodes_expanded == result.nodes_expanded
        assert traj.extra["nodes_generated"] == result.nodes_generated


@pytest.mark.parametrize("generator", ["dfs", "percolation"])
def test_optimal_agents_agree_with_solve(generator):
    tasks = random_tasks(generator, 150, seed=5)
    bfs, astar = make_agent("bfs"), make_agent("astar")
    batch = bfs.solve_batch(tasks)
    for task, b, a, single in zip(
        tasks, batch, astar.solve_batch(tasks), map(bfs.solve, tasks), strict=True
    ):
        ref = shortest_path(task.maze, task.origin, task.target)
        assert b.cells == single.cells == tuple(ref or [task.origin])
        assert b.nodes_expanded == single.nodes_expanded and b.actions == single.actions
        assert len(a.cells) == len(b.cells) and legal(task.maze, a.cells)
        assert b.gave_up == a.gave_up == (ref is None)


def test_solve_batch_mixes_shapes_and_keeps_order():
    tasks = random_tasks("dfs", 5, shape=(4, 4)) + random_tasks("percolation", 5, shape=(6, 3))
    order = [9, 0, 8, 1, 7, 2, 6, 3, 5, 4]

    def key(traj):
        return traj.cells, traj.actions, traj.nodes_expanded, traj.extra, traj.gave_up

    for name in ("bfs", "astar"):
        agent = make_agent(name)
        single = [key(agent.solve(t)) for t in tasks]  # the single-task paths: same answers
        assert [key(t) for t in agent.solve_batch(tasks)] == single
        shuffled = agent.solve_batch([tasks[i] for i in order])
        assert [key(t) for t in shuffled] == [single[i] for i in order]


def test_custom_heuristic_is_used_and_named():
    def zero(cell, target):
        return 0

    agent = make_agent("astar", heuristic_fn=zero)
    assert agent.name == "astar(heuristic_fn=zero)"
    task = Task.from_ascii(LURE)
    traj = agent.solve(task)
    assert len(traj.cells) - 1 == 7  # h = 0 is admissible: still optimal, but expands more
    assert traj.nodes_expanded >= make_agent("astar").solve(task).nodes_expanded


@pytest.mark.parametrize("generator", ["dfs", "percolation", "braid"])
@pytest.mark.parametrize("name", ALL)
def test_every_agent_moves_legally_and_reports_honestly(name, generator):
    agent = make_agent(name) if name != "mcts" else make_agent("mcts:simulations=20")
    for task in random_tasks(generator, 6, shape=(5, 5), seed=11):
        traj = agent.solve(task)
        assert traj.cells[0] == task.origin and legal(task.maze, traj.cells)
        assert len(traj.actions) == len(traj.cells) - 1
        assert traj.gave_up == (traj.cells[-1] != task.target)
        assert traj.nodes_expanded >= 0 and traj.seconds >= 0
        if name in COMPLETE and task.maze.reachable(task.origin)[task.target]:
            assert not traj.gave_up


def test_unreachable_target_gives_up_everywhere():
    task = Task(Maze(np.zeros((2, 1, 2), dtype=bool)), (0, 0), (0, 1))
    for name in ALL:
        traj = make_agent(name).solve(task)
        assert traj.cells == ((0, 0),) and traj.gave_up, name
    assert make_agent("bfs").solve_batch([task])[0].gave_up


def test_random_fork_never_backtracks_and_stops_only_at_dead_ends():
    for task in random_tasks("dfs", 30, seed=2) + random_tasks("percolation", 30, seed=2):
        traj = make_agent("random_fork:seed=4").solve(task)
        assert legal(task.maze, traj.cells)
        assert len(set(traj.cells)) == len(traj.cells)  # never re-enters a cell
        if traj.gave_up:  # only at a dead end: every neighbour already visited
            assert set(task.maze.neighbors(traj.cells[-1])) <= set(traj.cells)


def test_random_fork_success_rate_on_one_fork_is_a_half():
    task = Task.from_ascii(FORK)
    assert random_fork_success_probability(task.maze, task.origin, task.target) == 0.5
    wins = sum(not make_agent("random_fork", seed=s).solve(task).gave_up for s in range(400))
    assert 160 <= wins <= 240  # Binomial(400, 1/2): mean 200, sd 10
    loser = next(make_agent("random_fork", seed=s).solve(task) for s in range(400)
                 if make_agent("random_fork", seed=s).solve(task).gave_up)  # fmt: skip
    assert loser.cells == ((0, 0), (1, 0), (1, 1), (2, 1), (2, 0)) and loser.extra["forks"] == 1


def test_random_fork_probability_is_the_product_over_forks():
    task = Task.from_ascii(LURE)  # loops: sum over self-avoiding walks
    # S->(1,0) forced; at (1,0): (2,0) dead end (p 1/2 lost) or (1,1); at (1,1): up or down,
    # both reach E (up: (0,1),(0,2),(1,2),(2,2) then forks right->E or left->(2,1) dead end);
    # down: (2,1),(2,2) then right->E or up->(1,2),(0,2),(0,1) dead end. So 1/2 * (1/2 + 1/2) / 2.
    p = random_fork_success_probability(task.maze, task.origin, task.target)
    assert p == pytest.approx(0.5 * (0.5 * 0.5 + 0.5 * 0.5))


def test_random_walk_respects_max_steps():
    task = Task.from_ascii(FORK)
    traj = make_agent("random_walk:max_steps=3").solve(task)
    assert len(traj.cells) - 1 <= 3 and traj.gave_up and legal(task.maze, traj.cells)
    assert not make_agent("random_walk").solve(task).gave_up  # 120 moves suffice here


@pytest.mark.parametrize("name", ["random_fork", "random_walk", "mcts"])
def test_randomised_agents_are_deterministic_and_order_free(name):
    tasks = random_tasks("dfs", 8, shape=(5, 5), seed=9)
    spec = name if name != "mcts" else "mcts:simulations=20"
    first = [t.cells for t in make_agent(spec).solve_batch(tasks)]
    again = [t.cells for t in make_agent(spec).solve_batch(tasks[::-1])][::-1]
    assert first == again
    other = [t.cells for t in make_agent(spec, seed=1).solve_batch(tasks)]
    assert other != first or name == "mcts"  # a new seed changes some walks


def test_pure_search_functions_on_any_graph():
    graph = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}
    res = depth_first_search("a", "d", neighbors_fn=graph.__getitem__)
    assert res.path == ("a", "b", "d") and res.nodes_expanded == 2
    res = greedy_best_first(
        "a", "d", neighbors_fn=graph.__getitem__, heuristic_fn=lambda n, g: {"c": 0}.get(n, 1)
    )
    assert res.path == ("a", "c", "d")
    assert (
        a_star("a", "z", neighbors_fn=lambda n: graph.get(n, []), heuristic_fn=lambda n, g: 0).path
        is None
    )


def test_make_agent_parses_parameters_and_names():
    agent = make_agent("mcts:simulations=50,c_uct=2.0")
    assert agent.simulations == 50 and agent.c_uct == 2.0
    assert agent.name == "mcts(simulations=50, c_uct=2.0)"
    assert (
        make_agent("mcts").name == "mcts"
        and make_agent("random_fork:seed=3").name == "random_fork(seed=3)"
    )


def test_errors_name_what_is_allowed():
    with pytest.raises(ValueError, match="known: .*astar.*bfs.*mcts"):
        make_agent("bogus")
    with pytest.raises(ValueError, match="bad parameters for agent 'bfs'"):
        make_agent("bfs:depth=3")
    with pytest.raises(ValueError, match="simulations must be a positive int"):
        make_agent("mcts:simulations=0")
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        make_agent("random_fork:seed=-1")
    with pytest.raises(TypeError):
        AStarAgent(lambda c, t: 0)  # type: ignore[misc]  (keyword-only)


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(16, 16), (5, 31)])
def test_astar_kernel_matches_pure_function_on_big_mazes(shape):
    for generator in ("dfs", "percolation", "open_field_obstacle"):
        tasks = random_tasks(generator, 300, shape=shape, seed=8)
        for task, traj in zip(tasks, AStarAgent().solve_batch(tasks), strict=True):
            result = a_star(task.origin, task.target, neighbors_fn=maze_neighbors_fn(task.maze))
            assert traj.cells == (result.path or (task.origin,))
            assert traj.nodes_expanded == result.nodes_expanded

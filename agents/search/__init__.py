"""Search agents: ``bfs``, ``astar``, ``dfs``, ``greedy``, ``random_fork``, ``random_walk``, ``mcts``.

Importing this package registers them in :data:`agents.base.AGENTS`. The search algorithms are
pure functions (:mod:`agents.search.graph`, :func:`agents.search.mcts.mcts_search`) that take what
is maze- or model-specific as arguments (``neighbors_fn``, ``heuristic_fn``, ``prior_fn``,
``value_fn``); the agent classes wrap them for :class:`~maze_env.Task` and time them.
"""

from __future__ import annotations

from agents.search.astar import AStarAgent
from agents.search.bfs import BFSAgent
from agents.search.graph import (
    SearchResult,
    a_star,
    depth_first_search,
    greedy_best_first,
    manhattan,
    maze_neighbors_fn,
)
from agents.search.mcts import MCTSAgent, SearchOutput, mcts_search
from agents.search.random_agents import (
    RandomForkAgent,
    RandomWalkAgent,
    random_fork_success_probability,
    random_fork_walk,
)
from agents.search.simple import DFSAgent, GreedyAgent

__all__ = [
    "AStarAgent",
    "BFSAgent",
    "DFSAgent",
    "GreedyAgent",
    "MCTSAgent",
    "RandomForkAgent",
    "RandomWalkAgent",
    "SearchOutput",
    "SearchResult",
    "a_star",
    "depth_first_search",
    "greedy_best_first",
    "manhattan",
    "maze_neighbors_fn",
    "mcts_search",
    "random_fork_success_probability",
    "random_fork_walk",
]

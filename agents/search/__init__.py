"""Search agents: ``bfs``, ``astar``, ``dfs``, ``greedy``, ``random_fork``, ``random_walk``, ``mcts``.

They are registered by entry point in :mod:`agents.registry` (importing this package is not
needed to build them: ``make_agent("astar")`` imports its module). The search algorithms are
pure functions (:mod:`agents.search.graph`, :func:`agents.search.mcts.mcts_search`) that take what
is maze- or model-specific as arguments (``neighbors_fn``, ``heuristic_fn``, ``prior_fn``,
``value_fn``); the agent classes wrap them for :class:`~maze_env.Task` and time them.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "AStarAgent": "astar",
    "BFSAgent": "bfs",
    "SearchResult": "graph",
    "a_star": "graph",
    "depth_first_search": "graph",
    "greedy_best_first": "graph",
    "manhattan": "graph",
    "maze_neighbors_fn": "graph",
    "MCTSAgent": "mcts",
    "SearchOutput": "mcts",
    "mcts_search": "mcts",
    "RandomForkAgent": "random_agents",
    "RandomWalkAgent": "random_agents",
    "random_fork_success_probability": "random_agents",
    "random_fork_walk": "random_agents",
    "DFSAgent": "simple",
    "GreedyAgent": "simple",
}
"""Public name -> the submodule defining it. Imported on first access (PEP 562), so importing
one search module (e.g. ``agents.search.graph`` for the metrics) does not compile them all."""

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'agents.search' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agents.search.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))

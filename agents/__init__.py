"""agents: the Agent protocol, search agents, and the comparison harness.

``import agents`` registers the built-in search agents (numpy and numba only; the transformer and
RL agents register from their own subpackages, which import torch / stable-baselines3 only when
imported). Build any agent by name with :func:`agents.base.make_agent`.
"""

from __future__ import annotations

from agents import search  # noqa: F401  (registers bfs, astar, dfs, greedy, random_fork, random_walk, mcts)
from agents.base import AGENTS, Agent, BaseAgent, Trajectory, make_agent, register_agent

__all__ = ["AGENTS", "Agent", "BaseAgent", "Trajectory", "make_agent", "register_agent"]

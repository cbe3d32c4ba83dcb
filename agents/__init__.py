"""agents: the Agent protocol, the agent registry, search agents, and the comparison harness.

``import agents`` imports no agent module: agents are registered as lazy
``"package.module:factory"`` entry points (:mod:`agents.registry`), so torch and
stable-baselines3 are imported only when a learned agent is built. Build any agent by name with
:func:`make_agent` (``make_agent("mcts:simulations=200")``); register your own with
``register_agent("mine", "my_package.agents:MyAgent")``.
"""

from __future__ import annotations

from agents.base import Agent, BaseAgent, Trajectory
from agents.registry import (
    AGENTS,
    AgentImportError,
    describe_parameters,
    make_agent,
    parse_agent_spec,
    register_agent,
)

__all__ = [
    "AGENTS",
    "Agent",
    "AgentImportError",
    "BaseAgent",
    "Trajectory",
    "describe_parameters",
    "make_agent",
    "parse_agent_spec",
    "register_agent",
]

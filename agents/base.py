"""The ``Agent`` protocol and ``Trajectory``; agents are registered and built by :mod:`agents.registry`.

An agent turns a :class:`~maze_env.Task` into a :class:`Trajectory`: the cells it visited in order
(starting at the origin), the actions between them, and what it cost. The harness judges every
trajectory by the same rules (:mod:`agents.harness.metrics`), so an agent never grades itself: it
may return an invalid path (through a wall, a jump), and that is counted, not raised.

Agents that hold a torch model set the class attribute ``start_method = "spawn"``: the harness
then starts its worker processes with the spawn method (a forked torch runtime can deadlock) and
builds the agent once per worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Protocol, runtime_checkable

from maze_env import Task
from maze_env.types import Coord


@dataclass(frozen=True)
class Trajectory:
    """What an agent did on one task.

    Attributes:
        cells: visited cells in order, starting at the origin; ``len(actions) + 1`` long when
            every step is a legal-looking move (an agent may emit a jump: then ``actions`` holds
            -1 for that step).
        actions: action ids (0 up, 1 right, 2 down, 3 left; -1 for a step that is no single move).
        nodes_expanded: search nodes expanded (0 for agents that do not search).
        forward_passes: network forward passes (0 for agents without a network).
        seconds: wall-clock seconds spent solving.
        gave_up: the agent stopped without claiming to reach the target (budget, dead end, ...).
        extra: agent-specific counters (JSON-serialisable).
    """

    cells: tuple[Coord, ...]
    actions: tuple[int, ...] = ()
    nodes_expanded: int = 0
    forward_passes: int = 0
    seconds: float = 0.0
    gave_up: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_cells(cls, cells: Sequence[Coord], **counters: Any) -> Trajectory:
        """Build a trajectory from cells, deriving actions (-1 where two cells are not adjacent)."""
        from maze_env.types import action_between

        cells = tuple((int(r), int(c)) for r, c in cells)
        actions = []
        for a, b in pairwise(cells):
            try:
                actions.append(int(action_between(a, b)))
            except ValueError:
                actions.append(-1)
        return cls(cells=cells, actions=tuple(actions), **counters)

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": [list(c) for c in self.cells],
            "actions": list(self.actions),
            "nodes_expanded": self.nodes_expanded,
            "forward_passes": self.forward_passes,
            "seconds": self.seconds,
            "gave_up": self.gave_up,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Trajectory:
        return cls(
            cells=tuple((int(r), int(c)) for r, c in data["cells"]),
            actions=tuple(int(a) for a in data["actions"]),
            nodes_expanded=int(data.get("nodes_expanded", 0)),
            forward_passes=int(data.get("forward_passes", 0)),
            seconds=float(data.get("seconds", 0.0)),
            gave_up=bool(data.get("gave_up", False)),
            extra=dict(data.get("extra", {})),
        )


@runtime_checkable
class Agent(Protocol):
    """Anything with a ``name`` and ``solve(task) -> Trajectory``; ``solve_batch`` where batching pays."""

    name: str

    def solve(self, task: Task) -> Trajectory: ...

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]: ...


class BaseAgent:
    """Convenience base: ``solve_batch`` loops over ``solve``; ``timed`` fills ``seconds``."""

    name: str = "agent"

    def solve(self, task: Task) -> Trajectory:
        raise NotImplementedError

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        return [self.solve(t) for t in tasks]

    @staticmethod
    def timed(fn: Callable[[], Trajectory]) -> Trajectory:
        """Run ``fn`` and return its trajectory with ``seconds`` set to the wall time it took."""
        import dataclasses

        t0 = time.perf_counter()
        traj = fn()
        return dataclasses.replace(traj, seconds=time.perf_counter() - t0)


__all__ = ["Agent", "BaseAgent", "Trajectory"]

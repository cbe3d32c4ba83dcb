"""Graph search as pure functions: what is maze-specific is passed in.

Each function takes the start and goal nodes and, keyword-only, a ``neighbors_fn(node) ->
Sequence[node]`` (and a ``heuristic_fn(node, goal) -> float`` where it ranks nodes). Nodes are any
hashable values; on a maze they are ``(row, col)`` cells and :func:`maze_neighbors_fn` builds the
neighbour function (action order: up, right, down, left). Every function returns a frozen
:class:`SearchResult` with the path found and its counters, in the manner of mctx's search
functions. Breadth-first search lives in :mod:`maze_env.solve` (the one home for BFS).

Tie-breaking is part of each contract, so results are reproducible and the numba fast path of
:mod:`agents.search._kernels` can return exactly the same path and counters as :func:`a_star`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from maze_env import Maze
from maze_env.types import Coord

NeighborsFn = Callable[[Any], Sequence[Any]]
"""``neighbors_fn(node) -> nodes`` one move away, in a fixed order (the order breaks ties)."""

HeuristicFn = Callable[[Any, Any], float]
"""``heuristic_fn(node, goal) -> float``: an estimate of the moves left (admissible for A*)."""


@dataclass(frozen=True)
class SearchResult:
    """What a graph search found.

    Attributes:
        path: nodes from start to goal, both included; ``None`` if the goal was not found.
        nodes_expanded: nodes whose neighbours were generated (the goal itself is never expanded).
        nodes_generated: neighbour nodes produced (pushed on the frontier), start included.
    """

    path: tuple[Any, ...] | None
    nodes_expanded: int
    nodes_generated: int

    @property
    def found(self) -> bool:
        return self.path is not None


def manhattan(a: Coord, b: Coord) -> int:
    """``|r_a - r_b| + |c_a - c_b|``: admissible and consistent for unit moves on a lattice."""
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


def maze_neighbors_fn(maze: Maze) -> Callable[[Coord], list[Coord]]:
    """The neighbour function of ``maze``: open moves from a cell, in action order.

    Reads ``maze.open_moves()`` once into Python lists, so each call costs a few list lookups.
    """
    moves = maze.open_moves().tolist()

    def neighbors(cell: Coord) -> list[Coord]:
        r, c = cell
        up, right, down, left = moves[r][c]
        out = []
        if up:
            out.append((r - 1, c))
        if right:
            out.append((r, c + 1))
        if down:
            out.append((r + 1, c))
        if left:
            out.append((r, c - 1))
        return out

    return neighbors


def _unwind(parent: dict[Hashable, Hashable], goal: Hashable) -> tuple[Any, ...]:
    path = [goal]
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])
    return tuple(reversed(path))


def a_star(
    start: Hashable,
    goal: Hashable,
    *,
    neighbors_fn: NeighborsFn,
    heuristic_fn: HeuristicFn = manhattan,
) -> SearchResult:
    """A* search (Hart, Nilsson & Raphael 1968) with unit move costs and a binary heap.

    The frontier is ordered by ``(f, h, n)``: lowest ``f = g + h`` first; among equal ``f`` the
    node nearer the goal by the heuristic (deeper, so ties resolve towards the goal); then the
    order of insertion ``n`` (first generated, first expanded). A node is pushed again whenever a
    cheaper path to it is found, and stale heap entries are skipped when popped, so the result is
    optimal for any admissible heuristic (consistent ones, like :func:`manhattan`, expand each
    node at most once). The goal test is on pop.

    Args:
        start: the start node.
        goal: the goal node.
        neighbors_fn: nodes one move away, in a fixed order.
        heuristic_fn: ``h(node, goal)``; :func:`manhattan` by default.

    Returns:
        A shortest path (for an admissible heuristic) and the counters.
    """
    h0 = heuristic_fn(start, goal)
    heap: list[tuple[Any, Any, int, Hashable, int]] = [(h0, h0, 0, start, 0)]
    best_g: dict[Hashable, int] = {start: 0}
    parent: dict[Hashable, Hashable] = {start: None}
    counter, expanded = 1, 0
    while heap:
        _, _, _, node, g = heapq.heappop(heap)
        if g > best_g[node]:
            continue  # stale: a cheaper path to node was found after this entry was pushed
        if node == goal:
            return SearchResult(_unwind(parent, goal), expanded, counter)
        expanded += 1
        for nb in neighbors_fn(node):
            g_nb = g + 1
            if g_nb < best_g.get(nb, g_nb + 1):
                best_g[nb] = g_nb
                parent[nb] = node
                h = heuristic_fn(nb, goal)
                heapq.heappush(heap, (g_nb + h, h, counter, nb, g_nb))
                counter += 1
    return SearchResult(None, expanded, counter)


def greedy_best_first(
    start: Hashable,
    goal: Hashable,
    *,
    neighbors_fn: NeighborsFn,
    heuristic_fn: HeuristicFn = manhattan,
) -> SearchResult:
    """Greedy best-first search: always expand the frontier node that looks closest to the goal.

    The frontier is ordered by ``(h, n)`` (heuristic, then insertion order). A node's parent is
    fixed when it is first generated and it is never re-opened, so the path is found quickly but
    need not be shortest. The goal test is on pop.

    Args:
        start: the start node.
        goal: the goal node.
        neighbors_fn: nodes one move away, in a fixed order.
        heuristic_fn: ``h(node, goal)``; :func:`manhattan` by default.

    Returns:
        The path found (not necessarily shortest) and the counters.
    """
    heap: list[tuple[Any, int, Hashable]] = [(heuristic_fn(start, goal), 0, start)]
    parent: dict[Hashable, Hashable] = {start: None}
    counter, expanded = 1, 0
    while heap:
        _, _, node = heapq.heappop(heap)
        if node == goal:
            return SearchResult(_unwind(parent, goal), expanded, counter)
        expanded += 1
        for nb in neighbors_fn(node):
            if nb not in parent:
                parent[nb] = node
                heapq.heappush(heap, (heuristic_fn(nb, goal), counter, nb))
                counter += 1
    return SearchResult(None, expanded, counter)


def depth_first_search(
    start: Hashable, goal: Hashable, *, neighbors_fn: NeighborsFn
) -> SearchResult:
    """Depth-first search with an explicit stack; finds a path, not the shortest.

    Neighbours are explored in ``neighbors_fn`` order (the first one first: they are pushed in
    reverse). A node is expanded once, when first popped; its parent is the node whose stack entry
    was popped, so the returned path is the branch of the DFS tree from start to goal (a simple
    path), not the order in which the search wandered.

    Args:
        start: the start node.
        goal: the goal node.
        neighbors_fn: nodes one move away, in a fixed order.

    Returns:
        The path found and the counters.
    """
    stack: list[tuple[Hashable, Hashable]] = [(start, None)]
    parent: dict[Hashable, Hashable] = {}
    generated, expanded = 1, 0
    while stack:
        node, came_from = stack.pop()
        if node in parent:
            continue
        parent[node] = came_from
        if node == goal:
            return SearchResult(_unwind(parent, goal), expanded, generated)
        expanded += 1
        for nb in reversed(neighbors_fn(node)):
            if nb not in parent:
                stack.append((nb, node))
                generated += 1
    return SearchResult(None, expanded, generated)

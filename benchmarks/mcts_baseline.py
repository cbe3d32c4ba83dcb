"""The pure-Python MCTS before batching (agents/search/mcts.py at commit c44c32d), kept as the
speed baseline of benchmarks/bench_mcts.py. Not registered as an agent; not used by the package.
Only the module docstring and the imports changed (the helpers it used are copied below, so later
edits to agents.search.common cannot change the baseline).

``mcts``: Monte Carlo tree search over the maze's moves, acting one step at a time.

At each real step the agent grows a fresh tree from its current cell with ``simulations``
simulations, then takes the root move visited most. A simulation selects moves down the tree,
adds one new node, evaluates it, and backs the discounted return up the path:

* reward 1 for entering the target (which ends the episode), 0 otherwise; returns are discounted
  by ``discount`` per move, so shorter routes score higher;
* selection is UCT (Kocsis & Szepesvari 2006), ``Q + c * sqrt(ln N / n)`` with unvisited moves
  first, or, when a ``prior_fn`` is given, PUCT as in AlphaZero/mctx,
  ``Q + c * P(a) * sqrt(N) / (1 + n)`` with ``Q = 0`` for unvisited moves; ties go to the higher
  prior, then to action order (up, right, down, left). ``Q`` is min-max normalised over the
  visited siblings (as MuZero and mctx's ``qtransform_by_min_max`` do): returns in a large maze
  are small (a rollout rarely finds the target), and unnormalised they would be drowned by the
  exploration term, so a confident but wrong prior would never be overruled;
* a simulation's path never enters a cell twice: below the root, moves back onto the
  simulation's own path are not legal (a node with no other move is a dead end, worth 0). So a
  detour into a dead branch is worth 0, not just a discounted copy of the way back out;
* a node with no legal move (not the target), or whose every move leads to such nodes, is proven
  dead (as in MCTS-Solver, Winands, Bjornsson & Saito 2008) and never selected again, so no
  simulation is wasted on a dead end already explored, however strongly a prior points there;
* a new node is evaluated by ``value_fn`` when given, else by a random rollout: a walk of at most
  ``rollout_depth`` moves, uniform among the moves to cells neither on the simulation's path nor
  visited by the rollout, scoring ``discount ** (k - 1)`` if it enters the target on move ``k``
  and 0 otherwise. In a perfect maze such a rollout explores exactly the part of the maze beyond
  the node, so it never rewards a move into a dead branch.

The real move is the root move not proven dead with the most visits; ties go to the higher
value, then to a cell the agent has not stood on yet, then to action order. A cell with one open move (a dead end) is left
without searching. The tree is not reused between steps.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.base import BaseAgent, Trajectory
from maze_env import Task
from maze_env.types import Coord

_ACTION_OF_DELTA: dict[tuple[int, int], int] = {(-1, 0): 0, (0, 1): 1, (1, 0): 2, (0, -1): 3}


def check_positive(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return seed


def format_name(base: str, params: dict[str, Any], defaults: dict[str, Any]) -> str:
    changed = [f"{k}={v!r}" for k, v in params.items() if k in defaults and v != defaults[k]]
    return f"{base}({', '.join(changed)})" if changed else base


def task_random(seed: int, task: Task) -> random.Random:
    text = f"{int(seed)}|{task.maze.content_hash()}|{task.origin}|{task.target}"
    return random.Random(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little"))


def make_trajectory(cells: Sequence[Coord], **counters: Any) -> Trajectory:
    return Trajectory.from_cells(cells, **counters)


def maze_neighbors_fn(maze: Any) -> Callable[[Coord], list[Coord]]:
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


PriorFn = Callable[[Task, Coord, Sequence[Coord]], Sequence[float]]
"""``prior_fn(task, cell, path) -> float[4]``: action probabilities (up, right, down, left) at
``cell``, given the path from the origin to it (both included). Illegal moves are masked out and
the rest renormalised (uniform if nothing legal has mass)."""

ValueFn = Callable[[Task, Coord, Sequence[Coord]], float]
"""``value_fn(task, cell, path) -> float``: the expected discounted return from ``cell`` (in [0, 1])."""


@dataclass(frozen=True)
class SearchOutput:
    """The result of one search from the agent's current cell.

    Attributes:
        action: the chosen action (0 up, 1 right, 2 down, 3 left).
        cell: the cell it leads to.
        visits: root visit count per action (0 for illegal moves).
        values: mean return per action (0.0 where unvisited).
        nodes_expanded: tree nodes added.
        forward_passes: ``prior_fn`` and ``value_fn`` calls.
        rollout_steps: moves made by rollouts.
    """

    action: int
    cell: Coord
    visits: tuple[int, ...]
    values: tuple[float, ...]
    nodes_expanded: int
    forward_passes: int
    rollout_steps: int


class _Tree:
    """Flat node storage: node ``i`` has a cell, a parent, four child slots and statistics."""

    def __init__(self, root: Coord) -> None:
        self.cell: list[Coord] = [root]
        self.parent: list[int] = [-1]
        self.children: list[list[int]] = [[-1, -1, -1, -1]]
        self.visits: list[int] = [0]
        self.value_sum: list[float] = [0.0]
        self.prior: list[list[float] | None] = [None]
        self.n_moves: list[int] = [-1]  # legal moves below this node (-1: not computed yet)
        self.dead: list[bool] = [False]  # proven: no way to the target from here

    def add(self, cell: Coord, parent: int, action: int) -> int:
        self.cell.append(cell)
        self.parent.append(parent)
        self.children.append([-1, -1, -1, -1])
        self.visits.append(0)
        self.value_sum.append(0.0)
        self.prior.append(None)
        self.n_moves.append(-1)
        self.dead.append(False)
        node = len(self.cell) - 1
        self.children[parent][action] = node
        return node

    def mark_dead(self, node: int) -> None:
        """Mark ``node`` dead, then every ancestor all of whose moves lead to dead nodes."""
        while node >= 0 and not self.dead[node]:
            self.dead[node] = True
            node = self.parent[node]
            if (
                node < 0
                or sum(k >= 0 and self.dead[k] for k in self.children[node]) < self.n_moves[node]
            ):
                break

    def q(self, node: int) -> float:
        return self.value_sum[node] / self.visits[node] if node >= 0 and self.visits[node] else 0.0


def _legal(cell: Coord, neighbors_fn: Callable[[Coord], list[Coord]]) -> list[tuple[int, Coord]]:
    r, c = cell
    return [(_ACTION_OF_DELTA[(nb[0] - r, nb[1] - c)], nb) for nb in neighbors_fn(cell)]


def _normalised_prior(
    raw: Sequence[float], legal: list[tuple[int, Coord]], mix: float
) -> list[float]:
    """Mask ``raw`` to the legal moves, renormalise, and mix in ``mix`` of the uniform prior."""
    prior = [0.0] * 4
    for a, _ in legal:
        value = float(raw[a])
        prior[a] = value if math.isfinite(value) and value > 0 else 0.0
    total = sum(prior)
    uniform = 1.0 / len(legal)
    for a, _ in legal:
        prior[a] = (1.0 - mix) * (prior[a] / total if total > 0 else uniform) + mix * uniform
    return prior


def _rollout(
    cell: Coord, visited: set[Coord], target: Coord, *, neighbors_fn: Callable[[Coord], list[Coord]],
    depth: int, discount: float, rng: random.Random,
) -> tuple[float, int]:  # fmt: skip
    """Random walk from ``cell`` avoiding ``visited`` (updated in place) and its own cells.

    Returns ``(discounted return, moves made)``.
    """
    for k in range(1, depth + 1):
        options = [nb for nb in neighbors_fn(cell) if nb not in visited]
        if not options:
            return 0.0, k - 1
        cell = options[rng.randrange(len(options))] if len(options) > 1 else options[0]
        if cell == target:
            return discount ** (k - 1), k
        visited.add(cell)
    return 0.0, depth


def mcts_search(
    task: Task,
    cell: Coord,
    path: Sequence[Coord],
    *,
    neighbors_fn: Callable[[Coord], list[Coord]],
    rng: random.Random,
    simulations: int = 100,
    c_uct: float = 1.4,
    discount: float = 0.95,
    rollout_depth: int = 100,
    prior_fn: PriorFn | None = None,
    value_fn: ValueFn | None = None,
    prior_mix: float = 0.0,
) -> SearchOutput:
    """Grow a tree from ``cell`` with ``simulations`` simulations and pick the move to make.

    A pure function of its arguments (all randomness comes from ``rng``); see the module docstring
    for the rules. ``cell`` must have at least one open move and differ from ``task.target``.

    Args:
        task: the task (passed on to ``prior_fn`` / ``value_fn``; its target ends episodes).
        cell: the agent's current cell (the root).
        path: the real path so far, from the origin to ``cell`` (both included).
        neighbors_fn: open moves from a cell, in action order.
        rng: the random stream for rollouts.
        simulations: simulations to run.
        c_uct: exploration constant of UCT / PUCT.
        discount: per-move discount of the return.
        rollout_depth: most moves per rollout.
        prior_fn: action probabilities for PUCT; ``None`` selects by UCT.
        value_fn: leaf evaluation instead of rollouts.
        prior_mix: weight of the uniform distribution mixed into the prior, in [0, 1].

    Returns:
        The chosen move with the root statistics and counters.
    """
    tree, target = _Tree(cell), task.target
    forward = rollout_steps = 0
    for _ in range(simulations):
        node, cells, on_path = 0, list(path), {cell}
        while True:  # selection: descend until a new node is added or the target is met
            here = tree.cell[node]
            if here == target:
                leaf_value, new = 0.0, node
                break
            legal = [(a, nb) for a, nb in _legal(here, neighbors_fn) if nb not in on_path]
            tree.n_moves[node] = len(legal)
            kids = tree.children[node]
            legal = [(a, nb) for a, nb in legal if kids[a] < 0 or not tree.dead[kids[a]]]
            if not legal:  # boxed in, or every move proven dead: this node is dead too
                tree.mark_dead(node)
                leaf_value, new = 0.0, node
                break
            if prior_fn is not None and tree.prior[node] is None:
                raw = prior_fn(task, here, tuple(cells))
                tree.prior[node] = _normalised_prior(raw, legal, prior_mix)
                forward += 1
            action, nb = _select(tree, node, legal, c_uct)
            cells.append(nb)
            on_path.add(nb)
            child = tree.children[node][action]
            if child < 0:
                new = tree.add(nb, node, action)
                if nb == target:
                    leaf_value = 0.0
                elif value_fn is not None:
                    leaf_value = float(value_fn(task, nb, tuple(cells)))
                    forward += 1
                else:
                    leaf_value, steps = _rollout(
                        nb,
                        on_path,
                        target,
                        neighbors_fn=neighbors_fn,
                        depth=rollout_depth,
                        discount=discount,
                        rng=rng,
                    )
                    rollout_steps += steps
                break
            node = child
        _backup(tree, new, leaf_value, target, discount)
    return _decide(tree, path, neighbors_fn, forward, rollout_steps)


def _select(
    tree: _Tree, node: int, legal: list[tuple[int, Coord]], c_uct: float
) -> tuple[int, Coord]:
    kids, prior = tree.children[node], tree.prior[node]
    n_parent = tree.visits[node]
    qs = [tree.q(kids[a]) for a, _ in legal if kids[a] >= 0 and tree.visits[kids[a]]]
    lo, hi = (min(qs), max(qs)) if qs else (0.0, 0.0)
    scale = 1.0 / (hi - lo) if hi - lo > 1e-9 else 0.0
    best, best_key = legal[0], (-math.inf, -math.inf)
    for a, nb in legal:
        child = kids[a]
        n = tree.visits[child] if child >= 0 else 0
        q = (tree.q(child) - lo) * scale if n else 0.0  # min-max over visited siblings
        if prior is None:
            score = math.inf if n == 0 else q + c_uct * math.sqrt(math.log(max(n_parent, 1)) / n)
            key = (score, 0.0)
        else:
            score = q + c_uct * prior[a] * math.sqrt(max(n_parent, 1)) / (1 + n)
            key = (score, prior[a])
        if key > best_key:  # strict: the earlier action wins a full tie
            best, best_key = (a, nb), key
    return best


def _backup(tree: _Tree, node: int, leaf_value: float, target: Coord, discount: float) -> None:
    """Add the return to every node from ``node`` up to the root (rewards for entering the target)."""
    ret = leaf_value
    while node >= 0:
        if node > 0:
            ret = (1.0 if tree.cell[node] == target else 0.0) + discount * ret
        tree.visits[node] += 1
        tree.value_sum[node] += ret
        node = tree.parent[node]


def _decide(
    tree: _Tree,
    path: Sequence[Coord],
    neighbors_fn: Callable[[Coord], list[Coord]],
    forward: int,
    rollout_steps: int,
) -> SearchOutput:
    seen = set(path)
    legal = _legal(tree.cell[0], neighbors_fn)
    visits = [0] * 4
    values = [0.0] * 4
    for a, _ in legal:
        child = tree.children[0][a]
        visits[a] = tree.visits[child] if child >= 0 else 0
        values[a] = tree.q(child)
    kids, dead = tree.children[0], tree.dead

    def rank(an: tuple[int, Coord]) -> tuple[bool, int, float, bool, int]:
        a, nb = an
        return (kids[a] < 0 or not dead[kids[a]], visits[a], values[a], nb not in seen, -a)

    action, cell = max(legal, key=rank)
    return SearchOutput(
        action, cell, tuple(visits), tuple(values), len(tree.cell) - 1, forward, rollout_steps
    )


class MCTSAgent(BaseAgent):
    """Monte Carlo tree search acting step by step (UCT, or PUCT with a ``prior_fn``).

    Args:
        simulations: simulations per real step (positive int).
        c_uct: exploration constant (UCT and PUCT).
        discount: per-move discount in (0, 1].
        rollout_depth: most moves per rollout; ``None`` is ``rows * cols``.
        max_steps: most real moves; ``None`` is ``4 * rows * cols``.
        seed: non-negative int; with the task's content it fixes every rollout.
        prior_fn: ``prior_fn(task, cell, path) -> float[4]`` for PUCT (e.g. a learned policy).
        value_fn: ``value_fn(task, cell, path) -> float`` to evaluate leaves instead of rollouts.
        prior_mix: weight in [0, 1] of the uniform distribution mixed into the prior (a hedge
            against a confident, wrong policy; 0 trusts the prior as given).

    Counters: ``nodes_expanded`` sums tree nodes added over all steps, ``forward_passes`` the
    ``prior_fn``/``value_fn`` calls; ``extra`` holds ``simulations`` and ``rollout_steps``.
    """

    DEFAULTS: dict[str, Any] = dict(
        simulations=100, c_uct=1.4, discount=0.95, rollout_depth=None, max_steps=None, seed=0,
        prior_fn=None, value_fn=None, prior_mix=0.0,
    )  # fmt: skip

    def __init__(
        self,
        *,
        simulations: int = 100,
        c_uct: float = 1.4,
        discount: float = 0.95,
        rollout_depth: int | None = None,
        max_steps: int | None = None,
        seed: int = 0,
        prior_fn: PriorFn | None = None,
        value_fn: ValueFn | None = None,
        prior_mix: float = 0.0,
    ) -> None:
        check_positive("simulations", simulations)
        check_positive("rollout_depth", rollout_depth, allow_none=True)
        check_positive("max_steps", max_steps, allow_none=True)
        for what, value, ok, allowed in (
            ("c_uct", c_uct, lambda v: v >= 0, "a non-negative number"),
            ("discount", discount, lambda v: 0 < v <= 1, "a number in (0, 1]"),
            ("prior_mix", prior_mix, lambda v: 0 <= v <= 1, "a number in [0, 1]"),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
                raise ValueError(f"{what} must be {allowed}, got {value!r}")
        for what, fn in (("prior_fn", prior_fn), ("value_fn", value_fn)):
            if fn is not None and not callable(fn):
                raise ValueError(
                    f"{what} must be a callable (task, cell, path) or None, got {fn!r}"
                )
        self.simulations, self.c_uct, self.discount = simulations, float(c_uct), float(discount)
        self.rollout_depth, self.max_steps, self.seed = rollout_depth, max_steps, check_seed(seed)
        self.prior_fn, self.value_fn, self.prior_mix = prior_fn, value_fn, float(prior_mix)
        params = dict(simulations=simulations, c_uct=c_uct, discount=discount, rollout_depth=rollout_depth,
                      max_steps=max_steps, seed=seed, prior_fn=prior_fn, value_fn=value_fn, prior_mix=prior_mix)  # fmt: skip
        self.name = format_name("mcts", params, self.DEFAULTS)

    def solve(self, task: Task) -> Trajectory:
        t0 = time.perf_counter()
        rng, neighbors = task_random(self.seed, task), maze_neighbors_fn(task.maze)
        depth = self.rollout_depth or task.maze.n_cells
        limit = self.max_steps or 4 * task.maze.n_cells
        cells, nodes, forward, rollout_steps, sims = [task.origin], 0, 0, 0, 0
        while cells[-1] != task.target and len(cells) <= limit:
            options = neighbors(cells[-1])
            if len(options) <= 1:  # a dead end (or a cell with no move): nothing to decide
                if not options:
                    break
                cells.append(options[0])
                continue
            out = mcts_search(
                task, cells[-1], cells, neighbors_fn=neighbors, rng=rng, simulations=self.simulations,
                c_uct=self.c_uct, discount=self.discount, rollout_depth=depth,
                prior_fn=self.prior_fn, value_fn=self.value_fn, prior_mix=self.prior_mix,
            )  # fmt: skip
            cells.append(out.cell)
            nodes, forward = nodes + out.nodes_expanded, forward + out.forward_passes
            rollout_steps, sims = rollout_steps + out.rollout_steps, sims + self.simulations
        return make_trajectory(
            cells,
            nodes_expanded=nodes,
            forward_passes=forward,
            seconds=time.perf_counter() - t0,
            gave_up=cells[-1] != task.target,
            extra={"simulations": sims, "rollout_steps": rollout_steps},
        )

"""``mcts``: batched Monte Carlo tree search over the maze's moves, acting one step at a time.

At each real step every task of a batch grows a tree from its current cell with ``simulations``
simulations (all tasks in lockstep, as mctx does), then takes a root move (with
``simulations_per_cell``, ``max(simulations, ceil(simulations_per_cell * R * C))`` on an R x C
maze: a budget that grows with the maze). A simulation selects moves down the tree, adds one new
node, evaluates it, and backs the discounted return up the path:

* reward 1 for entering the target (which ends the episode), 0 otherwise; returns are discounted
  by ``discount`` per move, so shorter routes score higher;
* selection is UCT (Kocsis & Szepesvari 2006), ``Q + c * sqrt(ln N / n)`` with unvisited moves
  first, or, with a prior, PUCT as in AlphaZero/mctx, ``Q + c * P(a) * sqrt(N) / (1 + n)`` with
  ``Q = 0`` for unvisited moves; ties go to the higher prior, then to action order (up, right,
  down, left). ``Q`` is min-max normalised over the visited siblings (as MuZero and mctx's
  ``qtransform_by_min_max`` do): returns in a large maze are small (a rollout rarely finds the
  target), and unnormalised they would be drowned by the exploration term, so a confident but
  wrong prior would never be overruled. The prior at a node is renormalised over its legal moves;
* a simulation's path never enters a cell twice: below the root, moves back onto the
  simulation's own path are not legal (a node with no other move is a dead end, worth 0). So a
  detour into a dead branch is worth 0, not just a discounted copy of the way back out;
* a node with no legal move (not the target), or whose every move leads to such nodes, is proven
  dead (as in MCTS-Solver, Winands, Bjornsson & Saito 2008) when a simulation reaches it, and is
  never selected again, so no simulation is wasted on a dead end already explored, however
  strongly a prior points there;
* a new node is evaluated (``evaluate``) by ``value_fn``, by 0 (mctx's setting when there is no
  value), or by a random rollout: a walk of at most ``rollout_depth`` moves, uniform among the
  moves to cells neither on the simulation's path nor visited by the rollout, scoring
  ``discount ** (k - 1)`` if it enters the target on move ``k`` and 0 otherwise. In a perfect maze
  such a rollout explores exactly the part of the maze beyond the node. A rollout's random stream
  is a function of (seed, task, real move, simulation) only (splitmix64, see
  :mod:`agents.search._mcts_kernels`), so a result never depends on the batch around a task;
* ``root="gumbel"`` replaces selection at the root by Gumbel MuZero's (Danihelka et al. 2022,
  mctx's ``gumbel_muzero_policy``): Gumbel-top-k sampling of ``max_considered`` moves and
  sequential halving over them, scored by ``gumbel + logits + sigma(completed Q)``; the real move
  is the best-scoring among those visited most. This is what makes small budgets work with a prior.

The real move (``root="puct"``) is the root move not proven dead with the most visits; ties go to
the higher value, then to a cell the agent has not stood on yet, then to action order. A cell with
one open move (a dead end) is left without searching. With ``reuse=True`` the subtree below the
move made is kept as the next search's tree (dropped after a forced move out of a dead end).

Model calls are batched: ``prior_fn(tasks, cells, paths) -> float32[B, 4]`` and ``value_fn(tasks,
cells, paths) -> float32[B]`` are called at most once per simulation for the whole batch, on the
new leaves (and once per real step on the roots). ``prior=PATH`` loads them from a checkpoint
folder (:func:`agents.checkpoint.load_hooks`).
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numba
import numpy as np

from agents.base import BaseAgent, Trajectory
from agents.search import _mcts_kernels as K
from agents.search.common import (
    check_positive,
    check_seed,
    format_name,
    group_by_shape,
    make_trajectory,
    task_seed,
)
from maze_env import Task
from maze_env.types import Coord

PriorFn = Callable[[Sequence[Task], np.ndarray, Sequence[Sequence[Coord]]], np.ndarray]
"""``prior_fn(tasks, cells, paths) -> float32[B, 4]``: action probabilities (up, right, down,
left) at ``cells[b]`` (``int64[B, 2]``), given ``paths[b]``, the cells from the task's origin to
``cells[b]`` (both included). Illegal moves are masked out and the rest renormalised (uniform if
nothing legal has mass).

A ``prior_fn`` may carry ``prior_fn.reads(tasks) -> bool[B]``: False for a task it cannot read at
all (its answer would be uniform at every node, e.g. a maze too large for a transformer's
context). Those tasks are searched without calling it, by the compiled simulation loop with a
uniform prior: the same result as asking, without a Python round trip per simulation."""

ValueFn = Callable[[Sequence[Task], np.ndarray, Sequence[Sequence[Coord]]], np.ndarray]
"""``value_fn(tasks, cells, paths) -> float32[B]``: expected discounted return from ``cells[b]``
(in [0, 1])."""

EVALUATE = ("auto", "rollout", "zero", "value")
ROOTS = ("puct", "gumbel")


@dataclass(frozen=True)
class SearchOutput:
    """The result of one search from the agent's current cell.

    Attributes:
        action: the chosen action (0 up, 1 right, 2 down, 3 left).
        cell: the cell it leads to.
        visits: root visit count per action (0 for illegal moves).
        values: mean return per action (0.0 where unvisited).
        nodes_expanded: tree nodes added.
        forward_passes: rows passed to ``prior_fn`` and ``value_fn``.
        rollout_steps: moves made by rollouts.
    """

    action: int
    cell: Coord
    visits: tuple[int, ...]
    values: tuple[float, ...]
    nodes_expanded: int
    forward_passes: int
    rollout_steps: int


def _param(
    default: Any,
    doc: str,
    check: Callable[[str, Any], None],
    *,
    kernel: Callable[[Any], Any] | None = None,
    name_rank: int = 3,
) -> Any:
    """A field of :class:`MCTSParams`: its default, its one-line doc (with units), its check (raises
    ``ValueError`` naming the parameter and what is allowed), the conversion the kernels want
    (``kernel``, e.g. ``float``) and its place in the agent's name (``name_rank``: the name lists
    changed parameters by rank, then field order, which keeps the names already in results.json)."""
    meta = {"doc": doc, "check": check, "kernel": kernel, "name_rank": name_rank}
    return field(default=default, metadata=meta)


def _positive_int(allow_none: bool = False) -> Callable[[str, Any], None]:
    return lambda name, value: check_positive(name, value, allow_none=allow_none)


def _number(
    ok: Callable[[float], bool], allowed: str, allow_none: bool = False
) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if value is None and allow_none:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not ok(value):
            raise ValueError(f"{name} must be {allowed}, got {value!r}")

    return check


def _one_of(choices: tuple[str, ...]) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")

    return check


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")


def _hook(name: str, fn: Any) -> None:
    if fn is not None and not callable(fn):
        raise ValueError(f"{name} must be a callable (tasks, cells, paths) or None, got {fn!r}")


def _seed(name: str, value: Any) -> None:
    check_seed(value)


def _anything(name: str, value: Any) -> None:
    return None


@dataclass(frozen=True)
class MCTSParams:
    """Every parameter of :class:`MCTSAgent`, written once: type, default, doc, check.

    The agent's keyword arguments (and so the ``mcts:key=value`` specs and the parameter lists
    the command line prints), its ``name``, the defaults and the kernels' configuration are all
    derived from these fields. Values are kept as given (``c_uct=2`` stays an int, so the name
    reads ``mcts(c_uct=2)``); :meth:`kernel_config` converts them for the kernels.

    Notes on a few: ``steps_per_cell`` 4 leaves room to reach the target after detours; 1 stops a
    failing search once its path has more moves than the maze has cells (it has revisited one, so
    it cannot be a shortest path). ``stop_on_revisit`` gives the same exact rate as without, a
    lower reach rate, and a search that has gone wrong costs no more simulations. ``threads`` does
    not change the result; keep 1 when the harness runs one worker per core. ``max_considered`` is
    mctx's ``max_num_considered_actions``. ``prior`` picks the loader by ``meta.json``'s "kind".
    """

    simulations: int = _param(
        100, "simulations per real move (a positive int)", _positive_int(), name_rank=0
    )
    simulations_per_cell: float | None = _param(
        None,
        "simulations per maze cell: a move on an R x C maze gets max(simulations, "
        "ceil(simulations_per_cell * R * C)) simulations (a positive number; None: simulations)",
        _number(lambda v: v > 0, "a positive number or null", allow_none=True),
    )
    c_uct: float = _param(
        1.4, "exploration constant of UCT and PUCT (a non-negative number, no unit)",
        _number(lambda v: v >= 0, "a non-negative number"), kernel=float,
    )  # fmt: skip
    discount: float = _param(
        0.95, "discount per move, in (0, 1]", _number(lambda v: 0 < v <= 1, "a number in (0, 1]"),
        kernel=float,
    )  # fmt: skip
    rollout_depth: int | None = _param(
        None, "most moves per rollout (a positive int; None: rows * cols)", _positive_int(True)
    )
    max_steps: int | None = _param(
        None, "most real moves (a positive int; None: steps_per_cell * rows * cols, rounded up)",
        _positive_int(True),
    )  # fmt: skip
    steps_per_cell: float = _param(
        4.0, "real moves allowed per maze cell when max_steps is None (a positive number)",
        _number(lambda v: v > 0, "a positive number"), kernel=float,
    )  # fmt: skip
    stop_on_revisit: bool = _param(
        False, "give up as soon as the path stands on a cell a second time", _flag
    )
    seed: int = _param(
        0, "non-negative int; with the task's content it fixes every rollout and Gumbel draw",
        _seed, kernel=int,
    )  # fmt: skip
    prior_fn: PriorFn | None = _param(
        None, "batched prior_fn(tasks, cells, paths) -> float32[B, 4] for PUCT", _hook,
        name_rank=2,
    )  # fmt: skip
    value_fn: ValueFn | None = _param(
        None, "batched value_fn(tasks, cells, paths) -> float32[B] to evaluate leaves", _hook
    )
    prior_mix: float = _param(
        0.0, "weight in [0, 1] of the uniform distribution mixed into the prior",
        _number(lambda v: 0 <= v <= 1, "a number in [0, 1]"), kernel=float,
    )  # fmt: skip
    evaluate: str = _param(
        "auto", "leaf evaluation: rollout, zero, value (value_fn), or auto (value if there is a "
        "value_fn, else rollout)", _one_of(EVALUATE),
    )  # fmt: skip
    root: str = _param(
        "puct", "root rule: puct (most visited move) or gumbel (Gumbel MuZero's halving)",
        _one_of(ROOTS),
    )  # fmt: skip
    reuse: bool = _param(False, "keep the subtree below each move made for the next search", _flag)
    prior: str | None = _param(
        None, "a checkpoint folder whose model gives prior_fn / value_fn (agents.checkpoint."
        "load_hooks)", _anything, name_rank=1,
    )  # fmt: skip
    max_considered: int = _param(
        16, "Gumbel root: moves sampled without replacement (a positive int; at most 4 exist)",
        _positive_int(), kernel=lambda v: min(int(v), 4),
    )  # fmt: skip
    gumbel_scale: float = _param(
        1.0, "Gumbel root: scale of the noise (a non-negative number; 0: deterministic)",
        _number(lambda v: v >= 0, "a non-negative number"), kernel=float,
    )  # fmt: skip
    threads: int = _param(
        1, "numba threads sharing a batch's trees when no model is involved (a positive int)",
        _positive_int(), kernel=int,
    )  # fmt: skip

    def __post_init__(self) -> None:
        for f in fields(self):
            f.metadata["check"](f.name, getattr(self, f.name))
        if self.prior is not None and (self.prior_fn is not None or self.value_fn is not None):
            raise ValueError("give prior=PATH or prior_fn/value_fn, not both")
        if self.evaluate == "value" and self.value_fn is None and self.prior is None:
            raise ValueError(
                "evaluate=value needs a value_fn (or a prior=PATH model with a value head)"
            )

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{name: default}`` in field order."""
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def signature(cls) -> inspect.Signature:
        """The keyword-only signature ``MCTSAgent(*, simulations=100, ...)`` (what specs, the
        registry and ``--help`` read)."""
        kw = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [
                inspect.Parameter(f.name, kw, default=f.default, annotation=f.type)
                for f in fields(cls)
            ],
            return_annotation=None,
        )

    def name(self) -> str:
        """``"mcts(simulations=10, root='gumbel')"``: the parameters that differ from defaults."""
        order = sorted(fields(self), key=lambda f: f.metadata["name_rank"])  # stable: field order
        return format_name("mcts", {f.name: getattr(self, f.name) for f in order}, self.defaults())

    def kernel_config(self, prior_fn: PriorFn | None, value_fn: ValueFn | None) -> MCTSParams:
        """These parameters as the engine reads them: ``prior_fn`` / ``value_fn`` as resolved (from
        ``prior=PATH`` or as given), ``evaluate="auto"`` decided, numbers converted."""
        values = {f.name: f.metadata["kernel"](getattr(self, f.name))
                  for f in fields(self) if f.metadata["kernel"] is not None}  # fmt: skip
        evaluate = self.evaluate
        if evaluate == "auto":
            evaluate = "value" if value_fn is not None else "rollout"
        return replace(
            self, prior=None, prior_fn=prior_fn, value_fn=value_fn, evaluate=evaluate, **values
        )

    def for_maze(self, shape: tuple[int, int]) -> MCTSParams:
        """The kernel config for mazes of ``shape`` (R, C): ``simulations`` raised to
        ``ceil(simulations_per_cell * R * C)`` where that is more (rounded to 9 decimals first, so
        float noise such as ``0.1 * 100 = 10.000000000000002`` does not add a simulation)."""
        if self.simulations_per_cell is None:
            return self
        cells = int(shape[0]) * int(shape[1])
        grown = math.ceil(round(self.simulations_per_cell * cells, 9))
        return replace(self, simulations=max(self.simulations, grown), simulations_per_cell=None)


_Config = MCTSParams  # the engine's name for its (resolved) configuration


def _halving_table(max_considered: int, simulations: int) -> np.ndarray:
    """``int64[max_considered + 1, simulations]``: the visit count sequential halving considers at
    each root simulation, for each number of considered moves (mctx's ``seq_halving`` schedule)."""
    table = np.zeros((max_considered + 1, simulations), np.int64)
    for m in range(max_considered + 1):
        if m <= 1:
            table[m] = np.arange(simulations)
            continue
        log2max, seq, visits, considered = math.ceil(math.log2(m)), [], [0] * m, m
        while len(seq) < simulations:
            extra = max(1, int(simulations / (log2max * considered)))
            for _ in range(extra):
                seq.extend(visits[:considered])
                for i in range(considered):
                    visits[i] += 1
            considered = max(2, considered // 2)
        table[m] = seq[:simulations]
    return table


class _Forest:
    """The B trees, the mazes and the real paths of one batch, as arrays (see the kernel module)."""

    def __init__(self, tasks: Sequence[Task], cfg: _Config, limits: np.ndarray) -> None:
        self.tasks, self.cfg, n = list(tasks), cfg, len(tasks)
        self.cols = np.array([t.maze.shape[1] for t in tasks], np.int64)
        n_cells = max(t.maze.n_cells for t in tasks)
        self.nbr = np.full((n, n_cells, 4), -1, np.int64)
        for b, t in enumerate(tasks):
            rows, cols = t.maze.shape
            moves = t.maze.open_moves().reshape(-1, 4)
            flat = np.arange(rows * cols)
            for a, delta in enumerate((-cols, 1, cols, -1)):
                self.nbr[b, : rows * cols, a] = np.where(moves[:, a], flat + delta, -1)
        self.target = np.array([t.target[0] * t.maze.shape[1] + t.target[1] for t in tasks])
        self.seed = np.array([task_seed(cfg.seed, t) for t in tasks], np.uint64)
        self.depth = np.array([cfg.rollout_depth or t.maze.n_cells for t in tasks], np.int64)
        self.path = np.zeros((n, int(limits.max()) + 2), np.int64)
        self.path[:, 0] = [t.origin[0] * t.maze.shape[1] + t.origin[1] for t in tasks]
        self.length = np.ones(n, np.int64)
        self.on_real = np.zeros((n, n_cells), np.bool_)
        self.on_real[np.arange(n), self.path[:, 0]] = True
        self.mark, self.stamp = np.zeros((n, n_cells), np.int64), np.zeros(n, np.int64)
        self.gumbel = np.zeros((n, 4))
        self.sh_visits = np.zeros((n, 4), np.int64)
        self.n_considered = np.zeros(n, np.int64)
        self.raw_value = np.zeros(n)
        self.table = _halving_table(cfg.max_considered, cfg.simulations)
        self._alloc(cfg.simulations + 1)
        # counters per task
        self.nodes, self.forward = np.zeros(n, np.int64), np.zeros(n, np.int64)
        self.steps, self.sims = np.zeros(n, np.int64), np.zeros(n, np.int64)
        # tasks no prior informs: every task without a prior_fn, and those it cannot read
        # (uniform everywhere: the prior's zeros read as uniform)
        self.blind = np.full(n, cfg.prior_fn is None)
        reads = getattr(cfg.prior_fn, "reads", None)
        if reads is not None:
            self.blind = ~np.asarray(reads(self.tasks), np.bool_).reshape(n)

    def _alloc(self, m: int) -> None:
        n = len(self.tasks)
        self.cell = np.zeros((n, m), np.int64)
        self.parent = np.full((n, m), -1, np.int64)
        self.children = np.full((n, m, 4), -1, np.int64)
        self.visits = np.zeros((n, m), np.int64)
        self.value_sum = np.zeros((n, m))
        self.prior = np.zeros((n, m, 4))
        self.has_prior = np.zeros((n, m), np.bool_)
        self.dead = np.zeros((n, m), np.bool_)
        self.moves = np.zeros((n, m), np.int64)
        self.n_nodes = np.zeros(n, np.int64)

    def grow(self, need: int) -> None:
        """Make room for ``need`` nodes per tree (only tree reuse can need more than S + 1)."""
        m = self.cell.shape[1]
        if need <= m:
            return
        extra = max(need, 2 * m) - m
        for name, fill in (("cell", 0), ("parent", -1), ("children", -1), ("visits", 0),
                           ("value_sum", 0), ("prior", 0), ("has_prior", False), ("dead", False),
                           ("moves", 0)):  # fmt: skip
            old = getattr(self, name)
            pad = np.full((old.shape[0], extra, *old.shape[2:]), fill, old.dtype)
            setattr(self, name, np.concatenate([old, pad], axis=1))

    # -- model calls ----------------------------------------------------------------------------
    def coords(self, rows: np.ndarray, flat: np.ndarray) -> np.ndarray:
        """``int64[len(rows), 2]`` (row, col) of flat cells of tasks ``rows``."""
        cols = self.cols[rows]
        return np.stack([flat // cols, flat % cols], axis=1)

    def model_inputs(
        self, rows: np.ndarray, leaf: np.ndarray | None
    ) -> tuple[list[Task], np.ndarray, list[list[Coord]]]:
        """``(tasks, cells, paths)`` for the nodes ``leaf[rows]`` (the roots when ``leaf`` is None)."""
        tasks = [self.tasks[b] for b in rows]
        paths: list[list[Coord]] = []
        if leaf is None:
            ends = self.path[rows, self.length[rows] - 1]
            chain = np.zeros((len(rows), 0), np.int64)
            lens = np.zeros(len(rows), np.int64)
        else:
            chain = np.zeros((len(rows), int(self.n_nodes[rows].max())), np.int64)
            lens = np.zeros(len(rows), np.int64)
            K.chains(rows, leaf, self.parent, self.cell, chain, lens)
            ends = self.cell[rows, leaf[rows]]
        for i, b in enumerate(rows.tolist()):
            flat = np.concatenate([self.path[b, : self.length[b]], chain[i, : lens[i]]])
            cols = int(self.cols[b])
            paths.append(list(zip((flat // cols).tolist(), (flat % cols).tolist(), strict=True)))
        return tasks, self.coords(rows, ends), paths

    def set_priors(self, rows: np.ndarray, nodes: np.ndarray, leaf: np.ndarray | None) -> None:
        """Call ``prior_fn`` once on the nodes ``nodes[i]`` of trees ``rows[i]`` and store it."""
        if len(rows) == 0:
            return
        raw = np.asarray(self.cfg.prior_fn(*self.model_inputs(rows, leaf)), np.float64)
        if raw.shape != (len(rows), 4):
            raise ValueError(f"prior_fn must return float[{len(rows)}, 4], got shape {raw.shape}")
        raw = np.where(np.isfinite(raw) & (raw > 0), raw, 0.0)
        self.prior[rows, nodes] = raw
        self.has_prior[rows, nodes] = True
        self.forward[rows] += 1

    def values(self, rows: np.ndarray, leaf: np.ndarray | None) -> np.ndarray:
        """``value_fn`` on the nodes ``leaf[rows]`` (the roots when ``leaf`` is None): float64[len(rows)]."""
        out = np.asarray(self.cfg.value_fn(*self.model_inputs(rows, leaf)), np.float64)
        if out.shape != (len(rows),):
            raise ValueError(f"value_fn must return float[{len(rows)}], got shape {out.shape}")
        self.forward[rows] += 1
        return out

    # -- one search per active task ---------------------------------------------------------------
    def tree_args(self) -> tuple[Any, ...]:
        return (self.nbr, self.target, self.cell, self.parent, self.children, self.visits,
                self.value_sum, self.prior, self.dead, self.moves, self.n_nodes, self.mark,
                self.stamp)  # fmt: skip

    def search(self, active: np.ndarray, fresh: np.ndarray) -> None:
        """Run ``simulations`` simulations on the trees ``active`` (``fresh`` get a new root)."""
        cfg, use_prior = self.cfg, self.cfg.prior_fn is not None
        roots = self.path[:, 0].copy()
        roots[fresh] = self.path[fresh, self.length[fresh] - 1]
        K.reset_roots(fresh, roots, self.nbr, self.cell, self.parent, self.children, self.visits,
                      self.value_sum, self.dead, self.moves, self.n_nodes)  # fmt: skip
        self.has_prior[fresh, 0] = False
        self.grow(int(self.n_nodes[active].max()) + cfg.simulations + 1)
        before = self.n_nodes.copy()
        if use_prior:
            need = active[~self.has_prior[active, 0] & ~self.blind[active]]
            self.set_priors(need, np.zeros(len(need), np.int64), None)
        gumbel = cfg.root == "gumbel"
        if gumbel:
            self._init_gumbel(active)
        common = (cfg.c_uct, cfg.prior_mix, use_prior, gumbel, self.table, self.n_considered,
                  self.gumbel, self.sh_visits, self.raw_value)  # fmt: skip
        move = self.length - 1
        staged = active  # simulations with a model call between select and backup
        if cfg.evaluate != "value":  # tasks no prior informs: every simulation in one call
            fused_rows, staged = active[self.blind[active]], active[~self.blind[active]]
            if len(fused_rows):
                fused = K.simulate_fused if cfg.threads == 1 else K.simulate_fused_parallel
                if cfg.threads > 1:
                    numba.set_num_threads(min(cfg.threads, numba.config.NUMBA_NUM_THREADS))
                fused(fused_rows, cfg.simulations, cfg.evaluate == "rollout", *self.tree_args(),
                      *common, self.depth, cfg.discount, self.seed, move, self.steps)  # fmt: skip
        if len(staged):
            self._simulate_staged(staged, common, move)
        self.nodes[active] += self.n_nodes[active] - before[active]
        self.sims[active] += cfg.simulations

    def _init_gumbel(self, active: np.ndarray) -> None:
        cfg = self.cfg
        for b in active.tolist():
            K.gumbel_noise(self.seed[b], self.length[b] - 1, self.gumbel[b])
        self.gumbel[active] *= cfg.gumbel_scale
        self.sh_visits[active] = 0
        root = self.path[active, self.length[active] - 1]
        n_open = (self.nbr[active, root] >= 0).sum(axis=1)
        self.n_considered[active] = np.minimum(n_open, cfg.max_considered)
        self.raw_value[active] = self.values(active, None) if cfg.value_fn is not None else 0.0

    def _simulate_staged(
        self, active: np.ndarray, common: tuple[Any, ...], move: np.ndarray
    ) -> None:
        """The simulations one stage at a time, with a batched model call between select and backup."""
        cfg = self.cfg
        n = len(self.tasks)
        leaf, status = np.zeros(n, np.int64), np.zeros(n, np.int64)
        has_moves, values = np.zeros(n, np.bool_), np.zeros(n)
        for i in range(cfg.simulations):
            K.select_batch(active, *self.tree_args(), *common, leaf, status, has_moves)
            new = active[status[active] == K.ST_NEW]
            values[active] = 0.0
            if cfg.prior_fn is not None:
                self.has_prior[new, leaf[new]] = False
                rows = new[has_moves[new]]
                self.set_priors(rows, leaf[rows], leaf)
            if len(new) and cfg.evaluate == "value":
                values[new] = self.values(new, leaf)
            elif len(new) and cfg.evaluate == "rollout":
                K.rollout_batch(new, leaf, self.nbr, self.target, self.cell, self.mark, self.stamp,
                                self.depth, cfg.discount, self.seed, move, i, values, self.steps)  # fmt: skip
            K.backup_batch(active, leaf, values, self.target, self.cell, self.parent, self.visits,
                           self.value_sum, cfg.discount)  # fmt: skip

    def choose(self, active: np.ndarray) -> np.ndarray:
        """The real move of each active task (``int64[B]``, -1 elsewhere)."""
        actions = np.full(len(self.tasks), -1, np.int64)
        if self.cfg.root == "gumbel":
            K.decide_gumbel(active, self.nbr, self.cell, self.children, self.visits,
                            self.value_sum, self.prior, self.dead, self.on_real,
                            self.cfg.prior_mix, self.cfg.prior_fn is not None, self.gumbel,
                            self.sh_visits, self.raw_value, actions)  # fmt: skip
        else:
            K.decide(active, self.nbr, self.cell, self.children, self.visits, self.value_sum,
                     self.dead, self.on_real, actions)  # fmt: skip
        return actions


def _run(tasks: Sequence[Task], cfg: _Config) -> tuple[_Forest, float]:
    """Solve ``tasks`` in lockstep; returns the forest (paths and counters) and the wall seconds."""
    t0 = time.perf_counter()
    limits = np.array(
        [cfg.max_steps or max(1, math.ceil(cfg.steps_per_cell * t.maze.n_cells)) for t in tasks],
        np.int64,
    )
    forest = _Forest(tasks, cfg, limits)
    todo = np.arange(len(tasks))
    searching = np.zeros(len(tasks), np.int64)
    has_tree = np.zeros(len(tasks), np.bool_)
    kept = np.zeros(len(tasks), np.int64)
    while len(todo):
        for limit in np.unique(limits[todo]).tolist():
            rows = todo[limits[todo] == limit]
            K.advance(rows, forest.nbr, forest.target, forest.path, forest.length,
                      forest.on_real, limit, searching)  # fmt: skip
        todo = todo[searching[todo] > 0]
        if cfg.stop_on_revisit:  # a path that stood on a cell twice cannot be a shortest path
            todo = todo[forest.length[todo] == forest.on_real[todo].sum(axis=1)]
        if not len(todo):
            break
        fresh = todo[~has_tree[todo] | (searching[todo] == 2)]
        forest.search(todo, fresh)
        actions = forest.choose(todo)
        if cfg.reuse:
            K.reroot(todo, actions, forest.nbr, forest.cell, forest.parent, forest.children,
                     forest.visits, forest.value_sum, forest.prior, forest.has_prior, forest.dead,
                     forest.moves, forest.n_nodes, kept)  # fmt: skip
            has_tree[todo] = kept[todo] > 0
        K.step(todo, actions, forest.nbr, forest.path, forest.length, forest.on_real)
    return forest, time.perf_counter() - t0


class MCTSAgent(BaseAgent):
    """Batched Monte Carlo tree search acting step by step (UCT, or PUCT with a prior).

    Its keyword-only parameters are the fields of :class:`MCTSParams` (listed below, derived from
    them); ``MCTSAgent(**kw)`` validates them there (``ValueError`` naming the parameter and what
    is allowed; an unknown keyword is a ``TypeError`` listing the parameters).

    Counters: ``nodes_expanded`` sums tree nodes added over all steps, ``forward_passes`` the rows
    this task contributed to ``prior_fn``/``value_fn`` calls; ``extra`` holds ``simulations`` (run,
    so dead ends excluded) and ``rollout_steps``. In ``solve_batch``, ``seconds`` is the batch's
    time split evenly over its tasks.

    Attributes:
        params: the :class:`MCTSParams` as given.
        config: the engine's configuration (:meth:`MCTSParams.kernel_config`); each parameter is
            also an attribute as resolved there (``agent.evaluate``, ``agent.c_uct`` a float), but
            ``agent.prior`` is the path as given.
        name: ``mcts`` plus the parameters that differ from their defaults.
    """

    DEFAULTS: dict[str, Any] = MCTSParams.defaults()

    def __init__(self, **kwargs: Any) -> None:
        unknown = [k for k in kwargs if k not in self.DEFAULTS]
        if unknown:
            raise TypeError(
                f"MCTSAgent got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                f"its parameters: {', '.join(self.DEFAULTS)}"
            )
        params = MCTSParams(**kwargs)
        self.params = params
        self.name = params.name()
        prior_fn, value_fn = params.prior_fn, params.value_fn
        if params.prior is not None:
            from agents.checkpoint import load_hooks

            prior_fn, value_fn = load_hooks(str(params.prior))
            self.start_method = "spawn"  # a torch model: the runner starts workers with spawn
        self.config = params.kernel_config(prior_fn, value_fn)
        for f in fields(MCTSParams):
            setattr(self, f.name, getattr(self.config, f.name))
        self.prior = params.prior

    __init__.__signature__ = MCTSParams.signature().replace(  # type: ignore[attr-defined]
        parameters=[
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *MCTSParams.signature().parameters.values(),
        ]
    )

    def solve(self, task: Task) -> Trajectory:
        return self.solve_batch([task])[0]

    def solve_batch(self, tasks: Sequence[Task]) -> list[Trajectory]:
        """Solve ``tasks`` in lockstep, one batch per maze shape (so no maze is padded to another's
        size); ``seconds`` is each batch's time split evenly over its tasks."""
        out: list[Trajectory | None] = [None] * len(tasks)
        for group in group_by_shape(tasks).values():
            part = [tasks[i] for i in group]
            forest, seconds = _run(part, self.config.for_maze(part[0].maze.shape))
            for b, (i, task) in enumerate(zip(group, part, strict=True)):
                cols = task.maze.shape[1]
                flat = forest.path[b, : forest.length[b]].tolist()
                cells = [(f // cols, f % cols) for f in flat]
                out[i] = make_trajectory(
                    cells,
                    nodes_expanded=int(forest.nodes[b]),
                    forward_passes=int(forest.forward[b]),
                    seconds=seconds / len(part),
                    gave_up=cells[-1] != task.target,
                    extra={
                        "simulations": int(forest.sims[b]),
                        "rollout_steps": int(forest.steps[b]),
                    },
                )
        return out  # type: ignore[return-value]


if MCTSAgent.__doc__:  # the Args section, from the fields (absent under python -OO)
    MCTSAgent.__doc__ += "\n    Args:\n" + "".join(
        f"        {f.name}: {f.metadata['doc']}.\n" for f in fields(MCTSParams)
    )


def mcts_search(
    task: Task,
    cell: Coord,
    path: Sequence[Coord],
    *,
    simulations: int = 100,
    c_uct: float = 1.4,
    discount: float = 0.95,
    rollout_depth: int = 100,
    prior_fn: PriorFn | None = None,
    value_fn: ValueFn | None = None,
    prior_mix: float = 0.0,
    evaluate: str = "auto",
    root: str = "puct",
    seed: int = 0,
) -> SearchOutput:
    """One search from ``cell`` (a batch of one): grow a tree and pick the move to make.

    A pure function of its arguments (rollouts draw from the stream of ``(seed, task, len(path) -
    1, simulation)``); see the module docstring for the rules. ``cell`` must be ``path[-1]``, have
    at least one open move and differ from ``task.target``.

    Args:
        task: the task (passed on to ``prior_fn`` / ``value_fn``; its target ends episodes).
        cell: the agent's current cell (the root).
        path: the real path so far, from the origin to ``cell`` (both included).
        simulations, c_uct, discount, rollout_depth, prior_fn, value_fn, prior_mix, evaluate,
            root, seed: as for :class:`MCTSAgent`.

    Returns:
        The chosen move with the root statistics and counters.
    """
    if tuple(path[-1]) != tuple(cell):
        raise ValueError(f"cell {cell} must be the last cell of path (got {path[-1]})")
    agent = MCTSAgent(simulations=simulations, c_uct=c_uct, discount=discount,
                      rollout_depth=rollout_depth, seed=seed, prior_fn=prior_fn, value_fn=value_fn,
                      prior_mix=prior_mix, evaluate=evaluate, root=root)  # fmt: skip
    cfg = agent.config
    forest = _Forest([task], cfg, np.array([len(path) + 1]))
    cols = task.maze.shape[1]
    flat = [r * cols + c for r, c in path]
    forest.path[0, : len(flat)] = flat
    forest.length[0] = len(flat)
    forest.on_real[0, flat] = True
    active = np.array([0])
    forest.search(active, active)
    action = int(forest.choose(active)[0])
    kids = forest.children[0, 0]
    visits = tuple(int(forest.visits[0, k]) if k >= 0 else 0 for k in kids)
    values = tuple(float(forest.value_sum[0, k] / forest.visits[0, k]) if k >= 0 and forest.visits[0, k] else 0.0 for k in kids)  # fmt: skip
    nb = int(forest.nbr[0, flat[-1], action])
    return SearchOutput(action, (nb // cols, nb % cols), visits, values, int(forest.nodes[0]),
                        int(forest.forward[0]), int(forest.steps[0]))  # fmt: skip

"""Batched MCTS: equal to a plain reference search, proven dead ends, priors, Gumbel, reuse.

The reference below is the straightforward one-task search (the engine before batching), in pure
Python; the batched numba engine must give the very same trajectories for the same seed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents import checkpoint as checkpoint_module
from agents.registry import make_agent
from agents.search import MCTSAgent, mcts_search
from agents.search.common import task_seed
from maze_env import Task, generate
from maze_env.solve import bfs_distances, shortest_path
from maze_env.types import ACTION_DELTAS
from tests.agents.test_search import FORK, FORK_PATH, LURE, legal, random_tasks

# -- the reference search -------------------------------------------------------------------------
_MASK, _G = (1 << 64) - 1, 0x9E3779B97F4A7C15


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Stream:
    """splitmix64 keyed by (seed, move, simulation): the engine's rollout randomness."""

    def __init__(self, seed: int, move: int, sim: int) -> None:
        self.state = _mix(seed ^ _mix((((move << 32) | sim) + _G) & _MASK))

    def below(self, n: int) -> int:
        self.state = (self.state + _G) & _MASK
        return ((_mix(self.state) >> 32) * n) >> 32


def neighbours(task, cell):
    return [nb for nb in task.maze.neighbors(cell)]


def reference_search(task, path, *, seed, simulations, c=1.4, discount=0.95, depth=None,
                     prior_fn=None, value_fn=None, evaluate="rollout", mix=0.0):  # fmt: skip
    """One search from ``path[-1]``, written plainly. Returns (action, cell, nodes, steps)."""
    target, root, move = task.target, path[-1], len(path) - 1
    depth = depth or task.maze.n_cells
    cell, parent, kids = [root], [-1], [[-1] * 4]
    visits, total, dead, n_moves, prior = [0], [0.0], [False], [-1], [None]

    def add(nb, node, a):
        for lst, v in ((cell, nb), (parent, node), (kids, [-1] * 4), (visits, 0), (total, 0.0),
                       (dead, False), (n_moves, -1), (prior, None)):  # fmt: skip
            lst.append(v)
        kids[node][a] = len(cell) - 1
        return len(cell) - 1

    def q(k):
        return total[k] / visits[k] if k >= 0 and visits[k] else 0.0

    def model_prior(node, cells):
        raw = np.asarray(prior_fn([task], np.array([cell[node]]), [list(cells)]), np.float64)[0]
        return [v if math.isfinite(v) and v > 0 else 0.0 for v in raw.tolist()]

    steps = 0
    if prior_fn is not None:
        prior[0] = model_prior(0, path)
    for sim in range(simulations):
        node, cells, on_path = 0, list(path), {root}
        while True:
            here = cell[node]
            if here == target:
                leaf, value = node, 0.0
                break
            moves = [
                (a, (here[0] + int(d[0]), here[1] + int(d[1]))) for a, d in enumerate(ACTION_DELTAS)
            ]
            legal_ = [
                (a, nb) for a, nb in moves if task.maze.has_passage(here, nb) and nb not in on_path
            ]
            n_moves[node] = len(legal_)
            live = [(a, nb) for a, nb in legal_ if kids[node][a] < 0 or not dead[kids[node][a]]]
            if not live:
                k = node
                while k >= 0 and not dead[k]:
                    dead[k] = True
                    k = parent[k]
                    if k < 0 or sum(j >= 0 and dead[j] for j in kids[k]) < n_moves[k]:
                        break
                leaf, value = node, 0.0
                break
            qs = [q(kids[node][a]) for a, _ in live if kids[node][a] >= 0]
            lo, hi = (min(qs), max(qs)) if qs else (0.0, 0.0)
            scale = 1.0 / (hi - lo) if hi - lo > 1e-9 else 0.0
            best, best_key = None, (-math.inf, -math.inf)
            for a, nb in live:
                k = kids[node][a]
                n = visits[k] if k >= 0 else 0
                qn = (q(k) - lo) * scale if n else 0.0
                if prior_fn is None:
                    score = (
                        math.inf
                        if n == 0
                        else qn + c * math.sqrt(math.log(max(visits[node], 1)) / n)
                    )
                    key = (score, 0.0)
                else:
                    raw = prior[node] or [0.0] * 4
                    tot = sum(raw[b] for b, _ in legal_)
                    p = raw[a] / tot if tot > 0 else 1.0 / len(legal_)
                    p = (1.0 - mix) * p + mix * (1.0 / len(legal_))
                    score = qn + c * p * math.sqrt(max(visits[node], 1)) / (1 + n)
                    key = (score, p)
                if key > best_key:
                    best, best_key = (a, nb), key
            a, nb = best
            cells.append(nb)
            on_path.add(nb)
            if kids[node][a] < 0:
                leaf = add(nb, node, a)
                value = 0.0
                if nb != target:
                    if prior_fn is not None:
                        prior[leaf] = model_prior(leaf, cells)
                    if evaluate == "value":
                        value = float(value_fn([task], np.array([nb]), [cells])[0])
                    elif evaluate == "rollout":
                        rng, here2, seen = Stream(seed, move, sim), nb, set(on_path)
                        for k in range(1, depth + 1):
                            opts = [x for x in neighbours(task, here2) if x not in seen]
                            if not opts:
                                steps += k - 1
                                break
                            here2 = opts[rng.below(len(opts))] if len(opts) > 1 else opts[0]
                            if here2 == target:
                                value = discount ** (k - 1)
                                steps += k
                                break
                            seen.add(here2)
                        else:
                            steps += depth
                break
            node = kids[node][a]
        ret = value
        while leaf >= 0:
            if leaf > 0:
                ret = (1.0 if cell[leaf] == target else 0.0) + discount * ret
            visits[leaf] += 1
            total[leaf] += ret
            leaf = parent[leaf]
    seen = set(path)
    options = [(a, nb) for a, nb in enumerate(neighbours_in_order(task, root)) if nb is not None]
    action, nb = max(options, key=lambda an: (kids[0][an[0]] < 0 or not dead[kids[0][an[0]]],
                                               visits[kids[0][an[0]]] if kids[0][an[0]] >= 0 else 0,
                                               q(kids[0][an[0]]), an[1] not in seen, -an[0]))  # fmt: skip
    return action, nb, len(cell) - 1, steps


def neighbours_in_order(task, cell):
    """The cell each action leads to, None through a wall."""
    out = []
    for d in ACTION_DELTAS:
        nb = (cell[0] + int(d[0]), cell[1] + int(d[1]))
        out.append(nb if task.maze.has_passage(cell, nb) else None)
    return out


def reference_solve(task, *, seed=0, simulations=20, max_steps=None, **kw):
    """The agent loop around :func:`reference_search`: (cells, nodes, rollout steps, sims)."""
    s, cells, nodes, steps, sims = task_seed(seed, task), [task.origin], 0, 0, 0
    limit = max_steps or 4 * task.maze.n_cells
    while cells[-1] != task.target and len(cells) <= limit:
        options = neighbours(task, cells[-1])
        if len(options) <= 1:
            if not options:
                break
            cells.append(options[0])
            continue
        _, nb, n, k = reference_search(task, cells, seed=s, simulations=simulations, **kw)
        cells.append(nb)
        nodes, steps, sims = nodes + n, steps + k, sims + simulations
    return tuple(cells), nodes, steps, sims


# -- priors and values in the batched contract ---------------------------------------------------
def _dist(task):
    return bfs_distances(task.maze, task.target)


def perfect_prior(tasks, cells, paths):
    """One-hot on the first move one step closer to the target."""
    out = np.zeros((len(tasks), 4), np.float32)
    for i, (task, cell) in enumerate(zip(tasks, cells.tolist(), strict=True)):
        dist = _dist(task)
        for a, nb in enumerate(neighbours_in_order(task, tuple(cell))):
            if nb is not None and dist[nb] == dist[tuple(cell)] - 1:
                out[i, a] = 1.0
                break
    return out


def misleading_prior(tasks, cells, paths):
    """0.9 on a legal move away from the target (when there is one), the rest spread evenly."""
    out = np.full((len(tasks), 4), 0.1 / 3, np.float32)
    for i, (task, cell) in enumerate(zip(tasks, cells.tolist(), strict=True)):
        dist = _dist(task)
        for a, nb in enumerate(neighbours_in_order(task, tuple(cell))):
            if nb is not None and dist[nb] > dist[tuple(cell)]:
                out[i, a] = 0.9
                break
    return out


def noisy_prior(tasks, cells, paths):
    """A deterministic but uninformative prior that depends on the cell and the path length."""
    out = np.empty((len(tasks), 4), np.float32)
    for i, (cell, path) in enumerate(zip(cells.tolist(), paths, strict=True)):
        rng = np.random.default_rng([cell[0], cell[1], len(path)])
        out[i] = rng.random(4)
    return out


def distance_value(tasks, cells, paths):
    return np.array([0.9 ** int(_dist(t)[tuple(c)]) for t, c in zip(tasks, cells.tolist(), strict=True)], np.float32)  # fmt: skip


SMALL = (
    [Task(generate("dfs", (5, 5), seed=s), (0, 0), (4, 4)) for s in range(4)]
    + random_tasks("braid", 4, shape=(5, 6), seed=3)
    + random_tasks("open_field", 2, shape=(4, 4), seed=5)
    + random_tasks("dfs", 4, shape=(7, 7), seed=8)
    + random_tasks("percolation", 4, shape=(6, 6), seed=8)
    + [Task.from_ascii(FORK), Task.from_ascii(LURE)]
)
SMALL = [t for t in SMALL if t.origin != t.target]


@pytest.mark.parametrize(
    "kw",
    [
        dict(simulations=12),
        dict(simulations=12, evaluate="zero"),
        dict(simulations=6, prior_fn=noisy_prior, mix=0.25),
        dict(simulations=6, value_fn=distance_value, evaluate="value", prior_fn=perfect_prior),
    ],
    ids=["uct-rollout", "uct-zero", "puct-rollout", "puct-value"],
)
def test_batched_engine_matches_the_reference_search(kw):
    ref_kw = dict(kw)
    mix = ref_kw.pop("mix", 0.0)
    agent_kw = {k: v for k, v in kw.items() if k != "mix"}
    agent = MCTSAgent(seed=3, prior_mix=mix, max_steps=60, **agent_kw)
    got = agent.solve_batch(SMALL)
    for task, traj in zip(SMALL, got, strict=True):
        cells, nodes, steps, sims = reference_solve(task, seed=3, max_steps=60, mix=mix, **ref_kw)
        assert traj.cells == cells, f"trajectories differ on\n{task.to_ascii()}"
        assert (traj.nodes_expanded, traj.extra["rollout_steps"], traj.extra["simulations"]) == (
            nodes, steps, sims,
        )  # fmt: skip


def test_results_do_not_depend_on_the_batch_split_or_threads():
    tasks = random_tasks("dfs", 10, shape=(7, 7), seed=11)
    tasks = [t for t in tasks if t.origin != t.target]
    for spec in ("mcts:simulations=20", "mcts:simulations=20,root=gumbel,reuse=true"):
        agent = make_agent(spec)
        whole = agent.solve_batch(tasks)
        halves = agent.solve_batch(tasks[5:]) + agent.solve_batch(tasks[:5])
        halves = halves[len(tasks) - 5 :] + halves[: len(tasks) - 5]
        one_by_one = [agent.solve(t) for t in tasks]
        threaded = make_agent(spec + ",threads=2").solve_batch(tasks)
        for a, b, c, d in zip(whole, halves, one_by_one, threaded, strict=True):
            assert a.cells == b.cells == c.cells == d.cells
            assert a.nodes_expanded == b.nodes_expanded == d.nodes_expanded


def test_a_batch_may_mix_maze_shapes():
    tasks = [t for t in random_tasks("dfs", 3, shape=(5, 5), seed=1) + random_tasks("dfs", 3, shape=(4, 9), seed=1) if t.origin != t.target]  # fmt: skip
    tasks = tasks[::2] + tasks[1::2]  # interleave the shapes
    agent = make_agent("mcts:simulations=15")
    for a, b in zip(agent.solve_batch(tasks), [agent.solve(t) for t in tasks], strict=True):
        assert a.cells == b.cells and a.nodes_expanded == b.nodes_expanded


def test_uct_solves_the_fork_maze_exactly():
    traj = make_agent("mcts:simulations=30").solve(Task.from_ascii(FORK))
    assert traj.cells == FORK_PATH  # rollouts into the dead branch never score
    assert traj.nodes_expanded > 0 and traj.extra["simulations"] == 7 * 30  # a search per move


def test_search_prefers_the_short_way_round_a_loop():
    task = Task.from_ascii(LURE)
    out = mcts_search(task, (1, 1), [(0, 0), (1, 0), (1, 1)], simulations=300)
    # down (2,1) is 5 moves from E, up (0,1) 6: the discount favours down; left goes back.
    assert out.action == 2 and out.cell == (2, 1)
    assert out.visits[2] == max(out.visits) and sum(out.visits) == 300


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uct_reaches_the_target_on_small_mazes(seed):
    task = Task(generate("dfs", (6, 6), seed=seed), (0, 0), (5, 5))
    traj = make_agent("mcts", simulations=100).solve(task)
    assert not traj.gave_up and traj.cells[-1] == task.target and legal(task.maze, traj.cells)


def test_puct_follows_a_perfect_prior():
    task = Task(generate("dfs", (6, 6), seed=4), (0, 5), (5, 0))
    agent = MCTSAgent(simulations=8, prior_fn=perfect_prior)
    traj = agent.solve(task)
    assert traj.cells == tuple(shortest_path(task.maze, task.origin, task.target))
    assert traj.forward_passes > 0 and agent.name == "mcts(simulations=8, prior_fn=perfect_prior)"


def test_puct_with_a_misleading_prior_still_reaches():
    task = Task(generate("dfs", (6, 6), seed=4), (0, 5), (5, 0))
    traj = MCTSAgent(simulations=200, prior_fn=misleading_prior).solve(task)
    assert not traj.gave_up and legal(task.maze, traj.cells)


def test_value_fn_replaces_rollouts():
    task = Task.from_ascii(FORK)
    traj = MCTSAgent(simulations=10, value_fn=distance_value).solve(task)
    assert traj.cells == FORK_PATH and traj.extra["rollout_steps"] == 0 and traj.forward_passes > 0


def test_dead_branches_are_proven_whatever_the_prior():
    # At S the prior puts 0.99 on "down", into the 4-cell dead-end branch. Below the root a
    # simulation may not re-enter its own path, so that branch is proven dead after a few
    # simulations and every other one goes right, towards E.
    task = Task.from_ascii(FORK)

    def down(tasks, cells, paths):
        return np.tile(np.array([0.0025, 0.0025, 0.99, 0.0025], np.float32), (len(tasks), 1))

    for evaluate in ("rollout", "zero"):
        out = mcts_search(task, task.origin, [task.origin], simulations=50, prior_fn=down,
                          evaluate=evaluate)  # fmt: skip
        assert out.cell == (0, 1) and out.visits[1] > 40
        # the dead branch: 4 cells below the root, each visited once before it was proven dead
        assert out.visits[2] <= 5 and out.values[2] == 0.0
    traj = MCTSAgent(simulations=50, prior_fn=down).solve(task)
    assert traj.cells == FORK_PATH


def test_a_dead_end_is_proven_after_one_pass():
    # From (1,0) in a 1x3 corridor whose left end (0) is a dead end and right end the target:
    # the left child is boxed in (its only move re-enters the path) and is proven dead on its
    # second visit; afterwards every simulation goes right.
    task = Task.from_ascii("#######\n#  S E#\n#######\n")
    out = mcts_search(task, task.origin, [task.origin], simulations=20, evaluate="zero")
    left, right = out.visits[3], out.visits[1]
    assert out.action == 1 and left == 2 and right == 18


def test_evaluate_zero_solves_small_mazes():
    tasks = [Task(generate("dfs", (5, 5), seed=s), (0, 0), (4, 4)) for s in range(6)]
    for traj, task in zip(make_agent("mcts:simulations=100,evaluate=zero").solve_batch(tasks), tasks, strict=True):  # fmt: skip
        assert (
            not traj.gave_up and legal(task.maze, traj.cells) and traj.extra["rollout_steps"] == 0
        )


@pytest.mark.parametrize("spec", ["mcts:simulations=30,root=gumbel", "mcts:simulations=30,reuse=true",
                                  "mcts:simulations=16,root=gumbel,reuse=true,evaluate=zero"])  # fmt: skip
def test_gumbel_and_reuse_solve_mazes(spec):
    tasks = random_tasks("dfs", 8, shape=(6, 6), seed=2) + random_tasks(
        "braid", 4, shape=(6, 6), seed=2
    )
    tasks = [t for t in tasks if t.origin != t.target]
    for task, traj in zip(tasks, make_agent(spec).solve_batch(tasks), strict=True):
        assert not traj.gave_up and legal(task.maze, traj.cells), spec


def test_gumbel_follows_a_perfect_prior_with_a_tiny_budget():
    tasks = random_tasks("dfs", 6, shape=(7, 7), seed=9)
    tasks = [t for t in tasks if t.origin != t.target]
    agent = MCTSAgent(simulations=2, prior_fn=perfect_prior, root="gumbel", evaluate="zero")
    for task, traj in zip(tasks, agent.solve_batch(tasks), strict=True):
        assert traj.cells == tuple(shortest_path(task.maze, task.origin, task.target))


def test_reuse_keeps_the_tree():
    task = Task(generate("dfs", (8, 8), seed=1), (0, 0), (7, 7))
    fresh = make_agent("mcts:simulations=50").solve(task)
    kept = make_agent("mcts:simulations=50,reuse=true").solve(task)
    assert not kept.gave_up and legal(task.maze, kept.cells)
    # the kept subtree holds the first levels, so the new leaves lie deeper: shorter rollouts
    assert kept.extra["rollout_steps"] < fresh.extra["rollout_steps"]


def test_max_steps_bounds_the_episode():
    traj = make_agent("mcts:simulations=5,max_steps=3").solve(
        Task(generate("dfs", (6, 6), seed=0), (0, 0), (5, 5))
    )
    assert len(traj.cells) - 1 <= 3 and traj.gave_up
    task = Task(generate("dfs", (6, 6), seed=0), (0, 0), (5, 5))  # 36 cells: at most 4 moves
    traj = make_agent("mcts:simulations=5,steps_per_cell=0.1,evaluate=zero").solve(task)
    assert len(traj.cells) - 1 == 4 and traj.gave_up
    with pytest.raises(ValueError, match="steps_per_cell must be a positive number"):
        make_agent("mcts:steps_per_cell=0")


def test_stop_on_revisit_keeps_every_exact_path_and_cuts_the_rest_at_the_first_revisit():
    from agents.harness.metrics import compute_metrics

    tasks = [t for t in random_tasks("dfs", 12, shape=(8, 8), seed=4) if t.origin != t.target]
    spec = "mcts:simulations=4,evaluate=zero"
    full = make_agent(spec).solve_batch(tasks)
    cut = make_agent(spec + ",stop_on_revisit=true").solve_batch(tasks)
    stopped = 0
    for task, a, b in zip(tasks, full, cut, strict=True):
        assert compute_metrics(task, a).exact == compute_metrics(task, b).exact
        assert a.cells[: len(b.cells)] == b.cells  # the same walk, ended early
        if len(set(b.cells)) < len(b.cells):
            stopped += 1
            assert b.gave_up and len(set(b.cells[:-1])) == len(b.cells) - 1  # at the first revisit
    assert stopped  # some searches went wrong


def test_mcts_is_deterministic_per_seed_and_seed_matters():
    task = Task(generate("dfs", (8, 8), seed=7), (0, 0), (7, 7))
    a, b = (make_agent("mcts:simulations=20,seed=5").solve(task) for _ in range(2))
    c = make_agent("mcts:simulations=20,seed=6").solve(task)
    assert a.cells == b.cells and a.nodes_expanded == b.nodes_expanded
    assert a.extra["rollout_steps"] != c.extra["rollout_steps"]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("mcts:c_uct=-1", "c_uct must be"),
        ("mcts:discount=0", "discount must be"),
        ("mcts:prior_fn=3", "prior_fn must"),
        ("mcts:evaluate=magic", "evaluate must be one of auto, rollout, zero, value"),
        ("mcts:root=best", "root must be one of puct, gumbel"),
        ("mcts:evaluate=value", "evaluate=value needs a value_fn"),
        ("mcts:reuse=1", "reuse must be true or false"),
    ],
)
def test_bad_parameters_are_explained(spec, message):
    with pytest.raises(ValueError, match=message):
        make_agent(spec)


def test_prior_mix_hedges_a_prior():
    agent = make_agent("mcts:prior_mix=0.25,simulations=10")
    assert agent.prior_mix == 0.25 and agent.name == "mcts(simulations=10, prior_mix=0.25)"
    with pytest.raises(ValueError, match="prior_mix must be a number in"):
        make_agent("mcts:prior_mix=2")


def test_model_calls_are_batched_once_per_simulation():
    calls = []

    def counting(tasks, cells, paths):
        calls.append(len(tasks))
        for task, cell, path in zip(tasks, cells.tolist(), paths, strict=True):
            assert tuple(path[0]) == task.origin and tuple(path[-1]) == tuple(cell)
            assert legal(task.maze, path)
        return noisy_prior(tasks, cells, paths)

    tasks = [Task(generate("dfs", (6, 6), seed=s), (0, 0), (5, 5)) for s in range(5)]
    trajs = MCTSAgent(simulations=10, prior_fn=counting).solve_batch(tasks)
    searches = max(t.extra["simulations"] for t in trajs) // 10
    assert len(calls) <= searches * 11  # a root call and at most one per simulation
    assert max(calls) > 1 and sum(calls) == sum(t.forward_passes for t in trajs)


@pytest.mark.parametrize("root", ["puct", "gumbel"])
def test_tasks_a_prior_cannot_read_skip_it_with_the_same_result(root):
    """``prior_fn.reads``: the unreadable tasks (uniform everywhere) never reach the model and
    are searched exactly as if it had answered uniform."""
    big = {id(t) for t in SMALL if t.maze.n_cells > 30}
    asked = []

    def partial(tasks, cells, paths):
        asked.extend(id(t) for t in tasks)
        out = noisy_prior(tasks, cells, paths)
        out[[id(t) in big for t in tasks]] = 0.25
        return out

    def declared(tasks, cells, paths):
        return partial(tasks, cells, paths)

    declared.reads = lambda tasks: np.array([id(t) not in big for t in tasks])  # type: ignore[attr-defined]
    kw = dict(simulations=8, seed=5, max_steps=60, prior_mix=0.1, root=root)
    plain = MCTSAgent(prior_fn=partial, **kw).solve_batch(SMALL)
    assert big & set(asked)
    asked.clear()
    fast = MCTSAgent(prior_fn=declared, **kw).solve_batch(SMALL)
    assert asked and not big & set(asked)
    for task, a, b in zip(SMALL, plain, fast, strict=True):
        assert a.cells == b.cells and a.nodes_expanded == b.nodes_expanded
        assert a.extra["rollout_steps"] == b.extra["rollout_steps"]
        assert (b.forward_passes == 0) == (id(task) in big)


# -- priors from checkpoints -------------------------------------------------------------------
def fake_load_hooks(ckpt, **kwargs):
    return perfect_prior, None


def _meta(folder, kind):
    checkpoint_module.write_meta(folder, checkpoint_module.make_meta(
        kind, name="x", training_set="default", selected=checkpoint_module.selection("last")))  # fmt: skip


def test_prior_path_loads_hooks_by_kind(tmp_path, monkeypatch):
    fake = checkpoint_module.Kind((), "tests.agents.test_mcts:fake_load_hooks", "rl")
    monkeypatch.setitem(checkpoint_module.KINDS, "fake", fake)
    _meta(tmp_path, "fake")
    agent = make_agent(f"mcts:prior={tmp_path},simulations=4")
    task = Task(generate("dfs", (6, 6), seed=4), (0, 5), (5, 0))
    assert agent.solve(task).cells == tuple(shortest_path(task.maze, task.origin, task.target))
    assert agent.start_method == "spawn"


def test_prior_path_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no such checkpoint folder"):
        make_agent(f"mcts:prior={tmp_path / 'nope'}")
    with pytest.raises(FileNotFoundError, match="no meta.json"):
        make_agent(f"mcts:prior={tmp_path}")
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="meta.json: not valid JSON"):
        make_agent(f"mcts:prior={tmp_path}")
    _meta(tmp_path, "deepthinking")
    with pytest.raises(
        ValueError, match="a 'deepthinking' checkpoint has no MCTS prior; kinds with one: dqn, ppo"
    ):
        make_agent(f"mcts:prior={tmp_path}")
    _meta(tmp_path, "ppo")
    with monkeypatch.context() as m:
        broken = checkpoint_module.Kind((), "no_such_package.agent:load_hooks", "rl")
        m.setitem(checkpoint_module.KINDS, "ppo", broken)
        with pytest.raises(ValueError, match="kind 'ppo' loads through no_such_package"):
            make_agent(f"mcts:prior={tmp_path}")
    with pytest.raises(ValueError, match="prior=PATH or prior_fn"):
        MCTSAgent(prior=str(tmp_path), prior_fn=perfect_prior)
    hooks = {k: v.hooks for k, v in checkpoint_module.KINDS.items()}
    assert hooks["transformer"] == "agents.transformer.agent:load_hooks"
    assert {hooks[k] for k in ("ppo", "dqn", "rppo")} == {"agents.rl.agent:load_hooks"}


@pytest.mark.slow
def test_uct_solves_perfect_mazes_exactly():
    for task in random_tasks("dfs", 30, shape=(8, 8), seed=21):
        traj = make_agent("mcts").solve(task)
        assert len(traj.cells) - 1 == len(shortest_path(task.maze, task.origin, task.target)) - 1


def test_staged_and_fused_kernels_agree():
    # evaluate=zero without a model runs every simulation in one fused call; a value_fn that
    # returns 0 takes the staged path (one kernel per stage, a model call between): same search.
    def zero(tasks, cells, paths):
        return np.zeros(len(tasks), np.float32)

    tasks = [t for t in random_tasks("braid", 8, shape=(7, 7), seed=4) if t.origin != t.target]
    fused = MCTSAgent(simulations=25, evaluate="zero").solve_batch(tasks)
    staged = MCTSAgent(simulations=25, value_fn=zero).solve_batch(tasks)
    for a, b in zip(fused, staged, strict=True):
        assert a.cells == b.cells and a.nodes_expanded == b.nodes_expanded
        # one value row per new leaf, except leaves on the target (worth their reward, not evaluated)
        assert a.forward_passes == 0 and 0 < b.forward_passes <= b.nodes_expanded


def test_halving_schedule_matches_mctx():
    from agents.search.mcts import _halving_table

    table = _halving_table(4, 16)
    # 4 moves, 16 simulations: two rounds of all four, then the best two alternate
    assert table[4].tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert table[1].tolist() == list(range(16)) and table[2].tolist()[:4] == [0, 0, 1, 1]

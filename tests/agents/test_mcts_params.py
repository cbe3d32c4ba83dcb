"""MCTS parameters from one dataclass: golden names / attributes / trajectories, errors, budgets.

The golden values were captured from the agent before its parameters moved into
:class:`agents.search.mcts.MCTSParams` (when they were written four times); names land in
results.json, so they must stay byte-identical for the same spec, and so must the trajectories.
"""

from __future__ import annotations

import hashlib
import inspect
import math

import pytest

from agents.registry import describe_parameters, make_agent, parse_agent_spec
from agents.search import MCTSAgent
from agents.search.mcts import MCTSParams
from tests.agents.test_search import random_tasks

BASE = {
    "simulations": 100, "c_uct": 1.4, "discount": 0.95, "rollout_depth": None, "max_steps": None,
    "seed": 0, "prior_mix": 0.0, "evaluate": "rollout", "root": "puct", "reuse": False,
    "prior": None,
}  # fmt: skip

# (spec, agent.name, attributes that differ from BASE, sha256[:16] of the trajectories on TASKS)
GOLDEN = [
    ("mcts", "mcts", {}, "03defd0178ce8b0c"),
    ("mcts:simulations=10", "mcts(simulations=10)", {"simulations": 10}, "4224a24a31be207f"),
    ("mcts:root=gumbel", "mcts(root='gumbel')", {"root": "gumbel"}, "33f75482f7e755ed"),
    ("mcts:stop_on_revisit=true", "mcts(stop_on_revisit=True)", {}, "03defd0178ce8b0c"),
    ("mcts:c_uct=2", "mcts(c_uct=2)", {"c_uct": 2.0}, "1250622bdd59feaf"),
    ("mcts:reuse=true", "mcts(reuse=True)", {"reuse": True}, "0f7165e59498a175"),
    (
        "mcts:simulations=30,root=gumbel,max_considered=2,prior_mix=0.1",
        "mcts(simulations=30, prior_mix=0.1, root='gumbel', max_considered=2)",
        {"simulations": 30, "root": "gumbel", "prior_mix": 0.1},
        "fea615f90d3439ee",
    ),
    (
        "mcts:max_steps=50,rollout_depth=20,evaluate=zero,seed=3",
        "mcts(rollout_depth=20, max_steps=50, seed=3, evaluate='zero')",
        {"rollout_depth": 20, "max_steps": 50, "seed": 3, "evaluate": "zero"},
        "d2d6ee8fe20f2684",
    ),
]


def _tasks():
    return random_tasks("dfs", 5, shape=(6, 6), seed=1) + random_tasks(
        "dfs", 3, shape=(4, 5), seed=2
    )


def _digest(trajs) -> str:
    text = repr([(t.cells, t.nodes_expanded, t.extra) for t in trajs])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@pytest.mark.parametrize(("spec", "name", "attrs", "digest"), GOLDEN, ids=[g[0] for g in GOLDEN])
def test_golden_names_attributes_and_trajectories(spec, name, attrs, digest):
    agent = make_agent(spec)
    assert agent.name == name
    assert {k: getattr(agent, k) for k in BASE} == {**BASE, **attrs}
    assert _digest(agent.solve_batch(_tasks())) == digest


def perfect(tasks, cells, paths):  # a hook named in agent names
    raise AssertionError("not called")


def test_golden_names_keep_their_historical_order():
    # simulations, then the model (prior, prior_fn), then the rest in signature order
    agent = MCTSAgent(c_uct=2, prior_fn=perfect, value_fn=perfect, simulations=7, threads=2,
                      evaluate="value")  # fmt: skip
    assert agent.name == (
        "mcts(simulations=7, prior_fn=perfect, c_uct=2, value_fn=perfect, evaluate='value', "
        "threads=2)"
    )
    assert MCTSParams(c_uct=2, prior="ckpt/x", simulations=7).name() == (
        "mcts(simulations=7, prior='ckpt/x', c_uct=2)"
    )


def test_the_signature_defaults_and_help_come_from_the_dataclass():
    sig = inspect.signature(MCTSAgent)
    assert list(sig.parameters) == list(MCTSParams.defaults()) == list(MCTSAgent.DEFAULTS)
    assert all(p.kind is p.KEYWORD_ONLY for p in sig.parameters.values())
    assert {k: p.default for k, p in sig.parameters.items()} == MCTSParams.defaults()
    assert describe_parameters("mcts") == (
        "simulations=100, simulations_per_cell=null, c_uct=1.4, discount=0.95, "
        "rollout_depth=null, max_steps=null, steps_per_cell=4.0, stop_on_revisit=false, seed=0, "
        'prior_fn=null, value_fn=null, prior_mix=0.0, evaluate="auto", root="puct", '
        "reuse=false, prior=null, max_considered=16, gumbel_scale=1.0, threads=1"
    )
    for name in MCTSParams.defaults():  # every parameter documented in the agent's docstring
        assert f"        {name}: " in MCTSAgent.__doc__


def test_the_kernel_config_is_resolved_and_converted():
    cfg = make_agent("mcts:c_uct=2,max_considered=16,seed=3").config
    assert isinstance(cfg, MCTSParams)
    assert cfg.c_uct == 2.0 and isinstance(cfg.c_uct, float)
    assert cfg.max_considered == 4 and cfg.evaluate == "rollout" and cfg.seed == 3


def test_an_unknown_parameter_is_a_clear_error():
    with pytest.raises(ValueError, match="has no parameter 'sims'.*simulations=100"):
        make_agent("mcts:sims=10")
    with pytest.raises(TypeError, match="unexpected keyword argument.*'sims'.*simulations, "):
        MCTSAgent(sims=10)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("mcts:simulations=0", "simulations must be a positive int, got 0"),
        ("mcts:simulations=2.5", "simulations must be a positive int, got 2.5"),
        ("mcts:simulations_per_cell=0", "simulations_per_cell must be a positive number or null"),
        ("mcts:simulations_per_cell=x", "simulations_per_cell must be a positive number or null"),
        ("mcts:c_uct=-1", r"c_uct must be a non-negative number, got -1"),
        ("mcts:discount=1.5", r"discount must be a number in \(0, 1\], got 1.5"),
        ("mcts:prior_mix=2", r"prior_mix must be a number in \[0, 1\], got 2"),
        ("mcts:root=best", "root must be one of puct, gumbel, got 'best'"),
        ("mcts:evaluate=guess", "evaluate must be one of auto, rollout, zero, value"),
        ("mcts:reuse=1", "reuse must be true or false, got 1"),
        ("mcts:stop_on_revisit=yes", "stop_on_revisit must be true or false, got 'yes'"),
        ("mcts:seed=-1", "seed must be a non-negative int, got -1"),
        ("mcts:threads=0", "threads must be a positive int, got 0"),
        ("mcts:rollout_depth=0", "rollout_depth must be a positive int or None, got 0"),
        ("mcts:evaluate=value", "evaluate=value needs a value_fn"),
        ("mcts:prior_fn=3", "prior_fn must be a callable"),
    ],
)
def test_a_bad_value_names_the_parameter_and_what_is_allowed(spec, message):
    with pytest.raises(ValueError, match=message):
        make_agent(spec)
    _, kwargs = parse_agent_spec(spec)
    with pytest.raises(ValueError, match=message):
        MCTSParams(**kwargs)


# -- simulations_per_cell ---------------------------------------------------------------------
def test_the_spec_with_simulations_per_cell_parses():
    assert parse_agent_spec("mcts:simulations=20,simulations_per_cell=1") == (
        "mcts",
        {"simulations": 20, "simulations_per_cell": 1},
    )
    agent = make_agent("mcts:simulations=20,simulations_per_cell=1")
    assert agent.name == "mcts(simulations=20, simulations_per_cell=1)"
    assert agent.simulations_per_cell == 1


@pytest.mark.parametrize("shape", [(4, 4), (8, 8)])
def test_the_budget_grows_with_the_maze(shape):
    tasks = random_tasks("dfs", 3, shape=shape, seed=4)
    per_move = max(20, math.ceil(1.5 * shape[0] * shape[1]))  # 24 on 4x4, 96 on 8x8
    grown = MCTSAgent(simulations=20, simulations_per_cell=1.5, seed=2).solve_batch(tasks)
    fixed = MCTSAgent(simulations=per_move, seed=2).solve_batch(tasks)
    assert [(t.cells, t.nodes_expanded, t.extra) for t in grown] == [
        (t.cells, t.nodes_expanded, t.extra) for t in fixed
    ]
    searched = [t for t in grown if t.extra["simulations"]]
    assert searched and all(t.extra["simulations"] % per_move == 0 for t in searched)


def test_the_budget_is_per_maze_shape_and_never_below_simulations():
    small = random_tasks("dfs", 2, shape=(4, 4), seed=5)
    large = random_tasks("dfs", 2, shape=(8, 8), seed=5)
    agent = MCTSAgent(simulations=20, simulations_per_cell=1.5)
    mixed = agent.solve_batch([small[0], large[0], small[1], large[1]])
    alone = agent.solve_batch(small) + agent.solve_batch(large)
    assert [t.cells for t in mixed] == [alone[i].cells for i in (0, 2, 1, 3)]
    assert agent.config.for_maze((4, 4)).simulations == 24
    assert agent.config.for_maze((8, 8)).simulations == 96
    assert agent.config.for_maze((2, 3)).simulations == 20  # ceil(9) < 20: simulations wins
    assert MCTSParams(simulations=5, simulations_per_cell=0.1).for_maze((10, 10)).simulations == 10
    plain = MCTSAgent(simulations=20)
    assert plain.config.for_maze((50, 50)) is plain.config  # None: every result as before

"""The lazy agent registry: no torch on import, entry points, errors that teach."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from agents import AGENTS, AgentImportError, make_agent, parse_agent_spec, register_agent
from agents.registry import (
    BUILTIN_ENTRY_POINTS,
    SEARCH_AGENTS,
    AgentRegistry,
    describe_parameters,
    is_search_agent,
)


@pytest.fixture
def registry_state():
    saved = (dict(AGENTS._entry_points), dict(AGENTS._loaded))
    yield
    AGENTS._entry_points, AGENTS._loaded = saved


def test_import_agents_imports_no_agent_module_and_no_torch() -> None:
    code = (
        "import sys, json, agents\n"
        "from agents import make_agent\n"
        "before = sorted(m for m in sys.modules if m.startswith(('torch', 'stable_baselines3', 'agents.')))\n"
        "make_agent('bfs').name\n"
        "after = sorted(m for m in sys.modules if m.startswith(('torch', 'stable_baselines3')))\n"
        "print(json.dumps([before, after, 'agents.search.bfs' in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, bfs_loaded = json.loads(out.stdout)
    assert before == ["agents.base", "agents.registry"], "import agents must load no agent module"
    assert after == [] and bfs_loaded, "building a search agent imports its module, never torch"


def test_learned_agents_have_their_fixed_entry_points() -> None:
    assert AGENTS.entry_point("transformer") == "agents.transformer.agent:TransformerAgent"
    assert AGENTS.entry_point("deepthinking") == "agents.deepthinking.agent:DeepThinkingAgent"
    for kind in ("ppo", "dqn", "rppo"):
        assert AGENTS.entry_point(kind) == f"agents.rl.agent:make_{kind}_agent"
    assert set(BUILTIN_ENTRY_POINTS) <= set(AGENTS)


def test_a_bad_parameter_lists_the_agents_parameters_with_defaults() -> None:
    with pytest.raises(ValueError, match="bad parameters for agent 'mcts'") as err:
        make_agent("mcts:sims=10")
    message = str(err.value)
    assert "'sims'" in message
    from agents.search.mcts import MCTSAgent  # read from the class, whatever its parameters are

    for p in inspect.signature(MCTSAgent).parameters.values():
        if p.kind is p.KEYWORD_ONLY:
            assert f"{p.name}=" in message, p.name
    assert "simulations=100" in message
    with pytest.raises(ValueError, match="'bfs'.*has no parameter 'depth'.*parameters: record_expanded=false"):
        make_agent("bfs:depth=3")


def test_unknown_agents_and_bad_specs_name_what_is_allowed() -> None:
    with pytest.raises(
        ValueError, match="unknown agent 'bogus'; known: .*astar.*bfs.*mcts.*transformer"
    ):
        make_agent("bogus")
    with pytest.raises(ValueError, match="write name:key=value"):
        parse_agent_spec("mcts:simulations")
    with pytest.raises(ValueError, match="has no name"):
        parse_agent_spec(":x=1")
    assert parse_agent_spec('a:x=1,y=0.5,z=true,w=null,p=ckpt/dir,q="s"') == (
        "a",
        {"x": 1, "y": 0.5, "z": True, "w": None, "p": "ckpt/dir", "q": "s"},
    )


def test_an_entry_that_cannot_be_imported_names_the_agent_and_the_problem(registry_state) -> None:
    register_agent("broken", "agents.no_such_module:Thing")
    register_agent("typo", "agents.search.bfs:make_bfz")
    with pytest.raises(AgentImportError, match=r"agent 'broken' \(agents.no_such_module:Thing\) "
                       r"cannot be imported: ModuleNotFoundError: .*agents.no_such_module"):  # fmt: skip
        make_agent("broken")
    with pytest.raises(ValueError, match="agent 'typo' .* AttributeError: .*make_bfz"):
        make_agent("typo")  # an AgentImportError is a ValueError: the CLI prints it cleanly
    assert "broken" in AGENTS, "a broken entry stays listed"


def test_users_register_by_entry_point_and_the_module_loads_when_built(registry_state) -> None:
    register_agent("mine", "agents.search.simple:make_dfs")
    register_agent("mine", "agents.search.simple:make_dfs")  # the same entry again: a no-op
    assert make_agent("mine").name == "dfs"
    with pytest.raises(ValueError, match="already registered as 'agents.search.simple:make_dfs'"):
        register_agent("mine", "agents.search.bfs:make_bfs")
    register_agent("mine", "agents.search.bfs:make_bfs", replace=True)
    assert make_agent("mine").name == "bfs"
    with pytest.raises(ValueError, match="write 'package.module:factory'"):
        register_agent("other", "agents.search.bfs")
    with pytest.raises(ValueError, match="bad agent name"):
        register_agent("a:b", "agents.search.bfs:make_bfs")


def test_the_decorator_form_records_an_entry_point(registry_state) -> None:
    @register_agent("decorated")
    def make_thing(*, seed: int = 0):  # noqa: ANN202
        return make_agent("random_fork", seed=seed)

    assert AGENTS.entry_point("decorated").endswith(
        ":test_the_decorator_form_records_an_entry_point.<locals>.make_thing"
    )
    assert make_agent("decorated:seed=2").name == "random_fork(seed=2)"


def test_required_parameters_and_descriptions() -> None:
    reg = AgentRegistry({"rf": "agents.search.random_agents:make_random_fork"})
    assert list(reg) == ["rf"] and len(reg) == 1 and "rf" in reg
    assert [str(p) for p in reg.parameters("rf")] == ["seed=0"]
    assert describe_parameters("random_walk") == "seed=0, max_steps=null"


def test_parameter_checks_happen_before_building(registry_state) -> None:
    register_agent("needs_ckpt", "tests.agents.test_registry:_needs_ckpt")
    with pytest.raises(
        ValueError, match="needs 'ckpt'; its parameters: ckpt \\(required\\), seed=0"
    ):
        make_agent("needs_ckpt")
    assert make_agent("needs_ckpt:ckpt=somewhere").name == "somewhere"


def _needs_ckpt(*, ckpt: str, seed: int = 0):  # noqa: ANN202
    return type("A", (), {"name": ckpt})()


def test_search_agents_are_the_search_package_and_mcts_without_a_prior() -> None:
    assert SEARCH_AGENTS == {"bfs", "astar", "dfs", "greedy", "random_fork", "random_walk", "mcts"}
    for spec in ("bfs", " astar ", "random_walk:max_steps=12", "mcts:simulations=100"):
        assert is_search_agent(spec), spec
    for spec in ("mcts:prior=checkpoints/t,simulations=5", "transformer:ckpt=x", "ppo", "mine",
                 "bfs:oops", ""):  # fmt: skip
        assert not is_search_agent(spec), spec  # learned, unknown, or not a spec at all

"""The env's layers: an import chain without cycles, one home per rule, one argument list."""

from __future__ import annotations

import ast
import inspect
import pydoc
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import maze_env
from maze_env import MazeEnv, MazeVectorEnv, Task
from maze_env.env_config import EnvConfig
from maze_env.episodes import draw_episodes, episode_limits, step_outcome
from maze_env.maze import Maze, cell_degrees, dead_end_cells
from maze_env.placement import dead_end_mask, parse_placement
from maze_env.shapes import parse_shape, parse_shapes
from maze_env.solve import bfs_distances
from maze_env.types import ACTION_DELTAS, ACTION_OF_DELTA, ACTION_OF_DELTA_CODE, action_between
from maze_env.wrappers import TokensObservation

PACKAGE = Path(maze_env.__file__).parent
LAYERS = ("env_config", "episodes", "observations", "env", "wrappers")


# -- the import graph -------------------------------------------------------------------------
def _module_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _node(name: str, modules: set[str]) -> str | None:
    """The graph node of an imported name: the longest known module prefix (subpackages whole)."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in modules:
            return ".".join(parts[:k])
    return None


def import_graph() -> dict[str, set[str]]:
    """``maze_env`` module -> the ``maze_env`` modules it imports anywhere (lazy and
    TYPE_CHECKING imports included). Subpackages other than the top one are single nodes."""
    files = {_module_of(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    nodes = {m for m in files if m.count(".") <= 1}  # maze_env, maze_env.X (X a module or package)
    graph: dict[str, set[str]] = {m: set() for m in nodes}
    for module, path in files.items():
        src = _node(module, nodes)
        assert src is not None
        for stmt in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(stmt, ast.Import):
                names = [a.name for a in stmt.names]
            elif isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                # ``from pkg import sub`` depends on pkg.sub only (pkg runs first in any case)
                subs = [f"{stmt.module}.{a.name}" for a in stmt.names]
                names = [n for n in subs if n in nodes] or [stmt.module]
            for name in names:
                dst = _node(name, nodes)
                if dst is not None and dst != src and name.startswith("maze_env"):
                    graph[src].add(dst)
    return graph


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path ``start -> ... -> start`` in ``graph``, or None."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


# -- every package, file by file ---------------------------------------------------------------
ROOT = PACKAGE.parent
PACKAGES = tuple(
    name
    for name in ("maze_env", "agents", "train", "benchmarks")
    if (ROOT / name / "__init__.py").is_file()  # benchmarks: scripts, scanned once a package
)


def file_imports(path: Path, module: str, is_init: bool) -> set[str]:
    """Every name ``path`` imports, anywhere in the file (module level, inside functions, under
    ``TYPE_CHECKING``), relative imports resolved: ``from a import b`` gives ``a`` and ``a.b``."""
    out: set[str] = set()
    package = module if is_init else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[: len(up) - (node.level - 1)]
                base = ".".join(up + ([base] if base else []))
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names}
    return out


def file_import_graph(
    root: Path = ROOT, packages: tuple[str, ...] = PACKAGES
) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` it imports anywhere (one node per file). A package's
    ``__init__`` only re-exports, so it is no node: every submodule runs it first anyway."""
    files: dict[str, tuple[Path, bool]] = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            is_init = parts[-1] == "__init__"
            files[".".join(parts[:-1] if is_init else parts)] = (path, is_init)
    nodes = {m for m, (_, is_init) in files.items() if not is_init}
    graph: dict[str, set[str]] = {}
    for module in sorted(nodes):
        path, _ = files[module]
        graph[module] = {d for d in file_imports(path, module, False) if d in nodes and d != module}
    return graph


def all_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle ``[a, ..., a]`` per back edge of a depth-first walk (none: the graph is a DAG)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def test_file_import_graph_counts_lazy_typing_and_relative_imports(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "sub" / "__init__.py"):
        init.write_text("from pkg.sub import c\n")  # re-exports: no node, no edge
    (pkg / "a.py").write_text("def f():\n    from pkg import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .sub.c import X\n"
    )
    (pkg / "sub" / "c.py").write_text("from .. import a\nimport os\n")
    graph = file_import_graph(tmp_path, ("pkg",))
    assert graph == {"pkg.a": {"pkg.b"}, "pkg.b": {"pkg.sub.c"}, "pkg.sub.c": {"pkg.a"}}
    assert all_cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c", "pkg.a"]]
    assert all_cycles({"x": {"y"}, "y": set()}) == []


def test_no_file_imports_another_that_imports_it_back() -> None:
    """No import cycle between files in any package, counting every import (lazy ones too)."""
    assert {"maze_env", "agents", "train"} <= set(PACKAGES)
    graph = file_import_graph()
    assert "agents.harness.run_suites" in graph["agents.harness.report"]  # a lazy import, seen
    cycles = all_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_import_graph_finds_imports() -> None:
    graph = import_graph()
    assert "maze_env.env_config" in graph["maze_env.episodes"]
    assert "maze_env.observations" in graph["maze_env.env"]
    assert "maze_env.env" in graph["maze_env.wrappers"]
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycle_through(toy, "a") == ["a", "b", "c", "a"] and cycle_through(toy, "d") is None


@pytest.mark.parametrize("layer", LAYERS + ("vector_env",))
def test_env_modules_form_a_chain_not_a_circle(layer: str) -> None:
    graph = import_graph()
    cycle = cycle_through(graph, f"maze_env.{layer}")
    assert cycle is None, " -> ".join(cycle)


def test_the_chain_runs_config_episodes_observations_env_wrappers() -> None:
    graph = import_graph()
    for low, high in zip(LAYERS, LAYERS[1:], strict=False):
        assert f"maze_env.{high}" not in graph[f"maze_env.{low}"], (low, high)
    assert not {f"maze_env.{m}" for m in LAYERS[1:]} & graph["maze_env.env_config"]


def test_wrappers_read_no_private_state_of_the_env() -> None:
    tree = ast.parse((PACKAGE / "wrappers.py").read_text())
    private = [
        f"{ast.unparse(node.value)}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and ast.unparse(node.value) != "self"
    ]
    assert private == []


# -- one home per rule ------------------------------------------------------------------------
def test_action_maps_are_inverse() -> None:
    for action, (dr, dc) in enumerate(ACTION_DELTAS.tolist()):
        assert ACTION_OF_DELTA[(dr, dc)] == action
        assert ACTION_OF_DELTA_CODE[3 * (dr + 1) + (dc + 1)] == action
        assert action_between((5, 5), (5 + dr, 5 + dc)) == action
    assert (ACTION_OF_DELTA_CODE >= 0).sum() == 4 and ACTION_OF_DELTA_CODE[4] == -1  # a stay
    with pytest.raises(ValueError, match="not adjacent"):
        action_between((0, 0), (1, 1))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((0, 3, 9, 1, 10, 1.0, -0.1, -0.5), (-0.1, False, False, False)),  # a move
        ((3, 3, 9, 1, 10, 1.0, -0.1, -0.5), (-0.6, False, False, True)),  # a bump
        ((3, 9, 9, 10, 10, 2.0, -0.1, -0.5), (2.0, True, False, False)),  # goal beats the limit
        ((3, 3, 9, 10, 10, 1.0, -0.1, -0.5), (-0.6, False, True, True)),  # time out on a bump
    ],
)
def test_step_rules(args: tuple, expected: tuple) -> None:
    reward, terminated, truncated, hit = step_outcome(*args)
    assert (terminated, truncated, hit) == expected[1:]
    assert reward == pytest.approx(expected[0])


def test_episode_limits_defaults_and_overrides() -> None:
    shapes = np.array([[2, 3], [4, 4]])
    steps, step_pen, wall_pen = episode_limits(EnvConfig(shape=[(2, 3), (4, 4)]), shapes)
    assert steps.tolist() == [24, 64] and step_pen.tolist() == [-1 / 24, -1 / 64]
    assert (wall_pen == step_pen).all()
    cfg = EnvConfig(max_steps=5, step_penalty=-0.2, wall_penalty=-1)
    assert [v.tolist() for v in episode_limits(cfg, shapes)] == [[5, 5], [-0.2, -0.2], [-1, -1]]


CROSS = Maze.from_edges((2, 3), [((0, 1), (1, 1)), ((1, 0), (1, 1)), ((1, 1), (1, 2))])
"""2x3: (0, 1) joins (1, 1), which joins (1, 0) and (1, 2); three dead ends, two isolated cells."""


def test_degrees_and_dead_ends_have_one_home() -> None:
    assert cell_degrees(CROSS.connections).tolist() == [[0, 1, 0], [1, 3, 1]]
    assert (CROSS.degrees() == cell_degrees(CROSS.connections)).all()
    assert dead_end_cells(CROSS.connections).sum() == 3
    batch = np.stack([CROSS.connections, np.zeros_like(CROSS.connections)])
    masks = dead_end_mask(batch)
    assert masks[0].tolist() == [False, True, False, True, False, True] and masks[1].all()
    valid = np.array([[True] * 3 + [False] * 3])
    assert dead_end_mask(batch, valid)[1].tolist() == valid[0].tolist()
    assert (parse_placement("dead_end").mask((2, 3), CROSS).ravel() == masks[0]).all()


def test_env_dead_end_placement_matches_the_placement_rule() -> None:
    env = MazeEnv(shape=[(3, 3), (4, 5)], target="dead_end", origin="dead_end")
    for seed in range(20):
        _, info = env.reset(seed=seed)
        task = info["task"]
        allowed = parse_placement("dead_end").mask(task.maze.shape, task.maze)
        assert allowed[task.target] and allowed[task.origin] and task.origin != task.target


def test_env_distances_are_the_solvers_bfs() -> None:
    cfg = EnvConfig(shape=[(3, 4), (5, 5)], generator="prim")
    keys = np.arange(12, dtype=np.uint64)
    ep = draw_episodes(cfg, keys, keys + np.uint64(99), np.arange(12))
    _, dist = ep.tables()
    cols = cfg.grid_shape[1]
    for i in range(12):
        task = ep.task(i)
        expected = bfs_distances(task.maze, task.target)
        rows_, cols_ = task.maze.shape
        got = dist[i].reshape(-1, cols)[:rows_, :cols_]
        assert (got == expected).all()


@pytest.mark.parametrize(
    ("value", "shape"),
    [("6x6", (6, 6)), (" 3 X 4 ", (3, 4)), ("5,7", (5, 7)), ("7", (7, 7)), (7, (7, 7)),
     ((2, 9), (2, 9)), ([4, 5], (4, 5)), (np.int64(3), (3, 3))],
)  # fmt: skip
def test_parse_shape_forms(value: object, shape: tuple[int, int]) -> None:
    assert parse_shape(value) == shape


def test_parse_shapes_is_the_envs_and_rejects_text() -> None:
    assert parse_shapes(range(3, 5)) == ((3, 3), (4, 4))
    assert parse_shapes([(3, 4), 5, (3, 4)]) == ((3, 4), (5, 5))
    assert parse_shapes((2, 7)) == ((2, 7),)
    for bad in ("6x6", ["6x6"], [], [range(2, 4)]):
        with pytest.raises(ValueError, match="shape"):
            parse_shapes(bad)
    with pytest.raises(ValueError, match="6x6, 6,6"):
        parse_shape("6by6")


# -- one argument list ------------------------------------------------------------------------
CONFIG_ARGS = [n for n in inspect.signature(EnvConfig).parameters]


def test_signature_of_the_env_is_the_configs_fields_plus_rendering() -> None:
    params = inspect.signature(MazeEnv).parameters
    assert list(params) == [*CONFIG_ARGS, "render_mode", "render_cell_px"]
    assert [n for n, p in params.items() if p.kind is p.POSITIONAL_OR_KEYWORD] == [
        "shape",
        "generator",
        "generator_params",
    ]
    assert params["obs_mode"].default == "grid" and params["render_cell_px"].default == 32
    vec = inspect.signature(MazeVectorEnv).parameters
    assert list(vec)[:4] == ["num_envs", "autoreset_mode", "render_mode", "render_cell_px"]
    assert list(vec)[4:] == CONFIG_ARGS
    assert all(p.kind is p.KEYWORD_ONLY for p in list(vec.values())[1:])


def test_help_shows_the_real_arguments_and_their_docs() -> None:
    text = pydoc.render_doc(MazeEnv, renderer=pydoc.plaintext)
    head = text.split("Method resolution")[0]
    assert "MazeEnv(shape: 'Any' = None, generator: 'str' = 'dfs', generator_params:" in head
    assert "*, obs_mode: 'str' = 'grid', target:" in head and "**kwargs" not in head
    assert "__init__(self, shape: 'Any' = None" in text and "render_cell_px: 'int' = 32)" in text
    assert "token_scheme: Scheme of the tokens observation" in MazeEnv.__doc__
    assert "render_mode: ``None``" in MazeEnv.__doc__


def test_positional_keyword_and_make_agree() -> None:
    a = MazeEnv((3, 4), "kruskal", None, target="corner:br")
    b = MazeEnv(shape=(3, 4), generator="kruskal", target="corner:br")
    c = gym.make("maze_env/Maze-v0", shape=(3, 4), generator="kruskal", target="corner:br")
    tasks = [env.reset(seed=5)[1]["task"] for env in (a, b, c)]
    assert tasks[0] == tasks[1] == tasks[2]
    assert a.spec is not None and a.spec.kwargs["generator"] == "kruskal"


def test_a_wrong_argument_names_the_env_and_its_arguments() -> None:
    with pytest.raises(TypeError, match=r"MazeEnv\(\): got an unexpected keyword .*'shpe'.*pad_to"):
        MazeEnv(shpe=(3, 3))
    with pytest.raises(TypeError, match=r"MazeVectorEnv\(\): .*'obs'.*obs_mode"):
        MazeVectorEnv(2, obs="grid")


def test_config_is_plain_data_loadable_from_a_mapping() -> None:
    cfg = EnvConfig.from_dict({"shape": [[3, 3], [4, 5]], "visited": True, "max_steps": 9.0})
    assert cfg.shapes == ((3, 3), (4, 5)) and cfg.grid_shape == (4, 5) and cfg.padded
    assert cfg.max_steps == 9 and isinstance(cfg.max_steps, int)
    assert EnvConfig(**cfg.arguments()).shapes == cfg.shapes
    with pytest.raises(ValueError, match="unknown env argument.*allowed: shape, generator"):
        EnvConfig.from_dict({"shapes": [3, 3]})
    with pytest.raises(AttributeError, match="moved: use maze_env.observations.grid_space"):
        cfg.grid_space()  # noqa: B018


# -- wrappers over public state ---------------------------------------------------------------
def test_tokens_wrapper_follows_set_target_like_the_native_mode() -> None:
    snake = Task.from_ascii("#######\n#S    #\n##### #\n#E    #\n#######")
    native = MazeEnv(shape=(2, 3), obs_mode="tokens")
    wrapped = TokensObservation(MazeEnv(shape=(2, 3)))
    for env in (native, wrapped):
        env.reset(seed=1, options={"task": snake})
        env.step(1)
        env.unwrapped.set_target((0, 2))
    for action in (3, 1, 1):
        x, y = native.step(action)[0], wrapped.step(action)[0]
        assert (x == y).all()

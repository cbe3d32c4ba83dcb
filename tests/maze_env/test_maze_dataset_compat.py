"""Our tokens against the real maze-dataset package (skipped when it is not installed).

Run with the peers environment, e.g.
``PYTHONPATH=. .venv-peers/bin/python -m pytest tests/maze_env/test_maze_dataset_compat.py``.
maze-dataset 1.4.2 imports only with ``muutils==0.8.12``.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest

with warnings.catch_warnings():  # it warns on import when the optional rust_fst is missing
    warnings.simplefilter("ignore")
    md = pytest.importorskip("maze_dataset")
    from maze_dataset import LatticeMaze, LatticeMazeGenerators, SolvedMaze
    from maze_dataset.tokenization import MazeTokenizer, MazeTokenizerModular, TokenizationMode
    from maze_dataset.tokenization.modular.elements import (
        AdjListTokenizers,
        EdgeSubsets,
        PromptSequencers,
    )

from maze_env import Maze  # noqa: E402
from maze_env.tokens import Vocabulary, parse, tokenize  # noqa: E402

pytestmark = [  # maze-dataset warns about its own deprecations on every call
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

GRID_SIZES = (2, 3, 5, 7)


@pytest.fixture(autouse=True)
def _restore_numpy_global_rng() -> Iterator[None]:
    """maze-dataset draws from numpy's global state; seed it here and put it back afterwards."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(1234)  # noqa: NPY002
    yield
    np.random.set_state(state)  # noqa: NPY002


def their_mazes(n_each: int = 4) -> list[SolvedMaze]:
    out = []
    for n in GRID_SIZES:
        for _ in range(n_each):
            for gen in (LatticeMazeGenerators.gen_dfs, LatticeMazeGenerators.gen_wilson):
                maze = gen(np.array([n, n]))
                out.append(SolvedMaze.from_lattice_maze(maze, maze.generate_random_path()))
            loops = LatticeMazeGenerators.gen_dfs_percolation(np.array([n, n]), p=0.3)
            out.append(SolvedMaze.from_lattice_maze(loops, loops.generate_random_path()))
            for _ in range(20):  # percolation: may leave cells isolated; retry until a path exists
                perc = LatticeMazeGenerators.gen_percolation(np.array([n, n]), p=0.6)
                path = perc.generate_random_path(except_on_no_valid_endpoint=False)
                if path is not None and len(path) > 1:
                    out.append(SolvedMaze.from_lattice_maze(perc, path))
                    break
    return out


def tokenizers(n: int) -> dict[str, tuple[object, str]]:
    """maze-dataset tokenizers and the scheme of ours that writes the same format."""
    return {
        "legacy_rasterized": (
            MazeTokenizer(tokenization_mode=TokenizationMode.AOTP_UT_rasterized, max_grid_size=n),
            "aotp",
        ),
        "legacy_uniform": (
            MazeTokenizer(tokenization_mode=TokenizationMode.AOTP_UT_uniform, max_grid_size=n),
            "aotp",
        ),
        "legacy_ctt": (
            MazeTokenizer(tokenization_mode=TokenizationMode.AOTP_CTT_indexed, max_grid_size=n),
            "aotp_split",
        ),
        "modular_default": (MazeTokenizerModular(), "aotp"),
    }


def cells(arr: np.ndarray) -> list[tuple[int, int]]:
    return [(int(r), int(c)) for r, c in np.asarray(arr).reshape(-1, 2)]


def test_their_tokens_parse_here() -> None:
    for solved in their_mazes():
        n = solved.grid_shape[0]
        for name, (tok, _) in tokenizers(n).items():
            tokens = solved.as_tokens(tok)
            parsed = parse(tokens, shape=(n, n))
            assert parsed.ok, (name, parsed.problems)
            np.testing.assert_array_equal(parsed.maze.connections, solved.connection_list)
            assert parsed.origin == tuple(int(v) for v in solved.start_pos)
            assert parsed.target == tuple(int(v) for v in solved.end_pos)
            assert parsed.path == cells(solved.solution)
            if Maze(solved.connection_list).is_connected():  # the edges span the grid: infer it
                assert parse(" ".join(tokens)).maze == parsed.maze


def test_our_tokens_parse_there() -> None:
    rng = np.random.default_rng(0)
    for solved in their_mazes():
        n = solved.grid_shape[0]
        maze = Maze(solved.connection_list.astype(bool))
        origin, target = tuple(solved.start_pos.tolist()), tuple(solved.end_pos.tolist())
        path = cells(solved.solution)
        if max((max(max(a), max(b)) for a, b in maze.edges()), default=-1) != n - 1:
            continue  # their from_adj_list infers the grid from the edges: they must reach n - 1
        for name, (tok, scheme) in tokenizers(n).items():
            ours = tokenize(maze, origin, target, path, scheme=scheme, rng=rng)
            theirs = LatticeMaze.from_tokens(ours, tok)
            assert isinstance(theirs, SolvedMaze), name
            np.testing.assert_array_equal(theirs.connection_list, solved.connection_list)
            assert cells(theirs.start_pos) == [origin] and cells(theirs.end_pos) == [target]
            assert cells(theirs.solution) == path
            prompt = LatticeMaze.from_tokens(
                tokenize(maze, origin, target, scheme=scheme, rng=rng), tok
            )
            assert not isinstance(prompt, SolvedMaze)  # a prompt: targeted, no solution
            assert cells(prompt.start_pos) == [origin]


def edge_groups(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(edge groups as strings, everything after <ADJLIST_END>)."""
    end = tokens.index("<ADJLIST_END>")
    body = " ".join(tokens[1:end])
    return [g.strip() + " ;" for g in body.split(";") if g.strip()], tokens[end:]


def test_text_is_byte_identical_up_to_edge_order_and_direction() -> None:
    """The edge order and directions are random in both; everything else must match byte for byte."""
    rng = np.random.default_rng(5)
    for solved in their_mazes(2):
        n = solved.grid_shape[0]
        maze = Maze(solved.connection_list.astype(bool))
        origin, target = tuple(solved.start_pos.tolist()), tuple(solved.end_pos.tolist())
        for tok, scheme in tokenizers(n).values():
            theirs = solved.as_tokens(tok)
            ours = tokenize(maze, origin, target, cells(solved.solution), scheme=scheme, rng=rng)
            assert len(ours) == len(theirs) and ours[0] == theirs[0] == "<ADJLIST_START>"
            their_groups, their_tail = edge_groups(theirs)
            our_groups, our_tail = edge_groups(ours)
            assert our_tail == their_tail
            fmt = "( {} , {} )" if scheme == "aotp_split" else "({},{})"
            both_ways = Counter()
            for a, b in maze.edges():
                both_ways[f"{fmt.format(*a)} <--> {fmt.format(*b)} ;"] += 1
                both_ways[f"{fmt.format(*b)} <--> {fmt.format(*a)} ;"] += 1
            assert all(both_ways[g] == 1 for g in their_groups + our_groups)
            assert sorted(map(both_ways.get, their_groups)) == [1] * maze.n_edges
            assert len(their_groups) == len(our_groups) == maze.n_edges


def test_walls_scheme_matches_their_wall_edges() -> None:
    walls = AdjListTokenizers.AdjListCoord(edge_subset=EdgeSubsets.ConnectionEdges(walls=True))
    tok = MazeTokenizerModular(prompt_sequencer=PromptSequencers.AOTP(adj_list_tokenizer=walls))
    for solved in their_mazes(2):
        n = solved.grid_shape[0]
        parsed = parse(solved.as_tokens(tok), shape=(n, n), scheme="aotp_walls")
        assert parsed.ok, parsed.problems
        np.testing.assert_array_equal(parsed.maze.connections, solved.connection_list)
        assert parsed.path == cells(solved.solution)


def test_coordinate_ids_match_their_rasterized_vocabulary() -> None:
    """Our ids for coordinates and the first ten special tokens equal maze-dataset's
    ``AOTP_UT_rasterized`` ids; id 10 is their <PADDING> but our <XX> (our padding is last)."""
    for n in GRID_SIZES:
        theirs = MazeTokenizer(
            tokenization_mode=TokenizationMode.AOTP_UT_rasterized, max_grid_size=n
        )
        ours = Vocabulary(n)
        assert list(ours.tokens[:10]) == theirs.token_arr[:10]
        assert list(ours.tokens[11:-1]) == theirs.token_arr[11:]
        assert theirs.token_arr[10] == "<PADDING>" == ours.tokens[ours.pad_id]


def test_their_prompt_parses_as_a_prompt() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solved in their_mazes(1):
            tok = MazeTokenizer(
                tokenization_mode=TokenizationMode.AOTP_UT_rasterized,
                max_grid_size=solved.grid_shape[0],
            )
            tokens = solved.as_tokens(tok)
            prompt = tokens[: tokens.index("<PATH_START>") + 1]
            parsed = parse(prompt, shape=solved.grid_shape)
            assert parsed.ok and parsed.path is None
            assert parsed.origin == tuple(solved.start_pos.tolist())

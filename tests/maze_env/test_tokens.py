"""maze_env.tokens: exact AOTP text, round trips for every scheme, vocabulary, fuzzed parse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maze_env import Maze, Task, generate
from maze_env.solve import shortest_path
from maze_env.tokens import (
    PADDING,
    SCHEMES,
    SPECIAL_TOKENS,
    GridVocabulary,
    Vocabulary,
    make_vocabulary,
    parse,
    tokenize,
)

HAND = Maze.from_edges((2, 2), [((0, 0), (0, 1)), ((0, 1), (1, 1)), ((1, 0), (1, 1))])
HAND_TEXT = (
    "<ADJLIST_START> (0,0) <--> (0,1) ; (0,1) <--> (1,1) ; (1,0) <--> (1,1) ; <ADJLIST_END> "
    "<ORIGIN_START> (0,0) <ORIGIN_END> <TARGET_START> (1,1) <TARGET_END> "
    "<PATH_START> (0,0) (0,1) (1,1) <PATH_END>"
)
SEED_TEXT = (  # the example of ../shared/seeds/000 (maze-dataset's AOTP, as published)
    "<ADJLIST_START> (4,4) <--> (3,4) ; (5,2) <--> (5,1) ; (0,2) <--> (0,1) ; (0,2) <--> (1,2) ; "
    "(2,1) <--> (1,1) ; (0,3) <--> (0,4) ; (3,0) <--> (2,0) ; (0,0) <--> (1,0) ; (0,5) <--> (0,4) ; "
    "(1,5) <--> (2,5) ; (4,3) <--> (3,3) ; (0,1) <--> (0,0) ; (3,1) <--> (2,1) ; (1,1) <--> (0,1) ; "
    "(3,0) <--> (4,0) ; (3,5) <--> (4,5) ; (4,1) <--> (3,1) ; (5,0) <--> (5,1) ; (3,4) <--> (2,4) ; "
    "(4,0) <--> (5,0) ; (2,4) <--> (2,5) ; (3,3) <--> (3,2) ; (5,5) <--> (5,4) ; (1,4) <--> (1,3) ; "
    "(5,3) <--> (5,4) ; (5,5) <--> (4,5) ; (2,2) <--> (3,2) ; (4,2) <--> (4,1) ; (0,2) <--> (0,3) ; "
    "(2,2) <--> (2,3) ; (4,5) <--> (4,4) ; (1,5) <--> (1,4) ; (5,2) <--> (5,3) ; (2,0) <--> (2,1) ; "
    "(2,3) <--> (1,3) ; <ADJLIST_END> <ORIGIN_START> (0,0) <ORIGIN_END> <TARGET_START> (3,2) "
    "<TARGET_END> <PATH_START> (0,0) (0,1) (1,1) (2,1) (2,0) (3,0) (4,0) (5,0) (5,1) (5,2) (5,3) "
    "(5,4) (5,5) (4,5) (4,4) (3,4) (2,4) (2,5) (1,5) (1,4) (1,3) (2,3) (2,2) (3,2) <PATH_END>"
)


def sample_tasks() -> list[tuple[Maze, tuple[int, int], tuple[int, int]]]:
    out = []
    rng = np.random.default_rng(0)
    for i, shape in enumerate([(2, 2), (3, 5), (6, 6), (1, 6), (7, 2), (10, 10)]):
        for s in range(3):
            maze = generate("dfs", shape, seed=10 * i + s)
            if s == 2:  # open some walls: loops
                conn = maze.connections.copy()
                conn[0, :-1] |= rng.random(conn[0, :-1].shape) < 0.2
                conn[1, :, :-1] |= rng.random(conn[1, :, :-1].shape) < 0.2
                maze = Maze(conn)
            o = (int(rng.integers(shape[0])), int(rng.integers(shape[1])))
            t = (int(rng.integers(shape[0])), int(rng.integers(shape[1])))
            out.append((maze, o, t))
    return out


TASKS = sample_tasks()


# -- the exact text ---------------------------------------------------------------------------------


def test_exact_aotp_text() -> None:
    path = [(0, 0), (0, 1), (1, 1)]
    assert " ".join(tokenize(HAND, (0, 0), (1, 1), path)) == HAND_TEXT  # rng=None: sorted
    assert " ".join(tokenize(HAND, (0, 0), (1, 1), path, scheme="aotp_sorted")) == HAND_TEXT
    prompt = tokenize(HAND, (0, 0), (1, 1))
    assert " ".join(prompt) == HAND_TEXT[: HAND_TEXT.index("<PATH_START>") + len("<PATH_START>")]
    split = " ".join(tokenize(HAND, (0, 0), (1, 1), path, scheme="aotp_split"))
    assert split.startswith("<ADJLIST_START> ( 0 , 0 ) <--> ( 0 , 1 ) ; ( 0 , 1 ) <--> ( 1 , 1 ) ;")
    assert split.endswith("<PATH_START> ( 0 , 0 ) ( 0 , 1 ) ( 1 , 1 ) <PATH_END>")
    walls = " ".join(tokenize(HAND, (0, 0), (1, 1), scheme="aotp_walls"))
    assert walls.startswith("<ADJLIST_START> (0,0) <XX> (1,0) ; <ADJLIST_END>")


def test_seed_example_parses() -> None:
    parsed = parse(SEED_TEXT)
    assert parsed.ok, parsed.problems
    assert parsed.maze.shape == (6, 6) and parsed.maze.is_perfect()
    assert parsed.origin == (0, 0) and parsed.target == (3, 2)
    assert parsed.path == shortest_path(parsed.maze, (0, 0), (3, 2))


def test_shuffled_order_is_seeded_and_random() -> None:
    maze = generate("dfs", (6, 6), seed=1)
    a = tokenize(maze, (0, 0), (5, 5), rng=np.random.default_rng(7))
    b = tokenize(maze, (0, 0), (5, 5), rng=np.random.default_rng(7))
    c = tokenize(maze, (0, 0), (5, 5), rng=np.random.default_rng(8))
    assert a == b and a != c
    edges = [(a[i], a[i + 2]) for i in range(1, 4 * maze.n_edges, 4)]
    assert any(x > y for x, y in edges) and any(x < y for x, y in edges)  # both directions
    assert {tuple(sorted(e)) for e in edges} == {
        tuple(f"({r},{c})" for r, c in e) for e in maze.edges()
    }  # the same edges, each once
    assert parse(a).maze == maze
    assert tokenize(maze, (0, 0), (5, 5), scheme="aotp_sorted", rng=np.random.default_rng(7)) == (
        tokenize(maze, (0, 0), (5, 5))
    )


# -- round trips -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_round_trip_every_scheme(scheme: str) -> None:
    rng = np.random.default_rng(1)
    for maze, o, t in TASKS:
        path = shortest_path(maze, o, t)
        for p in (path, None):
            tokens = tokenize(maze, o, t, p, scheme=scheme, rng=rng)
            assert all(isinstance(x, str) and x and " " not in x for x in tokens)
            shape = maze.shape if "walls" in scheme else None  # walls alone need not span the grid
            for given_tokens in (tokens, " ".join(tokens)):
                parsed = parse(given_tokens, shape=shape, scheme=scheme)
                assert parsed.ok, (scheme, parsed.problems)
                assert (parsed.maze, parsed.origin, parsed.target, parsed.path) == (maze, o, t, p)
                assert parsed.task == Task(maze, o, t)


def test_walls_shape_inferred_when_the_walls_reach_the_edges() -> None:
    maze = generate("dfs", (5, 5), seed=3)
    tokens = tokenize(
        maze, (0, 0), (4, 4), shortest_path(maze, (0, 0), (4, 4)), scheme="aotp_walls"
    )
    assert parse(tokens).maze == maze  # the path reaches (4,4), so the grid is known


def test_tokenize_errors() -> None:
    with pytest.raises(ValueError, match="unknown token scheme 'aotp_x'; known: aotp"):
        tokenize(HAND, (0, 0), (1, 1), scheme="aotp_x")
    with pytest.raises(ValueError, match="target .* outside the 2x2 grid"):
        tokenize(HAND, (0, 0), (2, 1))
    with pytest.raises(ValueError, match=r"path\[1\]"):
        tokenize(HAND, (0, 0), (1, 1), [(0, 0), (5, 5)])


# -- parse problems ----------------------------------------------------------------------------------


def problems_of(text: str, **kw) -> list[str]:
    return parse(text, **kw).problems


def test_parse_reports_problems() -> None:
    full = HAND_TEXT.split()
    truncated = parse(full[:-3])
    assert truncated.path == [(0, 0)] and truncated.maze == HAND
    assert any("truncated" in p for p in truncated.problems)
    jump = parse(HAND_TEXT.replace("(0,0) (0,1) (1,1) <PATH_END>", "(0,0) (1,1) <PATH_END>"))
    assert jump.path == [(0, 0), (1, 1)] and any("jumps" in p for p in jump.problems)
    wall = parse(HAND_TEXT.replace("(0,0) (0,1) (1,1) <PATH_END>", "(0,0) (1,0) (1,1) <PATH_END>"))
    assert any("crosses a wall" in p for p in wall.problems)
    unknown = parse(HAND_TEXT.replace("<ORIGIN_END>", "<ORIGIN_END> banana"))
    assert unknown.maze == HAND and any("unknown token 'banana'" in p for p in unknown.problems)
    outside = parse(HAND_TEXT.replace("<TARGET_START> (1,1)", "<TARGET_START> (9,9)"), shape=(2, 2))
    assert outside.target is None and any("outside the 2x2 grid" in p for p in outside.problems)
    bad_edge = parse(HAND_TEXT.replace("(1,0) <--> (1,1) ;", "(1,0) <--> (0,1) ; (1,0) (1,1) ;"))
    assert any("not adjacent" in p for p in bad_edge.problems)
    assert any("malformed edge" in p for p in bad_edge.problems)
    padded = parse(HAND_TEXT + f" {PADDING} {PADDING}")
    assert padded.ok
    assert parse("").problems and parse("").maze is None
    assert any("no origin section" in p for p in problems_of("<ADJLIST_START> <ADJLIST_END>"))
    split_tokens = tokenize(HAND, (0, 0), (1, 1), [(0, 0)], scheme="aotp_split")
    split_cut = parse(split_tokens[:-4])  # "... <PATH_START> ( 0"
    assert split_cut.path is None and split_cut.maze == HAND
    assert any("incomplete coordinate '( 0'" in p for p in split_cut.problems)


def test_parse_caps_the_problem_list() -> None:
    problems = parse(" ".join(["junk"] * 500)).problems
    assert len(problems) == 51 and problems[-1].startswith("... and")


# -- vocabulary -------------------------------------------------------------------------------------


def test_vocabulary_layout() -> None:
    v = Vocabulary((3, 4))
    assert v.tokens[: len(SPECIAL_TOKENS)] == SPECIAL_TOKENS
    assert v.tokens[:3] == ("<ADJLIST_START>", "<ADJLIST_END>", "<TARGET_START>")
    assert v.id_of("<XX>") == 10 and v.id_of("(0,0)") == 11 and v.id_of("(1,2)") == 11 + 4 + 2
    assert v.id_of("(2,3)") == 11 + 11 and v.pad_id == len(v) - 1 == 23
    assert v.tokens[v.pad_id] == PADDING
    s = Vocabulary(5, "aotp_split_walls")
    assert s.tokens[11:14] == ("(", ",", ")") and s.tokens[14:19] == tuple("01234")
    assert s.pad_id == len(s) - 1 == 19
    assert Vocabulary(4).tokens == Vocabulary((4, 4), "aotp_sorted").tokens


def test_vocabulary_encode_decode() -> None:
    v = Vocabulary(6)
    tokens = HAND_TEXT.split()
    ids = v.encode(tokens)
    assert (
        ids.dtype == np.int32
        and v.decode(ids) == tokens
        and v.encode(HAND_TEXT).tolist() == ids.tolist()
    )
    with pytest.raises(KeyError, match=r"'\(6,0\)' is not in Vocabulary"):
        v.encode(["(6,0)"])
    with pytest.raises(ValueError, match="outside this vocabulary"):
        v.decode([len(v)])
    padded = np.concatenate([ids, [v.pad_id] * 3])
    assert v.decode(padded, strip_padding=True) == tokens


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_encode_tasks_matches_tokenize(scheme: str) -> None:
    v = make_vocabulary((10, 10), scheme)
    for shape in [(6, 6), (3, 5)]:
        mazes = [generate("dfs", shape, seed=s) for s in range(8)]
        tasks = [Task(m, (0, 0), (shape[0] - 1, shape[1] - 1)) for m in mazes]
        paths = [shortest_path(t.maze, t.origin, t.target) for t in tasks]
        for given_paths in (None, paths, "shortest"):
            ids = v.encode_tasks(tasks, paths=given_paths, rng=np.random.default_rng(3))
            rng = np.random.default_rng(3)
            want = [
                tokenize(
                    t.maze, t.origin, t.target, None if given_paths is None else p, scheme, rng
                )
                for t, p in zip(tasks, paths, strict=True)
            ]
            assert ids.dtype == np.int32 and ids.shape == (8, max(map(len, want)))
            assert v.decode_batch(ids) == want


def test_encode_tasks_mixed_shapes_padding_and_errors() -> None:
    v = Vocabulary((6, 6))
    tasks = [Task(generate("dfs", s, seed=1), (0, 0), (1, 1)) for s in [(2, 2), (6, 6), (3, 4)]]
    ids = v.encode_tasks(tasks, paths="shortest", length=200)
    assert ids.shape == (3, 200)
    for row, t in zip(ids, tasks, strict=True):
        want = tokenize(t.maze, t.origin, t.target, shortest_path(t.maze, t.origin, t.target))
        assert v.decode(row, strip_padding=True) == want
        assert (row[len(want) :] == v.pad_id).all()
    with pytest.raises(ValueError, match="length=10; raise length"):
        v.encode_tasks(tasks, length=10)
    big = Task(generate("dfs", (7, 3), seed=1), (0, 0), (1, 1))
    with pytest.raises(ValueError, match=r"7x3 maze does not fit .* max_shape \(6, 6\)"):
        v.encode_tasks([big])
    with pytest.raises(ValueError, match="2 paths for 3 tasks"):
        v.encode_tasks(tasks, paths=[[(0, 0)], [(0, 0)]])
    assert v.encode_tasks([]).shape == (0, 0)


def test_encode_arrays_takes_batches_and_array_paths() -> None:
    from maze_env import generate_batch
    from maze_env.solve import batch_shortest_path_arrays

    v = Vocabulary((8, 8), "aotp_split")
    batch = generate_batch("dfs", (5, 7), 16, seed=2)
    origins = np.zeros((16, 2), dtype=int)
    targets = np.tile([4, 6], (16, 1))
    cells, lengths = batch_shortest_path_arrays(batch, origins, targets)
    ids = v.encode_arrays(batch, origins, targets, (cells, lengths), rng=np.random.default_rng(4))
    tasks = [Task(m, (0, 0), (4, 6)) for m in batch]
    assert (ids == v.encode_tasks(tasks, "shortest", rng=np.random.default_rng(4))).all()
    wide = np.zeros((16, 2, 8, 8), dtype=bool)
    wide[:, :, :5, :7] = batch.connections
    view = wide[:, :, :5, :7]  # not contiguous
    assert (
        v.encode_arrays(view, origins, targets, "shortest") == v.encode_tasks(tasks, "shortest")
    ).all()
    with pytest.raises(ValueError, match="outside the 5x7 grid"):
        v.encode_arrays(batch, origins, targets, [[(0, 0), (5, 0)]] + [[(0, 0)]] * 15)


# -- fuzzing -----------------------------------------------------------------------------------------

_VOCAB = [
    *SPECIAL_TOKENS,
    PADDING,
    "(",
    ")",
    ",",
    "0",
    "1",
    "7",
    "-3",
    "(0,0)",
    "(0,1)",
    "(1,1)",
    "(1,0)",
    "(2,5)",
    "(-1,0)",
    "(999999,3)",
    "(3,",
    "garbage",
    "",
    "<PAD>",
]


@st.composite
def token_lists(draw: st.DrawFn) -> list[str]:
    kind = draw(st.sampled_from(["pool", "mutate", "text"]))
    if kind == "pool":
        return draw(st.lists(st.sampled_from(_VOCAB) | st.text(max_size=6), max_size=80))
    if kind == "text":
        return draw(st.text(max_size=200)).split()
    maze, o, t = TASKS[draw(st.integers(0, len(TASKS) - 1))]
    scheme = draw(st.sampled_from(list(SCHEMES)))
    tokens = tokenize(maze, o, t, shortest_path(maze, o, t), scheme=scheme)
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(tokens)))
        op = draw(st.sampled_from(["cut", "drop", "insert", "swap"]))
        if op == "cut":
            tokens = tokens[:i]
        elif op == "drop":
            tokens = tokens[:i] + tokens[i + 1 :]
        elif op == "insert":
            tokens = [*tokens[:i], draw(st.sampled_from(_VOCAB)), *tokens[i:]]
        elif i + 1 < len(tokens):
            tokens[i], tokens[i + 1] = tokens[i + 1], tokens[i]
    return tokens


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=token_lists(), shape=st.none() | st.tuples(st.integers(1, 12), st.integers(1, 12)))
def test_parse_never_raises(tokens: list[str], shape: tuple[int, int] | None) -> None:
    parsed = parse(tokens, shape=shape)
    assert isinstance(parsed.problems, list)
    assert all(isinstance(p, str) for p in parsed.problems)
    assert not any(p.startswith("internal parser error") for p in parsed.problems), parsed.problems
    if parsed.maze is not None and parsed.origin is not None:
        rows, cols = parsed.maze.shape
        assert 0 <= parsed.origin[0] < rows and 0 <= parsed.origin[1] < cols
    if shape is not None and parsed.maze is not None:
        assert parsed.maze.shape == shape
    parse(" ".join(tokens), shape=shape)


# -- the compact grid schemes ------------------------------------------------------------------------


def test_grid_exact_text_and_length() -> None:
    path = [(0, 0), (0, 1), (1, 1)]
    # (0,0): right open = 2, origin; (0,1): left + down = 8 + 4; (1,0): right = 2; (1,1): up + left
    assert " ".join(tokenize(HAND, (0, 0), (1, 1), path, scheme="grid")) == (
        "o2 c12 <EOL> c2 t9 <EOL> <PATH_START> RIGHT DOWN <PATH_END>"
    )
    assert " ".join(tokenize(HAND, (0, 0), (1, 1), path, scheme="grid_cells")).endswith(
        "<PATH_START> row0 col0 row0 col1 row1 col1 <PATH_END>"
    )
    assert tokenize(HAND, (1, 1), (1, 1), scheme="grid")[4] == "x9"  # origin == target
    maze = generate("dfs", (6, 6), seed=0)
    assert len(tokenize(maze, (0, 0), (5, 5), scheme="grid")) == 6 * 7 + 1  # vs ~150 for aotp


def test_grid_vocabulary_is_size_independent() -> None:
    small, big = make_vocabulary(4, "grid"), make_vocabulary((30, 30), "grid")
    assert small.tokens == big.tokens and len(small) == 7 + 64 + 1
    tasks = [Task(generate("dfs", (12, 9), seed=s), (0, 0), (11, 8)) for s in range(3)]
    ids = small.encode_tasks(tasks, paths="shortest")  # larger than max_shape: fine for moves
    assert small.decode_batch(ids)[0] == tokenize(
        tasks[0].maze, (0, 0), (11, 8), shortest_path(tasks[0].maze, (0, 0), (11, 8)), "grid"
    )
    with pytest.raises(ValueError, match=r"12x9 maze does not fit .* max_shape \(4, 4\)"):
        make_vocabulary(4, "grid_cells").encode_tasks(tasks)
    with pytest.raises(ValueError, match="not a single move"):
        small.encode_tasks(tasks[:1], paths=[[(0, 0), (0, 2)]])


def test_make_vocabulary_picks_the_class_and_each_class_refuses_the_other_schemes() -> None:
    for scheme in SCHEMES:
        want = GridVocabulary if scheme.startswith("grid") else Vocabulary
        assert type(make_vocabulary(5, scheme)) is want, scheme
    assert make_vocabulary((3, 4)).tokens == Vocabulary((3, 4)).tokens
    with pytest.raises(ValueError, match=r"'grid' is a grid scheme.*make_vocabulary\(max_shape"):
        Vocabulary(4, "grid")
    with pytest.raises(ValueError, match="'aotp' is not a grid scheme"):
        GridVocabulary(4, "aotp")
    with pytest.raises(ValueError, match="unknown token scheme 'nope'"):
        make_vocabulary(4, "nope")


def test_grid_parse_reports_problems() -> None:
    def problems(text: str) -> list[str]:
        return parse(text).problems

    assert problems("o2 c8 <EOL> c0 t0 <EOL> <PATH_START>") == []  # a 2x2 maze, one passage
    assert any("disagree" in p for p in problems("o2 c0 <EOL> c0 t0 <EOL> <PATH_START>"))
    assert any("outside of the grid" in p for p in problems("o1 c0 <EOL> c0 t0 <EOL> <PATH_START>"))
    assert any("has 1 cells" in p for p in problems("o0 c0 <EOL> t0 <EOL> <PATH_START>"))
    assert any("no <EOL>" in p for p in problems("o0 c0 <EOL> c0 t0 <PATH_START>"))
    assert any("no origin" in p for p in problems("c0 c0 <EOL> c0 t0 <EOL> <PATH_START>"))
    walk = parse("o2 c8 <EOL> c0 t0 <EOL> <PATH_START> RIGHT RIGHT <PATH_END>")
    assert walk.path == [(0, 0), (0, 1), (0, 2)]
    assert any("outside the 2x2 grid" in p for p in walk.problems)
    wall = parse("o2 c8 <EOL> c0 t0 <EOL> <PATH_START> DOWN <PATH_END>")
    assert any("crosses a wall" in p for p in wall.problems)
    assert parse("o2 c8 <EOL> c0 t0 <EOL> <PATH_START> row0 col0 row0 <PATH_END>").problems

"""Generators: invariants over every generator and shape, options, reproducibility, uniformity."""

from __future__ import annotations

import itertools
import math
from collections import Counter, deque

import numpy as np
import pytest

from maze_env.generators import GENERATORS, check_shape, generate, generate_batch, get_spec
from maze_env.maze import Maze, MazeBatch

ALL = list(GENERATORS)
PERFECT = [name for name, spec in GENERATORS.items() if spec.perfect]
DETERMINISTIC = {"open_field"}  # ignores the seed
SHAPES = [(1, 2), (1, 7), (6, 1), (2, 2), (3, 5), (10, 10)]
SEED = 20240917

EXPECTED = {
    "dfs", "wilson", "kruskal", "prim", "recursive_division", "aldous_broder", "binary_tree",
    "sidewinder", "hunt_and_kill", "growing_tree", "percolation", "dfs_percolation", "braid",
    "open_field", "open_field_obstacle",
}  # fmt: skip


def degrees(conn: np.ndarray) -> np.ndarray:
    """``int[..., R, C]`` passages per cell of ``conn: bool[..., 2, R, C]``."""
    down, right = conn[..., 0, :, :], conn[..., 1, :, :]
    deg = down.astype(np.int64) + right
    deg[..., 1:, :] += down[..., :-1, :]
    deg[..., :, 1:] += right[..., :, :-1]
    return deg


def distances(maze: Maze, source: tuple[int, int]) -> np.ndarray:
    """BFS distances from ``source`` (-1 where unreachable), written here to stay independent."""
    dist = np.full(maze.shape, -1, dtype=np.int64)
    dist[source] = 0
    queue = deque([source])
    while queue:
        cell = queue.popleft()
        for nb in maze.neighbors(cell):
            if dist[nb] < 0:
                dist[nb] = dist[cell] + 1
                queue.append(nb)
    return dist


def is_forest(maze: Maze) -> bool:
    """No cycles: every component with k cells has k - 1 passages."""
    seen = np.zeros(maze.shape, dtype=bool)
    n_components = 0
    for r, c in np.ndindex(*maze.shape):
        if not seen[r, c]:
            n_components += 1
            seen |= distances(maze, (r, c)) >= 0
    return maze.n_edges == maze.n_cells - n_components


# -- the registry ---------------------------------------------------------------------------------


def test_registry_lists_every_generator_with_a_guarantee() -> None:
    assert EXPECTED <= set(GENERATORS)
    for name, spec in GENERATORS.items():
        assert spec.name == name and spec.summary
        assert spec.guarantee in ("perfect", "connected") or len(spec.guarantee.split()) > 4
        assert spec.guarantee_for() == spec.guarantee  # defaults give the headline guarantee
        assert "start" not in spec.params and "key" not in spec.params
    assert set(PERFECT) >= {"dfs", "wilson", "kruskal", "prim", "recursive_division"}


def test_options_that_weaken_a_guarantee_say_so() -> None:
    assert GENERATORS["dfs"].guarantee_for({"accessible_cells": 0.5}) != "perfect"
    assert GENERATORS["dfs"].guarantee_for({"do_forks": False}) != "perfect"
    assert GENERATORS["dfs"].guarantee_for({"randomized_stack": True}) == "perfect"
    assert GENERATORS["percolation"].guarantee_for({"connect": False}).startswith("none")
    assert GENERATORS["dfs_percolation"].guarantee_for({"max_tree_depth": 4}) != "connected"


# -- invariants over every generator and shape -----------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", ALL)
def test_every_maze_is_valid_and_keeps_its_guarantee(name: str, shape: tuple[int, int]) -> None:
    spec = GENERATORS[name]
    raw = spec.fn(shape, 12, key=7, start=0, **spec.params)
    assert isinstance(raw, np.ndarray) and raw.dtype == np.bool_ and raw.shape == (12, 2, *shape)
    batch = generate_batch(name, shape, 12, seed=SEED)
    assert len(batch) == 12 and batch.shape == shape
    for maze in batch:
        maze.validate()
        if spec.guarantee == "perfect":
            assert maze.is_perfect(), f"{name} {shape}: not a spanning tree\n{maze}"
        else:
            assert spec.guarantee == "connected"
            assert maze.is_connected(), f"{name} {shape}: not connected\n{maze}"


@pytest.mark.parametrize("shape", [(1, 5), (4, 1), (2, 2), (5, 8)])
def test_open_field_has_every_interior_passage(shape: tuple[int, int]) -> None:
    rows, cols = shape
    maze = generate("open_field", shape, seed=1)
    assert maze.n_edges == (rows - 1) * cols + rows * (cols - 1)
    assert maze == Maze.from_grid(
        np.pad(np.zeros((2 * rows - 1, 2 * cols - 1), dtype=bool), 1, constant_values=True)
    )


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("percolation", {"p": 0.9}),
        ("percolation", {"p": 0.6}),
        ("dfs_percolation", {"p": 0.5}),
        ("dfs_percolation", {}),
        ("braid", {}),
        ("open_field_obstacle", {"kind": "segment"}),
        ("open_field_obstacle", {"kind": "block"}),
    ],
)
def test_loop_generators_make_cycles(name: str, params: dict) -> None:
    batch = generate_batch(name, (10, 10), 30, seed=SEED, **params)
    n_edges = batch.connections.sum(axis=(1, 2, 3))
    assert (n_edges > 99).all(), f"{name} {params}: some mazes have no cycle"


def test_percolation_extremes_and_plain_mode() -> None:
    open_field = generate_batch("open_field", (6, 7), 5, seed=0)
    assert generate_batch("percolation", (6, 7), 5, seed=3, p=1.0) == open_field
    assert all(m.is_perfect() for m in generate_batch("percolation", (6, 7), 20, seed=3, p=0.0))
    assert not generate_batch(
        "percolation", (6, 7), 5, seed=3, p=0.0, connect=False
    ).connections.any()
    plain = generate_batch("percolation", (10, 10), 50, seed=3, p=0.3, connect=False)
    assert not all(m.is_connected() for m in plain)  # the repair matters
    # the repair only adds passages: the plain maze is contained in the repaired one
    repaired = generate_batch("percolation", (10, 10), 50, seed=3, p=0.3)
    assert (repaired.connections >= plain.connections).all()
    assert all(m.is_connected() for m in repaired)


def test_dfs_percolation_contains_a_dfs_tree_and_p0_is_perfect() -> None:
    assert all(m.is_perfect() for m in generate_batch("dfs_percolation", (7, 9), 20, seed=1, p=0.0))
    assert generate_batch("dfs_percolation", (7, 9), 5, seed=1, p=1.0) == generate_batch(
        "open_field", (7, 9), 5
    )


def test_braid_removes_dead_ends() -> None:
    batch = generate_batch("braid", (9, 11), 30, seed=SEED)
    assert (degrees(batch.connections) >= 2).all()
    assert all(m.is_perfect() for m in generate_batch("braid", (9, 11), 10, seed=SEED, p=0.0))
    half = generate_batch("braid", (9, 11), 30, seed=SEED, p=0.5)
    n_dead = (degrees(half.connections) == 1).sum()
    assert (
        0 < n_dead < (degrees(generate_batch("dfs", (9, 11), 30, seed=SEED).connections) == 1).sum()
    )


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_growing_tree_extremes_are_perfect(fraction: float) -> None:
    assert all(
        m.is_perfect()
        for m in generate_batch("growing_tree", (6, 9), 20, seed=2, newest_fraction=fraction)
    )


# -- dfs options (maze-dataset's gen_dfs) ------------------------------------------------------


def test_dfs_without_forks_is_one_path() -> None:
    batch = generate_batch("dfs", (8, 8), 40, seed=SEED, do_forks=False)
    deg = degrees(batch.connections)
    assert (deg <= 2).all()
    assert ((deg == 1).sum(axis=(1, 2)) == 2).all()  # two ends
    for maze, d in zip(batch, deg, strict=True):
        touched = int((d > 0).sum())
        assert maze.n_edges == touched - 1 and is_forest(maze)
    assert (deg == 0).any()  # a self-avoiding walk gets stuck before covering 8x8 (almost surely)


@pytest.mark.parametrize(
    ("accessible", "expected"), [(17, 17), (0.25, 25), (1, 1), (0, 1), (10_000, 100)]
)
def test_dfs_accessible_cells(accessible: int | float, expected: int) -> None:
    for maze in generate_batch("dfs", (10, 10), 20, seed=SEED, accessible_cells=accessible):
        assert is_forest(maze)
        assert maze.n_edges == expected - 1
        if expected > 1:
            assert int((degrees(maze.connections) > 0).sum()) == expected


@pytest.mark.parametrize(("max_depth", "radius"), [(6, 3), (7, 3), (0.5, 5), (2, 1)])
def test_dfs_max_tree_depth_bounds_the_distance_from_the_start(
    max_depth: int | float, radius: int
) -> None:
    start = (4, 5)
    batch = generate_batch(
        "dfs", (10, 10), 20, seed=SEED, max_tree_depth=max_depth, start_coord=start
    )
    for maze in batch:
        dist = distances(maze, start)
        assert dist.max() == radius  # reached (a dfs goes as deep as it may, almost surely)
        assert ((dist >= 0) == (degrees(maze.connections) > 0)).all()  # one tree, from the start
        assert is_forest(maze)


def test_dfs_start_coord_and_randomized_stack() -> None:
    batch = generate_batch("dfs", (6, 6), 20, seed=SEED, start_coord=(0, 5), max_tree_depth=2)
    for maze in batch:
        assert sorted(maze.neighbors((0, 5))) == [(0, 4), (1, 5)]
        assert maze.n_edges == 2
    rnd = generate_batch("dfs", (6, 6), 20, seed=SEED, randomized_stack=True)
    assert all(m.is_perfect() for m in rnd)
    # a randomized stack branches more than a plain dfs: more dead ends
    dfs = generate_batch("dfs", (6, 6), 20, seed=SEED)
    assert (degrees(rnd.connections) == 1).sum() > (degrees(dfs.connections) == 1).sum()


# -- open_field_obstacle ---------------------------------------------------------------------------


def test_obstacle_segment_is_one_straight_wall_short_of_the_side() -> None:
    rows, cols = 8, 10
    full = generate("open_field", (rows, cols))
    for maze in generate_batch(
        "open_field_obstacle", (rows, cols), 40, seed=SEED, kind="segment", size=0.5
    ):
        closed = full.connections & ~maze.connections
        axis, rr, cc = np.nonzero(closed)
        assert len(set(axis)) == 1
        if axis[0] == 0:  # a horizontal wall under one row
            assert len(set(rr)) == 1 and len(cc) == 5 and np.ptp(cc) == 4
        else:
            assert len(set(cc)) == 1 and len(rr) == 4 and np.ptp(rr) == 3


def test_obstacle_block_walls_a_box_with_one_door() -> None:
    for maze in generate_batch(
        "open_field_obstacle", (9, 9), 40, seed=SEED, kind="block", size=1.0
    ):
        assert maze.is_connected()
        deg = degrees(maze.connections)
        # an 8x8 box in a 9x9 field: its outline has 8 + 8 passages to the outside, 15 closed
        assert maze.n_edges == 144 - 15 and (deg >= 1).all()
    tiny = generate_batch("open_field_obstacle", (1, 6), 3, seed=SEED, kind="block")
    assert tiny == generate_batch("open_field", (1, 6), 3)


# -- reproducibility -------------------------------------------------------------------------------

GOLDEN = {
    "dfs": "3edbc22ebf9f4665b986537c1c769a5511309b799017e233215e3810d3e05c86",
    "wilson": "d2d8085fc1d67f16a164a32ee497f966fc99de9885453bc0fff11dceaf44ca8c",
    "aldous_broder": "eea421ff7f303a2014951093dd949cf01377931c2d0d38123c723eb645454c54",
    "kruskal": "e45b511aefcc56df152a53a947d49e4cab3e49dc8865a92c3054773420a0bc13",
    "prim": "136bbc66347b5d22fc4cc058a55fc09a0550b365361eabc58ae675855b0e1388",
    "hunt_and_kill": "bbe648d38d7f8fffbe634286a7df08cc8cddec7c58655924b1e79789b177892c",
    "growing_tree": "13019f9ea77f163124aeaa1574c981ba7dc50d35eddd0b52e334450dea3727d0",
    "binary_tree": "0d69f8ae5b5512157b14705c08b394610c8dbce0c5be78b87670d04b610ac6a3",
    "sidewinder": "1b1c81b7589dcd3dabf06c544365398ccc3c14434ef2b78bc8cc69ec081593ad",
    "recursive_division": "38cf94df8f271b62499123019cdb872563ee83936932e574a68407570fc6d6cd",
    "percolation": "9e66e007ee529485b6fd83028e948c347ac77529765164f3ce87fff8929bde26",
    "dfs_percolation": "46103bdb380e9c4f30cca6866deec0730d20aea12df2684244321b5a81bfd98e",
    "braid": "a01859f86eb4adbf8db0909585f692b66eb74eb72526e82cd07677fe7dc87726",
    "open_field": "78d534c2b83f187be7fee569bdb3ae6dcc748ad59072ed30a1e940ac53521423",
    "open_field_obstacle": "5bf878f6041a2b1dbe67b07332cd8f4e4a4a2bdc0a21a1d0af43c6530efec731",
    "dfs:do_forks=False": "bf06c368b5964d933365833765d0ea1825b982c973b55a6a3460812952a03569",
    "dfs:accessible_cells=0.5,start_coord=(2, 3)": "0ef95a621a5447bd25455f0e2718dfcbaa4bc7c67eda1740efd98563760a13e9",
    "dfs:max_tree_depth=6,randomized_stack=True": "aff104cb0856c8a5a8439134e540f6214c26d807165828f1242ee36e8f17536a",
    "percolation:p=0.7,connect=False": "be18474d5f9aefb404246f5d89fefc17ac6ce04ba426d3189ae6879cc8283972",
    "growing_tree:newest_fraction=0.9": "4eac1ab970d6fdb12860d5866ba470007f2c7aeb94a29486a3a0f001498956e9",
    "open_field_obstacle:kind='block',size=0.3": "196b99229e4e37002e9958d7c1542ef6f8a5517de8676f0fae610242e9ddff7a",
}
GOLDEN_PARAMS = {
    "dfs:do_forks=False": {"do_forks": False},
    "dfs:accessible_cells=0.5,start_coord=(2, 3)": {"accessible_cells": 0.5, "start_coord": (2, 3)},
    "dfs:max_tree_depth=6,randomized_stack=True": {"max_tree_depth": 6, "randomized_stack": True},
    "percolation:p=0.7,connect=False": {"p": 0.7, "connect": False},
    "growing_tree:newest_fraction=0.9": {"newest_fraction": 0.9},
    "open_field_obstacle:kind='block',size=0.3": {"kind": "block", "size": 0.3},
}


def test_golden_hashes_cover_every_generator() -> None:
    assert set(ALL) <= set(GOLDEN)


@pytest.mark.parametrize("case", list(GOLDEN))
def test_golden_hash(case: str) -> None:
    """Same seed, same mazes on every machine and release: change these only on purpose."""
    name = case.split(":")[0]
    batch = generate_batch(name, (7, 9), 16, seed=1234, **GOLDEN_PARAMS.get(case, {}))
    assert batch.content_hash() == GOLDEN[case]


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_mazes_other_seed_other_mazes(name: str) -> None:
    a = generate_batch(name, (6, 7), 8, seed=11)
    assert a == generate_batch(name, (6, 7), 8, seed=11)
    assert a == generate_batch(name, (6, 7), 8, seed=np.int64(11))
    if name not in DETERMINISTIC:
        assert a != generate_batch(name, (6, 7), 8, seed=12)
        assert len({m.content_hash() for m in a}) > 1  # mazes of one batch differ too


@pytest.mark.parametrize("name", ALL)
def test_batch_equals_single_and_start_continues_the_sequence(name: str) -> None:
    shape = (5, 6)
    batch = generate_batch(name, shape, 10, seed=5)
    assert generate(name, shape, seed=5) == batch[0]
    assert generate_batch(name, shape, 5, seed=5, start=5) == batch[5:]
    assert generate_batch(name, shape, 1, seed=5, start=7)[0] == batch[7]


@pytest.mark.parametrize("name", ALL)
def test_chunking_does_not_change_the_output(name: str) -> None:
    whole = generate_batch(name, (4, 5), 23, seed=9)
    assert generate_batch(name, (4, 5), 23, seed=9, chunk_size=5) == whole
    assert generate_batch(name, (4, 5), 23, seed=9, chunk_size=1) == whole


@pytest.mark.parametrize(("name", "params"), [("wilson", {}), ("percolation", {"p": 0.3})])
def test_worker_processes_do_not_change_the_output(name: str, params: dict) -> None:
    whole = generate_batch(name, (8, 8), 300, seed=4, **params)
    assert generate_batch(name, (8, 8), 300, seed=4, n_workers=2, chunk_size=64, **params) == whole


def test_zero_mazes() -> None:
    empty = generate_batch("dfs", (3, 4), 0, seed=1)
    assert isinstance(empty, MazeBatch) and len(empty) == 0 and empty.shape == (3, 4)


# -- uniformity ------------------------------------------------------------------------------------


def spanning_trees(shape: tuple[int, int]) -> list[bytes]:
    """Every spanning tree of the ``shape`` grid, as ``np.packbits`` of its connections."""
    rows, cols = shape
    full = generate("open_field", shape).connections
    edges = list(zip(*np.nonzero(full), strict=True))
    trees = []
    for chosen in itertools.combinations(edges, rows * cols - 1):
        conn = np.zeros_like(full)
        for e in chosen:
            conn[e] = True
        if Maze(conn).is_connected():
            trees.append(np.packbits(conn).tobytes())
    return trees


def chi_square_critical(df: int, z: float = 3.719) -> float:
    """Upper chi-square quantile by Wilson-Hilferty; z = 3.719 is the normal's 1e-4 upper tail."""
    k = 2.0 / (9.0 * df)
    return df * (1.0 - k + z * math.sqrt(k)) ** 3


def chi_square_over_trees(
    name: str, shape: tuple[int, int], per_tree: int, seed: int
) -> tuple[float, int]:
    trees = spanning_trees(shape)
    index = {t: i for i, t in enumerate(trees)}
    n = per_tree * len(trees)
    batch = generate_batch(name, shape, n, seed=seed)
    # a KeyError here means a maze that is not a spanning tree
    counts = Counter(index[np.packbits(c).tobytes()] for c in batch.connections)
    observed = np.array([counts.get(i, 0) for i in range(len(trees))], dtype=np.float64)
    stat = float(((observed - per_tree) ** 2 / per_tree).sum())
    return stat, len(trees) - 1


def test_there_are_192_spanning_trees_of_3x3() -> None:
    assert len(spanning_trees((3, 3))) == 192
    assert len(spanning_trees((2, 3))) == 15


@pytest.mark.parametrize("name", ["wilson", "aldous_broder"])
@pytest.mark.parametrize("shape", [(3, 3), (2, 3)])
def test_uniform_over_spanning_trees(name: str, shape: tuple[int, int]) -> None:
    """Pearson chi-square over all spanning trees; fixed seed, so the test is deterministic."""
    stat, df = chi_square_over_trees(name, shape, per_tree=200, seed=SEED)
    assert stat < chi_square_critical(df), f"{name} {shape}: chi2 = {stat:.1f} on {df} df"


@pytest.mark.parametrize("name", ["dfs", "kruskal"])
def test_the_uniformity_test_rejects_biased_generators(name: str) -> None:
    """Power check: the same test catches generators known not to be uniform."""
    stat, df = chi_square_over_trees(name, (3, 3), per_tree=200, seed=SEED)
    assert stat > chi_square_critical(df)


# -- errors ----------------------------------------------------------------------------------------


def test_unknown_generator_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown generator 'dfz'.*known: dfs, wilson"):
        generate("dfz", (3, 3), seed=0)
    with pytest.raises(ValueError, match="known:"):
        get_spec("nope")


@pytest.mark.parametrize(
    ("name", "params", "match"),
    [
        ("percolation", {"p": 1.5}, r"p must be a probability, a float in \[0, 1\], got 1.5"),
        ("percolation", {"p": -0.1}, r"p must be a probability"),
        ("percolation", {"p": float("nan")}, r"p must be a probability"),
        ("percolation", {"p": "0.4"}, r"p must be a probability"),
        ("percolation", {"connect": "yes"}, r"connect must be True or False"),
        ("dfs_percolation", {"p": 2}, r"p must be a probability"),
        ("braid", {"p": -1}, r"p must be a probability"),
        ("growing_tree", {"newest_fraction": 1.01}, r"newest_fraction must be a probability"),
        (
            "open_field_obstacle",
            {"kind": "circle"},
            r"kind must be one of 'segment', 'block', got 'circle'",
        ),
        ("open_field_obstacle", {"size": 0.0}, r"size must be a float in \(0, 1\]"),
        ("open_field_obstacle", {"size": 3}, r"size must be a float in \(0, 1\]"),
        (
            "dfs",
            {"accessible_cells": -1},
            r"accessible_cells as an int is a count and must be >= 0",
        ),
        (
            "dfs",
            {"accessible_cells": 1.5},
            r"accessible_cells as a float is a fraction of the number of cells",
        ),
        (
            "dfs",
            {"accessible_cells": "all"},
            r"accessible_cells must be None, an int >= 0 or a float",
        ),
        (
            "dfs",
            {"max_tree_depth": 2.0},
            r"max_tree_depth as a float is a fraction of rows \+ cols",
        ),
        ("dfs", {"do_forks": 1}, r"do_forks must be True or False"),
        ("dfs", {"start_coord": (4, 0)}, r"start_coord \(4, 0\) is outside the 4x4 grid"),
        ("dfs", {"start_coord": "corner"}, r"start_coord must be a \(row, col\) pair"),
        (
            "dfs",
            {"start": (0, 0)},
            r"start must be an int >= 0 \(the index of the first maze.*start_coord",
        ),
        ("dfs", {"p": 0.5}, r"unknown parameter\(s\) \['p'\]; allowed: do_forks=True"),
        ("wilson", {"p": 0.5}, r"allowed: none"),
    ],
)
def test_bad_params_fail_with_a_clear_message(name: str, params: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate_batch(name, (4, 4), 2, seed=0, **params)
    if "start" not in params:  # checked even when no maze is asked for
        with pytest.raises(ValueError, match=match):
            generate_batch(name, (4, 4), 0, seed=0, **params)


@pytest.mark.parametrize(
    ("shape", "match"),
    [
        ((0, 5), r"at least 1x2 or 2x1 cells, got 0x5"),
        ((1, 1), r"at least 1x2 or 2x1 cells, got 1x1"),
        ((3,), r"shape must be a \(rows, cols\) pair of ints"),
        ("3x3", r"shape must be a \(rows, cols\) pair of ints"),
    ],
)
def test_bad_shape_fails_with_a_clear_message(shape: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate("dfs", shape, seed=0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=match):
        check_shape(shape)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n": -1}, "n must be an int >= 0"), ({"n": 2, "chunk_size": 0}, "chunk_size must be")],
)
def test_bad_batch_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        generate_batch("dfs", (3, 3), seed=0, **kwargs)

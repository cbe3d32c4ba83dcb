"""maze_env.solve, checked against a plain reference BFS written here and hand-counted mazes."""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np
import pytest

from maze_env import GENERATORS, Maze, MazeBatch, generate, generate_batch
from maze_env.solve import (
    all_shortest_paths,
    batch_bfs_distances,
    batch_bfs_search,
    batch_shortest_path_arrays,
    batch_shortest_paths,
    bfs_distances,
    bfs_search,
    count_shortest_paths,
    dead_ends,
    forks,
    shortest_path,
)

# -- an independent reference over the raw connections array -------------------------------------


def ref_neighbors(conn: np.ndarray, cell: tuple[int, int]) -> list[tuple[int, int]]:
    r, c = cell
    rows, cols = conn.shape[1:]
    out = []
    if r > 0 and conn[0, r - 1, c]:
        out.append((r - 1, c))
    if r + 1 < rows and conn[0, r, c]:
        out.append((r + 1, c))
    if c > 0 and conn[1, r, c - 1]:
        out.append((r, c - 1))
    if c + 1 < cols and conn[1, r, c]:
        out.append((r, c + 1))
    return out


def ref_bfs(conn: np.ndarray, src: tuple[int, int]) -> np.ndarray:
    dist = np.full(conn.shape[1:], -1)
    dist[src] = 0
    queue = deque([src])
    while queue:
        cell = queue.popleft()
        for nb in ref_neighbors(conn, cell):
            if dist[nb] < 0:
                dist[nb] = dist[cell] + 1
                queue.append(nb)
    return dist


def ref_count(conn: np.ndarray, src: tuple[int, int], dst: tuple[int, int]) -> int:
    dist = ref_bfs(conn, src)
    if dist[dst] < 0:
        return 0
    count = {src: 1}
    cells = sorted(zip(*np.nonzero(dist > 0), strict=True), key=lambda rc: dist[rc])
    for cell in cells:
        cell = (int(cell[0]), int(cell[1]))
        count[cell] = sum(
            count.get(nb, 0) for nb in ref_neighbors(conn, cell) if dist[nb] == dist[cell] - 1
        )
    return count[dst]


def is_valid_path(conn: np.ndarray, path: list, src, dst) -> bool:
    return (
        path[0] == src
        and path[-1] == dst
        and all(b in ref_neighbors(conn, a) for a, b in zip(path, path[1:], strict=False))
    )


def with_loops(maze: Maze, n_extra: int, seed: int) -> Maze:
    """Open ``n_extra`` random walls of ``maze`` (cycles, several shortest paths)."""
    rng = np.random.default_rng(seed)
    conn = maze.connections.copy()
    conn[0, :-1, :] |= rng.random(conn[0, :-1, :].shape) < n_extra / conn.size
    conn[1, :, :-1] |= rng.random(conn[1, :, :-1].shape) < n_extra / conn.size
    return Maze(conn)


def open_field(rows: int, cols: int) -> Maze:
    conn = np.zeros((2, rows, cols), dtype=bool)
    conn[0, :-1, :] = True
    conn[1, :, :-1] = True
    return Maze(conn)


def sample_mazes() -> list[Maze]:
    mazes = [
        generate("dfs", shape, seed=s)
        for shape in [(1, 2), (1, 7), (5, 1), (4, 6), (9, 9)]
        for s in range(3)
    ]
    mazes += [with_loops(generate("dfs", (7, 8), seed=s), 10, s) for s in range(10)]
    mazes += [
        open_field(5, 6),
        Maze(np.zeros((2, 4, 4), dtype=bool)),
        Maze(np.zeros((2, 1, 1), dtype=bool)),
    ]
    for name in ("percolation", "open_field", "braid", "dfs_percolation"):
        if name in GENERATORS:
            mazes += [generate(name, (8, 8), seed=s) for s in range(3)]
    return mazes


MAZES = sample_mazes()


def endpoints(
    maze: Maze, rng: np.random.Generator, n: int = 6
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    rows, cols = maze.shape
    return [
        (
            (int(rng.integers(rows)), int(rng.integers(cols))),
            (int(rng.integers(rows)), int(rng.integers(cols))),
        )
        for _ in range(n)
    ]


# -- single maze vs reference -----------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(MAZES)))
def test_against_reference(index: int) -> None:
    maze = MAZES[index]
    conn = maze.connections
    rng = np.random.default_rng(index)
    for src, dst in endpoints(maze, rng):
        dist = bfs_distances(maze, src)
        assert dist.dtype == np.int32 and dist.shape == maze.shape
        np.testing.assert_array_equal(dist, ref_bfs(conn, src))
        path = shortest_path(maze, src, dst)
        n = ref_count(conn, src, dst)
        assert count_shortest_paths(maze, src, dst) == n
        if dist[dst] < 0:
            assert path is None and n == 0 and all_shortest_paths(maze, src, dst) == []
            continue
        assert is_valid_path(conn, path, src, dst) and len(path) == dist[dst] + 1
        paths = all_shortest_paths(maze, src, dst, limit=10**6)
        assert len(paths) == n == len({tuple(p) for p in paths})
        assert paths[0] == path  # same tie-breaking
        assert all(is_valid_path(conn, p, src, dst) and len(p) == len(path) for p in paths)


def test_perfect_mazes_have_one_shortest_path() -> None:
    batch = generate_batch("dfs", (6, 6), 20, seed=3)
    for maze in batch:
        assert count_shortest_paths(maze, (0, 0), (5, 5)) == 1


# -- hand-made mazes ----------------------------------------------------------------------------------

T_MAZE = """
#######
#     #
### ###
#   # #
# ### #
#     #
#######
"""
# 3x3 cells, a tree: the top row joined, (0,1) down to (1,1), (1,1)-(1,0), (1,0) down to the
# bottom row, the bottom row joined, (2,2) up to (1,2). Degrees: (0,1) 3; (0,0), (0,2), (1,2) 1.


def test_hand_made_tree() -> None:
    maze = Maze.from_ascii(T_MAZE)
    assert maze.shape == (3, 3) and maze.is_perfect()
    assert dead_ends(maze) == [(0, 0), (0, 2), (1, 2)]
    path = [(0, 1), (1, 1), (1, 0), (2, 0), (2, 1), (2, 2), (1, 2)]
    assert shortest_path(maze, (0, 1), (1, 2)) == path
    assert count_shortest_paths(maze, (0, 1), (1, 2)) == 1
    assert all_shortest_paths(maze, (0, 1), (1, 2)) == [path]
    assert forks(maze, path) == [0]  # (0,1) has three ways out
    assert forks(maze, [(0, 0), *path]) == [1]  # arriving from (0,0), (0,2) and (1,1) remain
    np.testing.assert_array_equal(bfs_distances(maze, (0, 1)), [[1, 0, 1], [2, 1, 6], [3, 4, 5]])


LOOP = """
#######
#     #
# # # #
#     #
#######
"""
# 2x3 cells, every passage open: two loops.


def test_loop_counts() -> None:
    maze = Maze.from_ascii(LOOP)
    assert maze.shape == (2, 3)
    # every passage is open: corner to corner has C(3, 1) = 3 shortest paths
    assert count_shortest_paths(maze, (0, 0), (1, 2)) == 3
    assert all_shortest_paths(maze, (0, 0), (1, 2)) == [
        [(0, 0), (0, 1), (0, 2), (1, 2)],
        [(0, 0), (0, 1), (1, 1), (1, 2)],
        [(0, 0), (1, 0), (1, 1), (1, 2)],
    ]
    assert shortest_path(maze, (0, 0), (1, 2)) == [(0, 0), (0, 1), (0, 2), (1, 2)]
    # forks: at (0,0) two ways out; at (0,1) right or down; at (0,2) only down remains
    assert forks(maze, [(0, 0), (0, 1), (0, 2), (1, 2)]) == [0, 1]
    assert dead_ends(maze) == []


@pytest.mark.parametrize("rows,cols", [(1, 5), (3, 3), (4, 7), (12, 12), (40, 40)])
def test_open_field_counts_are_binomial(rows: int, cols: int) -> None:
    maze = open_field(rows, cols)
    assert count_shortest_paths(maze, (0, 0), (rows - 1, cols - 1)) == math.comb(
        rows + cols - 2, rows - 1
    )


def test_all_shortest_paths_limit_contract() -> None:
    maze = open_field(5, 5)  # C(8, 4) = 70 paths
    with pytest.raises(ValueError, match="70 shortest paths.*limit=10"):
        all_shortest_paths(maze, (0, 0), (4, 4), limit=10)
    first = all_shortest_paths(maze, (0, 0), (4, 4), limit=10, truncate=True)
    assert first == all_shortest_paths(maze, (0, 0), (4, 4))[:10]
    assert all_shortest_paths(maze, (2, 2), (2, 2)) == [[(2, 2)]]


def test_forks_hand_made() -> None:
    maze = Maze.from_ascii(
        """
#########
#       #
# ### # #
#   # # #
#########
"""
    )  # 2x4: top row open, (0,0)-(1,0)-(1,1) hook, (0,2)-(1,2), (0,3)-(1,3)
    assert maze.shape == (2, 4)
    path = [(1, 1), (1, 0), (0, 0), (0, 1), (0, 2), (0, 3), (1, 3)]
    # (0,2) has neighbours (0,1) [came from], (0,3), (1,2): a fork; (0,1) has (0,0), (0,2) only
    assert forks(maze, path) == [4]
    assert forks(maze, [(0, 1)]) == [0]  # first cell: more than one neighbour at all
    assert dead_ends(maze) == [(1, 1), (1, 2), (1, 3)]
    assert shortest_path(maze, (1, 1), (1, 3)) == path


def test_long_paths_no_recursion_limit() -> None:
    rows = cols = 40  # a serpentine corridor: one path through all 1,600 cells
    conn = np.zeros((2, rows, cols), dtype=bool)
    conn[1, :, :-1] = True
    for r in range(rows - 1):
        conn[0, r, cols - 1 if r % 2 == 0 else 0] = True
    maze = Maze(conn)
    end = (rows - 1, 0)
    path = shortest_path(maze, (0, 0), end)
    assert len(path) == rows * cols
    assert all_shortest_paths(maze, (0, 0), end) == [path]
    assert count_shortest_paths(maze, (0, 0), end) == 1
    assert len(dead_ends(maze)) == 2 and forks(maze, path) == []


def test_bad_cells_raise_clear_errors() -> None:
    maze = open_field(3, 3)
    with pytest.raises(ValueError, match="origin .* outside the 3x3 grid"):
        shortest_path(maze, (3, 0), (0, 0))
    with pytest.raises(ValueError, match="source"):
        bfs_distances(maze, (0, -1))
    with pytest.raises(ValueError, match=r"sources must be int\[N, 2\]"):
        batch_bfs_distances(MazeBatch.from_mazes([maze]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="bool"):
        batch_bfs_distances(np.zeros((1, 2, 3, 3), dtype=int), np.zeros((1, 2)))


# -- batched == single ----------------------------------------------------------------------------


@pytest.mark.parametrize("name,shape", [("dfs", (6, 6)), ("dfs", (3, 9)), ("percolation", (8, 8))])
def test_batched_equals_single(name: str, shape: tuple[int, int]) -> None:
    if name not in GENERATORS:
        pytest.skip(f"generator {name} not registered")
    batch = generate_batch(name, shape, 64, seed=11)
    rng = np.random.default_rng(0)
    origins = np.stack([rng.integers(shape[0], size=64), rng.integers(shape[1], size=64)], axis=1)
    targets = np.stack([rng.integers(shape[0], size=64), rng.integers(shape[1], size=64)], axis=1)
    dists = batch_bfs_distances(batch, origins)
    assert dists.shape == (64, *shape) and dists.dtype == np.int32
    paths = batch_shortest_paths(batch.connections, origins, targets)
    arrays, lengths = batch_shortest_path_arrays(batch, origins, targets)
    for i, maze in enumerate(batch):
        o, t = tuple(origins[i].tolist()), tuple(targets[i].tolist())
        np.testing.assert_array_equal(dists[i], bfs_distances(maze, o))
        assert paths[i] == shortest_path(maze, o, t)
        n = lengths[i]
        assert (paths[i] is None and n == 0) or [tuple(c) for c in arrays[i, :n].tolist()] == paths[
            i
        ]


def test_batch_with_unreachable_targets() -> None:
    conn = np.zeros((3, 2, 2, 2), dtype=bool)
    conn[0, 1, 0, 0] = True  # maze 0: (0,0)-(0,1) only
    paths = batch_shortest_paths(conn, [(0, 0)] * 3, [(0, 1), (1, 1), (0, 0)])
    assert paths == [[(0, 0), (0, 1)], None, [(0, 0)]]


def test_every_pair_small_maze() -> None:
    maze = with_loops(generate("dfs", (4, 4), seed=5), 4, 5)
    for src, dst in itertools.product(itertools.product(range(4), range(4)), repeat=2):
        assert count_shortest_paths(maze, src, dst) == ref_count(maze.connections, src, dst)


# -- forks and bfs_search against their plain definitions -------------------------------------------


def ref_forks(maze: Maze, path: list[tuple[int, int]]) -> list[int]:
    """The definition, cell by cell: more than one neighbour other than the previous cell."""
    conn = maze.connections
    return [
        i
        for i, cell in enumerate(path)
        if len([nb for nb in ref_neighbors(conn, cell) if i == 0 or nb != path[i - 1]]) > 1
    ]


def test_forks_match_the_definition_on_random_paths() -> None:
    rng = np.random.default_rng(7)
    for k, maze in enumerate(MAZES):
        rows, cols = maze.shape
        for src, dst in endpoints(maze, rng, n=4):
            path = shortest_path(maze, src, dst) or [src]
            walk = [src]  # a random walk: stays, jumps and revisits included
            for _ in range(int(rng.integers(0, 40))):
                if rng.random() < 0.8 and ref_neighbors(maze.connections, walk[-1]):
                    nbs = ref_neighbors(maze.connections, walk[-1])
                    walk.append(nbs[int(rng.integers(len(nbs)))])
                else:
                    walk.append((int(rng.integers(rows)), int(rng.integers(cols))))
            for p in (path, walk, walk[::-1], []):
                want = ref_forks(maze, p)
                assert forks(maze, p) == want, (k, p)
                assert forks(maze, tuple(p)) == want
                assert forks(maze, iter(p)) == want
                if p:
                    assert forks(maze, np.array(p, dtype=np.int32)) == want


def test_forks_check_every_cell() -> None:
    maze = open_field(3, 3)
    assert forks(maze, [(0.0, 1.0), (1, 1)]) == forks(maze, [(0, 1), (1, 1)])  # ints, as check_cell
    with pytest.raises(ValueError, match=r"path\[1\] \(3, 0\) is outside the 3x3 grid"):
        forks(maze, [(2, 0), (3, 0)])
    with pytest.raises(ValueError, match=r"path\[2\] \(0, -1\) is outside"):
        forks(maze, np.array([(0, 1), (0, 0), (0, -1)]))
    with pytest.raises(ValueError, match=r"path\[1\] must be a \(row, col\) pair"):
        forks(maze, [(0, 0), (0, 1, 2)])


@pytest.mark.parametrize("index", range(len(MAZES)))
def test_bfs_search_matches_definition(index: int) -> None:
    maze = MAZES[index]
    rng = np.random.default_rng(100 + index)
    pairs = endpoints(maze, rng, n=8)
    for src, dst in pairs:
        path, actions, nearer = bfs_search(maze, src, dst)
        dist = ref_bfs(maze.connections, src)
        assert path == shortest_path(maze, src, dst)  # same path, same tie-breaking
        if path is None:
            assert actions == [] and nearer == int(np.count_nonzero(dist >= 0))
        else:
            assert nearer == int(np.count_nonzero((dist >= 0) & (dist < dist[dst])))
            moves = {(-1, 0): 0, (0, 1): 1, (1, 0): 2, (0, -1): 3}
            assert actions == [
                moves[(b[0] - a[0], b[1] - a[1])] for a, b in itertools.pairwise(path)
            ]
    paths, lengths, nearer = batch_bfs_search(
        MazeBatch.from_mazes([maze] * len(pairs)), [p[0] for p in pairs], [p[1] for p in pairs]
    )
    want_paths, want_lengths = batch_shortest_path_arrays(
        MazeBatch.from_mazes([maze] * len(pairs)), [p[0] for p in pairs], [p[1] for p in pairs]
    )
    np.testing.assert_array_equal(paths, want_paths)
    np.testing.assert_array_equal(lengths, want_lengths)
    assert nearer.tolist() == [bfs_search(maze, o, t)[2] for o, t in pairs]


def test_bfs_search_bad_cells() -> None:
    with pytest.raises(ValueError, match="target .* outside the 3x3 grid"):
        bfs_search(open_field(3, 3), (0, 0), (0, 3))

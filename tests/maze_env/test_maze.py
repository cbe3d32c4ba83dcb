"""The core data model: Maze, Task and MazeBatch on hand-made mazes with known answers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from maze_env.maze import Maze, MazeBatch, Task, check_cell

# A 3x3 maze drawn by hand (S origin (0, 0), E target (2, 2)); a spanning tree (8 passages).
#   #######
#   #S    #
#   ##### #
#   #   # #
#   # ### #
#   #    E#
#   #######
SNAKE = """
#######
#S    #
##### #
#   # #
# ### #
#    E#
#######
"""
SNAKE_EDGES = [
    ((0, 0), (0, 1)),
    ((0, 1), (0, 2)),
    ((0, 2), (1, 2)),
    ((1, 0), (1, 1)),
    ((1, 0), (2, 0)),
    ((1, 2), (2, 2)),
    ((2, 0), (2, 1)),
    ((2, 1), (2, 2)),
]


def empty(rows: int, cols: int) -> np.ndarray:
    return np.zeros((2, rows, cols), dtype=bool)


def open_field(rows: int, cols: int) -> Maze:
    conn = np.ones((2, rows, cols), dtype=bool)
    conn[0, -1, :] = False
    conn[1, :, -1] = False
    return Maze(conn)


@pytest.fixture
def snake() -> Maze:
    return Maze.from_ascii(SNAKE)


# -- validation --------------------------------------------------------------------------------
def test_validate_rejects_wrong_dtype() -> None:
    with pytest.raises(TypeError, match="dtype bool"):
        Maze(np.zeros((2, 3, 3), dtype=np.int8))


@pytest.mark.parametrize("shape", [(3, 3), (3, 3, 3), (1, 2, 3, 3), (2, 0, 3)])
def test_validate_rejects_wrong_shape(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"shape|at least one row"):
        Maze(np.zeros(shape, dtype=bool))


def test_validate_rejects_non_array() -> None:
    with pytest.raises(TypeError, match="numpy array"):
        Maze([[[False]]])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("index", "words"),
    [
        ((0, 2, 1), "last row of connections\\[0\\]"),
        ((1, 1, 2), "last column of connections\\[1\\]"),
    ],
)
def test_validate_rejects_passages_leaving_the_grid(
    index: tuple[int, int, int], words: str
) -> None:
    conn = empty(3, 3)
    conn[index] = True
    with pytest.raises(ValueError, match="passage leaves the grid") as err:
        Maze(conn)
    assert err.match(words)


def test_batch_validates_too() -> None:
    conn = np.zeros((2, 2, 3, 3), dtype=bool)
    conn[1, 0, 2, 0] = True
    with pytest.raises(ValueError, match="passage leaves the grid"):
        MazeBatch(conn)
    with pytest.raises(ValueError, match=r"\[N, 2, rows, cols\]"):
        MazeBatch(np.zeros((2, 3, 3), dtype=bool))


def test_check_cell() -> None:
    assert check_cell(np.array([1, 2]), (3, 3)) == (1, 2)
    with pytest.raises(ValueError, match=r"outside the 3x3 grid \(rows 0..2, cols 0..2\)"):
        check_cell((3, 0), (3, 3))
    with pytest.raises(ValueError, match="pair of ints"):
        check_cell((1,), (3, 3))


# -- graph -------------------------------------------------------------------------------------
def test_ascii_parses_to_the_drawn_edges(snake: Maze) -> None:
    assert snake.shape == (3, 3)
    assert snake.edges() == sorted(SNAKE_EDGES)
    assert snake.n_edges == 8 and snake.n_cells == 9


def test_neighbors_in_action_order(snake: Maze) -> None:
    assert snake.neighbors((0, 0)) == [(0, 1)]
    assert snake.neighbors((1, 0)) == [(1, 1), (2, 0)]  # right before down
    assert snake.neighbors((2, 2)) == [(1, 2), (2, 1)]  # up before left
    assert snake.neighbors((1, 1)) == [(1, 0)]
    with pytest.raises(ValueError, match="outside"):
        snake.neighbors((3, 0))


def test_has_passage_and_degrees(snake: Maze) -> None:
    assert snake.has_passage((0, 1), (0, 0)) and not snake.has_passage((0, 0), (1, 0))
    assert not snake.has_passage((0, 0), (1, 1))  # diagonal
    assert not snake.has_passage((0, 0), (-1, 0))
    np.testing.assert_array_equal(snake.degrees(), [[1, 2, 2], [2, 1, 2], [2, 2, 2]])
    assert snake.open_moves()[1, 0].tolist() == [False, True, True, False]


def test_edges_round_trip(snake: Maze) -> None:
    assert Maze.from_edges((3, 3), snake.edges()) == snake
    reversed_edges = [(b, a) for a, b in SNAKE_EDGES]  # either direction is accepted
    assert Maze.from_edges((3, 3), reversed_edges) == snake
    with pytest.raises(ValueError, match="not adjacent"):
        Maze.from_edges((3, 3), [((0, 0), (1, 1))])
    with pytest.raises(ValueError, match="outside"):
        Maze.from_edges((3, 3), [((0, 2), (0, 3))])


def test_grid_round_trip_and_layout(snake: Maze) -> None:
    grid = snake.as_grid()
    assert grid.shape == (7, 7) and grid.dtype == bool
    assert not grid[1::2, 1::2].any()  # cells are free
    assert grid[0].all() and grid[:, 0].all() and grid[::2, ::2].all()  # border and corners
    assert not grid[1, 2]  # (0,0)-(0,1) passage
    assert grid[2, 1]  # no (0,0)-(1,0) passage
    assert Maze.from_grid(grid) == snake
    assert Maze.from_grid(grid.astype(np.uint8)) == snake


def test_from_grid_errors() -> None:
    with pytest.raises(ValueError, match="odd sides"):
        Maze.from_grid(np.ones((4, 5), dtype=bool))
    grid = np.ones((5, 5), dtype=bool)
    with pytest.raises(ValueError, match=r"cell \(0, 0\).* is a wall"):
        Maze.from_grid(grid)


def test_ascii_round_trip(snake: Maze) -> None:
    assert snake.to_ascii() == SNAKE.strip("\n").replace("S", " ").replace("E", " ")
    assert Maze.from_ascii(snake.to_ascii()) == snake
    path = [(0, 0), (0, 1), (0, 2), (1, 2), (2, 2)]
    text = snake.to_ascii((0, 0), (2, 2), path)
    assert text.splitlines()[1] == "#SXXXX#"
    assert Maze.from_ascii(text) == snake
    with pytest.raises(ValueError, match="unexpected characters"):
        Maze.from_ascii(SNAKE.replace("#S", "#?"))


def test_task_from_ascii(snake: Maze) -> None:
    task = Task.from_ascii(SNAKE)
    assert task == Task(snake, (0, 0), (2, 2))
    assert Task.from_ascii(task.to_ascii()) == task
    with pytest.raises(ValueError, match="exactly one target"):
        Task.from_ascii(SNAKE.replace("E", " "))
    with pytest.raises(ValueError, match="origin .* outside"):
        Task(snake, (5, 0), (0, 0))
    with pytest.raises(TypeError, match="must be a Maze"):
        Task(snake.connections, (0, 0), (0, 1))  # type: ignore[arg-type]
    assert Task(snake, np.array([0, 1]), [2, 2]).origin == (0, 1)  # type: ignore[arg-type]


def test_connected_and_perfect() -> None:
    snake = Maze.from_ascii(SNAKE)
    assert snake.is_connected() and snake.is_perfect()
    field = open_field(3, 4)
    assert field.is_connected() and not field.is_perfect()  # cycles
    assert field.n_edges == 3 * 3 + 2 * 4
    split = empty(2, 2)
    split[1, 0, 0] = split[1, 1, 0] = True  # two horizontal corridors, not joined
    maze = Maze(split)
    assert not maze.is_connected() and not maze.is_perfect()
    np.testing.assert_array_equal(maze.reachable((1, 1)), [[False, False], [True, True]])
    assert not Maze(empty(1, 2)).is_connected()


def test_single_row_maze() -> None:
    conn = empty(1, 4)
    conn[1, 0, :3] = True
    maze = Maze(conn)
    assert maze.is_perfect() and maze.to_ascii() == "#########\n#       #\n#########"
    assert Maze.from_ascii(maze.to_ascii()) == maze


# -- identity and immutability -----------------------------------------------------------------
def test_eq_and_hash_by_content(snake: Maze) -> None:
    twin = Maze(snake.connections.copy())
    assert twin == snake and hash(twin) == hash(snake) and len({twin, snake}) == 1
    assert twin.content_hash() == snake.content_hash()
    other = open_field(3, 3)
    assert other != snake and other.content_hash() != snake.content_hash()
    assert open_field(2, 3) != open_field(3, 2)
    assert snake != "maze"


def test_immutable(snake: Maze) -> None:
    with pytest.raises(ValueError, match="read-only"):
        snake.connections[0, 0, 0] = True
    with pytest.raises(dataclasses.FrozenInstanceError):
        snake.connections = empty(3, 3)  # type: ignore[misc]
    source = empty(2, 2)
    maze = Maze(source)
    source[0, 0, 0] = True  # the maze holds its own copy
    assert maze.n_edges == 0


# -- batches -----------------------------------------------------------------------------------
def test_batch_indexing(snake: Maze) -> None:
    mazes = [snake, open_field(3, 3), Maze(empty(3, 3))]
    batch = MazeBatch.from_mazes(mazes)
    assert len(batch) == 3 and batch.shape == (3, 3)
    assert batch[1] == mazes[1] and batch[np.int64(2)] == mazes[2] and batch[-1] == mazes[2]
    assert isinstance(batch[1:], MazeBatch) and len(batch[1:]) == 2
    assert list(batch[np.array([True, False, True])]) == [mazes[0], mazes[2]]
    assert list(batch[[2, 0]]) == [mazes[2], mazes[0]]
    assert list(batch) == mazes


def test_batch_from_mazes_errors() -> None:
    with pytest.raises(ValueError, match="at least one maze"):
        MazeBatch.from_mazes([])
    with pytest.raises(ValueError, match="one shape"):
        MazeBatch.from_mazes([open_field(2, 2), open_field(2, 3)])


def test_batch_concatenate_nbytes_and_hash(snake: Maze) -> None:
    a = MazeBatch.from_mazes([snake, open_field(3, 3)])
    b = MazeBatch.from_mazes([Maze(empty(3, 3))])
    ab = MazeBatch.concatenate([a, b])
    assert len(ab) == 3 and list(ab) == [*a, *b]
    assert ab.nbytes == 3 * 2 * 3 * 3  # one byte per bool
    assert ab == MazeBatch(ab.connections.copy()) and ab != a
    assert ab.content_hash() == MazeBatch(ab.connections.copy()).content_hash()
    assert ab.content_hash() != a.content_hash()

"""Rendering: pixel geometry and colours, text, the pygame window (headless), PNG and GIF files."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from maze_env.maze import Maze, Task
from maze_env.render import (
    AGENT,
    AGENT_CHAR,
    FREE,
    HEAT_HIGH,
    HEAT_LOW,
    ORIGIN,
    PATH_COLORS,
    TARGET,
    WALL,
    HumanWindow,
    cell_box,
    cell_center,
    draw_frame,
    episode_frames,
    frame_size,
    render_ansi,
    save_episode_gif,
    save_paths_png,
    save_png,
    tile_frames,
)

# 2 x 3 cells; the bottom row's middle and right cells are split by a wall.
ASCII = """
#######
#S    #
# ### #
#   #E#
#######
"""
TASK = Task.from_ascii(ASCII)
MAZE = TASK.maze
SHORTEST = [(0, 0), (0, 1), (0, 2), (1, 2)]


def px(frame: np.ndarray, yx: tuple[int, int]) -> tuple[int, ...]:
    return tuple(int(v) for v in frame[yx])


def gap(
    a: tuple[int, int], b: tuple[int, int], cell_px: int, wall_px: int | None = None
) -> tuple[int, int]:
    """The pixel halfway between two neighbouring cells' centres: inside the wall/passage gap."""
    ya, xa = cell_center(a, cell_px, wall_px)
    yb, xb = cell_center(b, cell_px, wall_px)
    return ((ya + yb) // 2, (xa + xb) // 2)


# -- geometry ---------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 2), (2, 3), (3, 7), (9, 2)])
@pytest.mark.parametrize(("cell_px", "wall_px"), [(16, None), (10, 3), (5, 5), (2, 1)])
def test_frame_shape_follows_documented_geometry(shape, cell_px, wall_px):
    maze = Maze(np.zeros((2, *shape), dtype=bool))
    frame = draw_frame(maze, cell_px=cell_px, wall_px=wall_px)
    wall = wall_px if wall_px is not None else max(1, cell_px // 4)
    expected = (shape[0] * (cell_px + wall) + wall, shape[1] * (cell_px + wall) + wall)
    assert frame.shape == (*expected, 3)
    assert frame.dtype == np.uint8
    assert frame_size(shape, cell_px, wall_px) == expected
    # last cell's box ends one wall thickness before the frame's edge
    y0, x0, y1, x1 = cell_box((shape[0] - 1, shape[1] - 1), cell_px, wall_px)
    assert (y1 + wall, x1 + wall) == expected
    assert (y1 - y0, x1 - x0) == (cell_px, cell_px)


def test_cell_center_formula():
    assert cell_center((0, 0), 16) == (4 + 8, 4 + 8)
    assert cell_center((2, 1), 16) == (4 + 2 * 20 + 8, 4 + 1 * 20 + 8)
    assert cell_center((1, 3), 10, 2) == (2 + 12 + 5, 2 + 36 + 5)


def test_walls_passages_and_free_cells_have_their_colours():
    cell_px = 12
    frame = draw_frame(MAZE, cell_px=cell_px)
    assert px(frame, (0, 0)) == WALL  # outer corner
    assert px(frame, (frame.shape[0] - 1, frame.shape[1] // 2)) == WALL  # outer wall
    for r in range(2):
        for c in range(3):
            y0, x0, y1, x1 = cell_box((r, c), cell_px)
            assert (frame[y0:y1, x0:x1] == FREE).all(), f"cell {(r, c)} not free"
    assert px(frame, gap((1, 1), (1, 2), cell_px)) == WALL  # no passage
    assert px(frame, gap((0, 1), (1, 1), cell_px)) == WALL
    assert px(frame, gap((0, 0), (0, 1), cell_px)) == FREE  # passage
    assert px(frame, gap((0, 2), (1, 2), cell_px)) == FREE


def test_uniform_blocks_match_as_grid():
    frame = draw_frame(MAZE, cell_px=3, wall_px=3)
    grid = MAZE.as_grid()
    small = frame[1::3, 1::3]  # the middle pixel of each 3x3 block
    assert small.shape[:2] == grid.shape
    assert ((small == WALL).all(axis=2) == grid).all()
    assert ((small == FREE).all(axis=2) == ~grid).all()


def test_markers_sit_on_their_cells_centres():
    frame = draw_frame(MAZE, agent=(1, 1), target=(1, 2), origin=(0, 0), cell_px=16)
    assert px(frame, cell_center((1, 1), 16)) == AGENT
    assert px(frame, cell_center((1, 2), 16)) == TARGET
    assert px(frame, cell_center((0, 0), 16)) == ORIGIN
    assert px(frame, cell_center((0, 1), 16)) == FREE
    # a marker stays inside its cell: the cell's corner pixel is still free
    y0, x0, _, _ = cell_box((1, 1), 16)
    assert px(frame, (y0, x0)) == FREE


def test_task_draws_its_origin_and_target_and_agent_is_on_top():
    frame = draw_frame(TASK, agent=TASK.target, cell_px=16)
    assert px(frame, cell_center(TASK.origin, 16)) == ORIGIN
    assert px(frame, cell_center(TASK.target, 16)) == AGENT


def test_path_colour_on_the_passage_between_path_cells():
    frame = draw_frame(MAZE, paths=[SHORTEST], cell_px=16)
    for a, b in zip(SHORTEST, SHORTEST[1:], strict=False):
        assert px(frame, gap(a, b, 16)) == PATH_COLORS[0], (a, b)
    assert px(frame, gap((0, 0), (1, 0), 16)) == FREE  # a passage not on the path


def test_several_paths_show_in_distinct_colours_on_a_shared_passage():
    other = [(0, 0), (0, 1), (0, 2)]
    frame = draw_frame(MAZE, paths={"true": SHORTEST, "agent": other}, cell_px=24)
    y0, x0, y1, x1 = cell_box((0, 0), 24)
    x_gap = x1 + 1  # inside the gap between (0, 0) and (0, 1)
    column = {tuple(int(v) for v in p) for p in frame[y0:y1, x_gap]}
    assert PATH_COLORS[0] in column and PATH_COLORS[1] in column


def test_a_jump_is_drawn_and_back_and_forth_costs_nothing_extra():
    jump = draw_frame(MAZE, paths=[[(0, 0), (1, 1)]], cell_px=16)
    assert px(jump, gap((0, 0), (1, 1), 16)) == PATH_COLORS[0]  # the diagonal's midpoint
    once = draw_frame(MAZE, paths=[SHORTEST], cell_px=16)
    again = draw_frame(MAZE, paths=[np.array(SHORTEST + SHORTEST[::-1] + SHORTEST)], cell_px=16)
    assert (once == again).all()


def test_custom_path_colours_and_a_single_cell_path():
    frame = draw_frame(MAZE, paths=[[(1, 1)]], path_colors=[(1, 2, 3)], cell_px=16)
    assert px(frame, cell_center((1, 1), 16)) == (1, 2, 3)


def test_visit_heatmap_shades_cells_by_count():
    visits = np.zeros(MAZE.shape)
    visits[0, 0], visits[0, 1], visits[1, 2] = 1, 3, 5
    frame = draw_frame(MAZE, visits=visits, cell_px=16)
    assert px(frame, cell_center((0, 0), 16)) == HEAT_LOW
    assert px(frame, cell_center((1, 2), 16)) == HEAT_HIGH
    mid = px(frame, cell_center((0, 1), 16))
    assert mid not in (HEAT_LOW, HEAT_HIGH, FREE)
    assert px(frame, cell_center((1, 0), 16)) == FREE


def test_frames_are_independent_copies():
    a = draw_frame(MAZE, cell_px=8)
    a[...] = 7
    b = draw_frame(MAZE, cell_px=8)
    assert px(b, cell_center((0, 0), 8)) == FREE


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"agent": (2, 0)}, "agent .* outside the 2x3 grid"),
        ({"paths": [[(0, 0), (0, 9)]]}, r"paths\[0\] cell"),
        ({"visits": np.zeros((3, 3))}, "visits must have the maze's shape"),
        ({"cell_px": 1}, "cell_px must be an int >= 2"),
        ({"wall_px": 0}, "wall_px must be an int >= 1"),
        ({"paths": [[(0, 0)]], "path_colors": []}, "at least one"),
        ({"paths": [[(0, 0, 1)]]}, r"\(row, col\) pairs"),
    ],
)
def test_bad_arguments_name_what_is_allowed(kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_frame(MAZE, **kwargs)


def test_draw_frame_needs_a_maze():
    with pytest.raises(TypeError, match="Maze or a Task"):
        draw_frame(np.zeros((3, 3)))  # type: ignore[arg-type]


def test_importing_and_drawing_does_not_import_pygame():
    code = (
        "import sys; from maze_env.render import draw_frame, render_ansi; from maze_env.maze import Maze;"
        "import numpy as np; m = Maze(np.zeros((2, 2, 2), bool)); draw_frame(m); render_ansi(m);"
        "print('pygame' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tile_frames():
    frames = [draw_frame(MAZE, cell_px=8), draw_frame(Maze(np.zeros((2, 3, 1), bool)), cell_px=8)]
    out = tile_frames(frames, n_cols=2, pad_px=2)
    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    assert out.shape == (h + 4, 2 * w + 6, 3)


# -- text -------------------------------------------------------------------------------------
def test_ansi_matches_to_ascii_and_reads_back():
    text = render_ansi(TASK, path=SHORTEST)
    assert text == MAZE.to_ascii(TASK.origin, TASK.target, SHORTEST)
    assert Maze.from_ascii(text) == MAZE
    assert render_ansi(MAZE) == MAZE.to_ascii()
    assert Task.from_ascii(render_ansi(TASK)) == TASK


def test_ansi_agent_marker():
    lines = render_ansi(TASK, agent=(1, 1)).split("\n")
    assert len(lines) == 5 and all(len(ln) == 7 for ln in lines)
    assert lines[3][3] == AGENT_CHAR
    assert lines[1][1] == "S" and lines[3][5] == "E"
    with pytest.raises(ValueError, match="agent"):
        render_ansi(MAZE, agent=(5, 5))


# -- window (SDL_VIDEODRIVER=dummy, from tests/conftest.py) -----------------------------------
def test_human_window_shows_pumps_and_closes(tmp_path):
    pygame = pytest.importorskip("pygame")
    window = HumanWindow(title="test", fps=0)
    assert window.pump() == [] and not window.is_open
    frame = draw_frame(TASK, agent=(0, 1), cell_px=16)
    window.show(frame)
    assert window.is_open
    assert pygame.display.get_surface().get_size() == (frame.shape[1], frame.shape[0])
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_UP))
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert window.pump() == ["up", "quit"]
    assert window.quit_requested
    window.show(frame, caption="steps 3\nline two")
    w, h = pygame.display.get_surface().get_size()
    assert h > frame.shape[0] and w >= frame.shape[1]
    shot = tmp_path / "shot.png"
    window.screenshot(str(shot))
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size == (w, h)
        assert im.getpixel(cell_center((0, 1), 16)[::-1])[:3] == AGENT
    window.close()
    window.close()
    assert not window.is_open and not pygame.display.get_init()


def test_human_window_rejects_bad_frames():
    with HumanWindow(fps=0) as window, pytest.raises(ValueError, match=r"uint8\[H, W, 3\]"):
        window.show(np.zeros((4, 4), np.uint8))


# -- files ------------------------------------------------------------------------------------
def test_save_png_round_trip(tmp_path):
    from PIL import Image

    frame = draw_frame(TASK, cell_px=10)
    path = save_png(frame, tmp_path / "sub" / "maze.png")
    with Image.open(path) as im:
        assert im.size == (frame.shape[1], frame.shape[0])
        assert (np.asarray(im.convert("RGB")) == frame).all()
    assert sorted(p.name for p in path.parent.iterdir()) == ["maze.png"]  # no temporary left


def test_save_paths_png_with_legend(tmp_path):
    from PIL import Image

    paths = {"shortest": SHORTEST, "agent": [(0, 0), (1, 0), (1, 1)]}
    out = save_paths_png(TASK, paths, tmp_path / "paths.png", cell_px=20, title="a title")
    bare = draw_frame(TASK, paths=list(paths.values()), cell_px=20)
    with Image.open(out) as im:
        rgb = np.asarray(im.convert("RGB"))
    assert rgb.shape[0] > bare.shape[0]  # legend strip under the maze
    assert (rgb[: bare.shape[0], : bare.shape[1]] == bare).all()
    legend = {tuple(int(v) for v in p) for p in rgb[bare.shape[0] :].reshape(-1, 3)}
    assert PATH_COLORS[0] in legend and PATH_COLORS[1] in legend
    plain = save_paths_png(MAZE, [SHORTEST], tmp_path / "plain.png", cell_px=20, legend=False)
    with Image.open(plain) as im:
        assert im.size == (bare.shape[1], bare.shape[0])


def test_save_episode_gif_from_cells_and_from_frames(tmp_path):
    from PIL import Image

    out = save_episode_gif((TASK, SHORTEST), tmp_path / "ep.gif", fps=5, cell_px=12)
    frames = episode_frames(TASK, SHORTEST, cell_px=12)
    with Image.open(out) as im:
        assert im.n_frames == len(SHORTEST)
        assert im.size == (frames[0].shape[1], frames[0].shape[0])
        assert im.info["duration"] == 200
        im.seek(len(SHORTEST) - 1)
        last = np.asarray(im.convert("RGB"))
    assert tuple(int(v) for v in last[cell_center((1, 2), 12)]) == AGENT
    out2 = save_episode_gif(frames[:2], tmp_path / "two.gif")
    with Image.open(out2) as im:
        assert im.n_frames == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ep.gif", "two.gif"]


def test_save_episode_gif_rejects_bad_input(tmp_path):
    a = draw_frame(MAZE, cell_px=8)
    b = draw_frame(MAZE, cell_px=10)
    with pytest.raises(ValueError, match="one size"):
        save_episode_gif([a, b], tmp_path / "x.gif")
    with pytest.raises(ValueError, match="at least one frame"):
        save_episode_gif([], tmp_path / "x.gif")
    with pytest.raises(ValueError, match="fps must be > 0"):
        save_episode_gif([a], tmp_path / "x.gif", fps=0)
    assert not list(tmp_path.iterdir())

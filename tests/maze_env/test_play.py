"""The play game: key handling, optimality, resets, and the window loop (headless)."""

from __future__ import annotations

import numpy as np
import pytest

from maze_env.maze import Task
from maze_env.play import PlayState, auto_cell_px, parse_shape, run
from maze_env.render import AGENT, HumanWindow, cell_center

# 2 x 3 cells: S at (0, 0), E at (1, 2); the shortest path runs along the top row (3 moves).
TASK = Task.from_ascii(
    """
#######
#S    #
# ### #
#   #E#
#######
"""
)


def fresh(seed: int = 0) -> PlayState:
    return PlayState(TASK.maze.shape, seed=seed, task=TASK)


def test_arrow_into_a_wall_does_not_move():
    state = fresh()
    assert state.handle_key("up") == "wall"
    assert state.agent == (0, 0) and state.walked == [(0, 0)]
    assert (state.steps, state.bumps, state.moves) == (1, 1, 0)
    assert "1 into walls" in state.status_text()


def test_shortest_walk_is_optimal():
    state = fresh()
    for key in ("right", "right", "down"):
        assert state.handle_key(key) == "moved"
    assert state.reached and state.optimal and state.detour == 0
    assert state.walked == [(0, 0), (0, 1), (0, 2), (1, 2)]
    assert "reached in 3 moves: optimal!" in state.status_text()
    assert state.handle_key("left") == "done" and state.agent == (1, 2)


def test_a_bump_costs_a_step_but_keeps_the_walk_optimal():
    state = fresh()
    for key in ("up", "right", "right", "down"):
        state.handle_key(key)
    assert state.reached and state.optimal and state.steps == 4


def test_detour_is_not_optimal():
    state = fresh()
    assert state.handle_key("down") == "moved"  # away from the target
    assert not state.optimal and state.detour == 2
    assert "detour +2" in state.status_text()
    for key in ("up", "d", "d", "s"):  # WASD works too
        assert state.handle_key(key) == "moved"
    assert state.reached and not state.optimal
    assert "reached in 5 moves: not optimal (+2)" in state.status_text()


def test_r_resets_to_a_new_maze():
    state = fresh(seed=3)
    state.handle_key("down")
    assert state.handle_key("r") == "reset"
    assert state.episode == 2
    assert state.agent == state.task.origin == (0, 0)  # corner:tl
    assert state.task.target == (1, 2)  # corner:br
    assert (state.steps, state.bumps, state.walked) == (0, 0, [(0, 0)])
    assert state.shortest >= 1


def test_unreachable_target_is_reported():
    task = Task.from_ascii("#####\n#S#E#\n#####")
    state = PlayState((1, 2), task=task)
    assert state.shortest == -1
    assert "cannot be reached" in state.status_text()
    assert state.handle_key("right") == "wall"


def test_quit_and_unbound_keys():
    state = fresh()
    assert state.handle_key("q") == "quit"
    assert state.handle_key("escape") == "quit"
    assert state.handle_key("quit") == "quit"
    assert state.handle_key("x") == "ignored"
    with pytest.raises(ValueError, match="0..3"):
        state.step(7)


def test_same_seed_same_mazes():
    a, b = PlayState((5, 7), seed=11), PlayState((5, 7), seed=11)
    assert a.task == b.task
    a.reset()
    b.reset()
    assert a.task == b.task
    assert a.task.maze.shape == (5, 7)
    assert a.task.origin == (0, 0) and a.task.target == (4, 6)


def test_bad_options_name_what_is_allowed():
    with pytest.raises(ValueError, match="unknown generator 'nope'; allowed: .*dfs"):
        PlayState((4, 4), "nope")
    with pytest.raises(ValueError, match="1x2"):
        PlayState((1, 1))


def test_frame_shows_agent_and_paths():
    state = fresh()
    state.handle_key("right")
    frame = state.frame(cell_px=16)
    assert tuple(int(v) for v in frame[cell_center((0, 1), 16)]) == AGENT
    assert frame.shape == (2 * 20 + 4, 3 * 20 + 4, 3)


@pytest.mark.parametrize(
    ("text", "shape"), [("8x8", (8, 8)), ("6,10", (6, 10)), ("7", (7, 7)), ("3X4", (3, 4))]
)
def test_parse_shape(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["a", "1x2x3", "0x5"])
def test_parse_shape_rejects(text):
    with pytest.raises(ValueError, match="shape"):
        parse_shape(text)


def test_auto_cell_px_bounds():
    assert 8 <= auto_cell_px((100, 100)) <= auto_cell_px((6, 6)) <= 48


def test_run_loop_with_scripted_keys_and_screenshot(tmp_path):
    pytest.importorskip("pygame")
    from PIL import Image

    shot = tmp_path / "play.png"
    window = HumanWindow(fps=0)
    state = run(
        fresh(), cell_px=16, keys=["right", "right", "down"], screenshot=str(shot), window=window
    )
    assert state.reached and state.optimal
    assert not window.is_open
    with Image.open(shot) as im:
        rgb = np.asarray(im.convert("RGB"))
    assert tuple(int(v) for v in rgb[cell_center((1, 2), 16)]) == AGENT
    assert rgb.shape[0] > 2 * 20 + 4  # the status strip under the maze


def test_run_loop_quits_on_q():
    pytest.importorskip("pygame")
    state = run(fresh(), cell_px=8, keys=["down", "q", "right"], window=HumanWindow(fps=0))
    assert state.agent == (1, 0)


def test_cli_play(tmp_path):
    pytest.importorskip("pygame")
    import argparse

    from train import cmd_play

    parser = argparse.ArgumentParser(prog="mazebench")
    cmd_play.add_parser(parser.add_subparsers(dest="command"))
    shot = tmp_path / "cli.png"
    argv = [
        "play",
        "--shape",
        "4x5",
        "--seed",
        "1",
        "--keys",
        "right,down",
        "--screenshot",
        str(shot),
    ]
    args = parser.parse_args(argv)
    assert args.shape == (4, 5) and args.cell_px is None
    assert args.func(args) == 0
    assert shot.exists()
    with pytest.raises(SystemExit):
        parser.parse_args(["play", "--shape", "0x3"])

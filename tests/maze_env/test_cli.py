"""What a new user meets on the command line: ``mazebench play`` without a display, and the
``mazebench generate --help`` example that uses a config file."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from maze_env.render import HumanWindow, NoDisplayError, display_problem
from maze_env.render.window import HEADLESS_DRIVERS

ROOT = Path(__file__).resolve().parents[2]


def parser_for(module) -> argparse.ArgumentParser:  # type: ignore[no-untyped-def]
    parser = argparse.ArgumentParser(prog="mazebench")
    module.add_parser(parser.add_subparsers(dest="command"))
    return parser


# -- play without a display -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("environ", "platform", "problem"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"SDL_VIDEODRIVER": "dummy"}, "linux", False),  # asked for: allowed (tests, scripts)
        ({"SDL_VIDEODRIVER": "kmsdrm"}, "freebsd14", False),
        ({}, "darwin", False),
        ({}, "win32", False),
    ],
)
def test_display_problem(environ: dict, platform: str, problem: bool) -> None:
    found = display_problem(environ, platform)
    assert (found is not None) == problem
    if problem:
        assert "no display" in found and "SDL_VIDEODRIVER=dummy" in found  # type: ignore[operator]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is an X11/Wayland idea")
def test_play_without_display_says_so_and_exits_nonzero() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("SDL_VIDEODRIVER", None)
    proc = subprocess.run(
        [sys.executable, "-m", "maze_env.play", "--shape", "4x4"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,  # the bug this guards against: running invisibly until killed
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "play: error: no display: DISPLAY and WAYLAND_DISPLAY are not set" in proc.stderr


def test_mazebench_play_without_display(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from train import cmd_play

    for var in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    args = parser_for(cmd_play).parse_args(["play", "--shape", "3x3", "--keys", "right"])
    assert args.func(args) == 2
    assert capsys.readouterr().err.startswith("mazebench play: error: no display")


def test_a_silent_fallback_to_a_headless_driver_is_no_display(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pygame = pytest.importorskip("pygame")
    import numpy as np

    assert os.environ["SDL_VIDEODRIVER"] == "dummy"  # tests/conftest.py
    monkeypatch.setattr(pygame.display, "get_driver", lambda: "offscreen")  # not the one asked for
    window = HumanWindow(fps=0)
    with pytest.raises(NoDisplayError, match="fell back to its 'offscreen' driver"):
        window.show(np.zeros((8, 8, 3), np.uint8))
    assert not window.is_open
    assert "offscreen" in HEADLESS_DRIVERS


def test_play_on_the_dummy_driver_plays_the_keys_then_stops(capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pygame")
    from train import cmd_play

    assert os.environ["SDL_VIDEODRIVER"] == "dummy"
    args = parser_for(cmd_play).parse_args(
        ["play", "--shape", "2x2", "--seed", "0", "--keys", "down"]
    )
    assert args.func(args) == 0  # no screenshot, no quit key: ends when the keys run out
    assert "steps 1" in capsys.readouterr().out
    args = parser_for(cmd_play).parse_args(["play", "--shape", "2x2"])
    assert args.func(args) == 0
    assert "nothing to play without --keys" in capsys.readouterr().err


# -- generate --help --------------------------------------------------------------------------
def test_generate_help_names_no_missing_file_and_its_config_example_runs(
    tmp_path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from maze_env.dataset import MazeDataset
    from train import cmd_generate

    parser = parser_for(cmd_generate)
    text = parser._subparsers._group_actions[0].choices["generate"].format_help()  # type: ignore[union-attr]
    assert "configs/" not in text
    example = next(
        line.strip()
        for line in text.splitlines()
        if line.strip().startswith("mazebench generate --config")
    )
    config_name = shlex.split(example)[shlex.split(example).index("--config") + 1]
    assert (ROOT / "agents" / "training_sets.yaml").exists()  # the file the help points to
    lines = text.splitlines()
    shown = next(i for i, line in enumerate(lines) if f"where {config_name} holds" in line)
    yaml_text = next(line.strip() for line in lines[shown:] if line.strip().startswith("{"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / config_name).write_text(yaml_text + "\n")
    argv = shlex.split(example)[1:]
    argv[argv.index("--n") + 1] = "20"  # the example's flags, fewer tasks
    args = parser.parse_args(argv)
    assert args.func(args) == 0
    out = argv[argv.index("--out") + 1]
    dataset = MazeDataset.load(tmp_path / out)
    assert len(dataset) == 20 and dataset.config.target == "region:br:2"
    assert "wrote" in capsys.readouterr().out

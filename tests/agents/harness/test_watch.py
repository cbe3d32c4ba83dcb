"""``mazebench watch``: frames, recordings, errors, the window's keys, and the opt-in expanded-cell
recording of ``bfs`` and ``astar`` (:mod:`agents.harness.watch`, :mod:`train.cmd_watch`)."""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from agents.harness import watch
from agents.harness.runner import build_agent
from train.cli import main

SUITE = "in_distribution"
AGENTS = ("bfs", "astar", "random_fork")


@pytest.fixture(scope="module")
def task0():  # type: ignore[no-untyped-def]
    suite, tasks = watch.load_tasks(SUITE, 0)
    return suite, tasks[0]


@pytest.fixture(scope="module")
def eps0(task0):  # type: ignore[no-untyped-def]
    suite, task = task0
    agents = watch.build_watch_agents(list(AGENTS))
    return watch.episodes(agents, task, (suite.metadata or {}).get("training_target_region"))


# -- frames -------------------------------------------------------------------------------------
def test_frames_have_one_shape_and_change_every_step(task0, eps0) -> None:  # type: ignore[no-untyped-def]
    _, task = task0
    frames = watch.frames(task, eps0, title="t")
    assert len(frames) == watch.timeline(eps0) + 1 >= 2
    assert {f.shape for f in frames} == {frames[0].shape}
    assert frames[0].dtype == np.uint8 and frames[0].ndim == 3 and frames[0].shape[2] == 3
    for a, b in itertools.pairwise(frames):
        assert not np.array_equal(a, b)
    h, w, _ = frames[0].shape
    assert w > 3 * h // 2  # three panels side by side, not stacked


def test_episodes_show_verdicts_and_search_agents_shade_expanded_cells(eps0) -> None:  # type: ignore[no-untyped-def]
    by_label = {ep.label: ep for ep in eps0}
    assert list(by_label) == ["bfs", "astar", "random_fork"]  # names unchanged by the option
    for label in ("bfs", "astar"):
        ep = by_label[label]
        assert ep.outcome == "exact" and ep.verdict().startswith("exact")
        assert ep.explored and len(ep.explored) == ep.trajectory.nodes_expanded
        assert ep.explored[0] == ep.cells[0]  # the search starts at the origin
    assert by_label["random_fork"].explored == ()  # counts only: the panel shows the path
    line = watch.summary_line(0, eps0)
    assert line.startswith("task 0: bfs exact") and "\n" not in line


@pytest.mark.parametrize("name", ["bfs", "astar"])
def test_record_expanded_is_off_by_default_and_changes_nothing_else(name, task0) -> None:  # type: ignore[no-untyped-def]
    _, task = task0
    plain = build_agent(name, 0).solve(task)
    rec = build_agent(f"{name}:record_expanded=true", 0).solve(task)
    assert "expanded_cells" not in plain.extra
    assert rec.cells == plain.cells and rec.nodes_expanded == plain.nodes_expanded
    assert {k: v for k, v in rec.extra.items() if k != "expanded_cells"} == plain.extra
    cells = rec.extra["expanded_cells"]
    assert len(cells) == rec.nodes_expanded and len({tuple(c) for c in cells}) == len(cells)
    batch = build_agent(f"{name}:record_expanded=true", 0).solve_batch([task, task])
    assert [t.extra["expanded_cells"] for t in batch] == [cells, cells]
    with pytest.raises(ValueError, match="record_expanded must be true or false"):
        build_agent(f"{name}:record_expanded=1", 0)


def test_with_recording_only_where_an_agent_takes_it() -> None:
    assert watch.with_recording("bfs") == "bfs:record_expanded=true"
    assert watch.with_recording("astar:record_expanded=false") == "astar:record_expanded=false"
    assert watch.with_recording("random_fork") == "random_fork"


def test_a_frame_png(tmp_path, task0, eps0) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    _, task = task0
    frame = watch.frame_at(task, eps0, watch.timeline(eps0) // 2, title="in_distribution task 0")
    Image.fromarray(frame).save(tmp_path / "frame.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "frame.png"))[..., :3], frame)


# -- the command line: recordings ---------------------------------------------------------------
def run_cli(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    rc = main(["watch", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_record_gif_reads_back_with_one_frame_per_step(tmp_path, capsys, eps0) -> None:  # type: ignore[no-untyped-def]
    import imageio.v3 as iio

    path = tmp_path / "sub" / "w.gif"
    rc, out, err = run_cli(capsys, "--agents", *AGENTS, "--suite", SUITE, "--record", str(path))
    assert rc == 0, err
    assert out.splitlines()[0] == watch.summary_line(0, eps0)
    assert f"wrote {path}" in out
    video = iio.imread(path, index=None)
    assert video.shape[0] == watch.timeline(eps0) + 1
    assert video.shape[3] in (3, 4) and video.dtype == np.uint8
    assert not np.array_equal(video[0], video[-1])
    assert [p.name for p in path.parent.iterdir()] == ["w.gif"]  # no temporary left behind


@pytest.mark.skipif(importlib.util.find_spec("imageio_ffmpeg") is None, reason="no imageio-ffmpeg")
def test_record_mp4_reads_back(tmp_path, capsys, eps0) -> None:  # type: ignore[no-untyped-def]
    import imageio.v2 as iio2

    path = tmp_path / "w.mp4"
    fps = 8
    rc, _, err = run_cli(
        capsys, "--agents", *AGENTS, "--suite", SUITE, "--fps", str(fps), "--record", str(path)
    )
    assert rc == 0, err
    with iio2.get_reader(path) as reader:
        frames = [f for f in reader]
    held = max(0, round(watch.HOLD_S * fps) - 1)  # the last frame is repeated to hold it
    assert len(frames) == watch.timeline(eps0) + 1 + held
    assert frames[0].ndim == 3 and frames[0].shape[0] % 2 == 0 and frames[0].shape[1] % 2 == 0


# -- the command line: errors -------------------------------------------------------------------
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY is an X11/Wayland idea")
def test_no_display_without_record_is_one_line_and_status_2(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(var, raising=False)
    rc, out, err = run_cli(capsys, "--agents", "bfs", "--suite", SUITE)
    assert rc == 2 and out == ""
    assert err.startswith("mazebench watch: error: no display") and err.count("\n") == 1
    assert "--record FILE.gif" in err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--agents", "bfs", "--record", "{dir}/w.png"], "--record writes .gif or .mp4"),
        (["--agents", "bfs", "nosuch", "--record", "{dir}/w.gif"], "unknown agent 'nosuch'"),
        (["--agents", "bfs:nosuch=1", "--record", "{dir}/w.gif"], "no parameter 'nosuch'"),
        (["--agents", "bfs", "--suite", "nosuch", "--record", "{dir}/w.gif"], "unknown suite"),
        (["--agents", "bfs", "--task", "100000", "--record", "{dir}/w.gif"], "out of range"),
        (["--agents", "bfs", "--task", "-1", "--record", "{dir}/w.gif"], "out of range"),
        (["--agents", "bfs", "--fps", "0", "--record", "{dir}/w.gif"], "--fps must be > 0"),
        (["--agents", "bfs", "--screenshot", "{dir}/w.txt"], "--screenshot writes .png"),
        (
            ["--agents", "bfs", "--record", "{dir}/w.gif", "--screenshot", "{dir}/w.png"],
            "do not go together",
        ),
    ],
)
def test_bad_input_is_one_line_status_2_and_no_file(tmp_path, capsys, args, says) -> None:  # type: ignore[no-untyped-def]
    rc, _, err = run_cli(capsys, *(a.format(dir=tmp_path) for a in args))
    assert rc == 2
    assert err.startswith("mazebench watch: error: ") and err.count("\n") == 1
    assert says in err
    assert list(tmp_path.iterdir()) == []


def test_help_names_the_keys_and_the_recording(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        main(["watch", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for word in ("space", "arrows", "n goes to the next task", "Escape", ".gif", ".mp4"):
        assert word in text


# -- the window ---------------------------------------------------------------------------------
def test_playback_keys() -> None:
    lengths = {0: 3, 1: 5}
    pb = watch.Playback(2, lengths.__getitem__)
    assert (pb.task, pb.t, pb.paused) == (0, 0, False)
    pb.tick()
    assert pb.t == 1
    assert pb.handle_key("space") == "pause" and pb.paused
    pb.tick()
    assert pb.t == 1  # paused: time stands still
    assert pb.handle_key("space") == "resume" and not pb.paused
    assert pb.handle_key("right") == "forward" and (pb.t, pb.paused) == (2, True)
    assert pb.handle_key("left") == "back" and pb.t == 1
    pb.handle_key("left"), pb.handle_key("left")
    assert pb.t == 0  # not before the start
    for _ in range(9):
        pb.handle_key("right")
    assert pb.t == 3 and pb.at_end  # not past the end
    assert "end" in pb.status() and "space" in pb.status()
    assert pb.handle_key("space") == "replay" and (pb.t, pb.paused) == (0, False)
    assert pb.handle_key("n") == "next" and (pb.task, pb.t) == (1, 0) and pb.last == 5
    assert pb.handle_key("n") == "next" and pb.task == 0  # wraps
    assert pb.handle_key("x") == "ignored"
    assert pb.handle_key("q") == "quit" and pb.quit
    assert watch.Playback(1, lambda i: 0).handle_key("escape") == "quit"


def test_playback_ticks_per_move() -> None:
    pb = watch.Playback(1, lambda i: 10, ticks_per_move=3)
    for _ in range(6):
        pb.tick()
    assert pb.t == 2


class FakeWindow:
    """What :func:`watch.run_window` needs of a window: keys come from a script, one list per
    redraw."""

    headless = False

    def __init__(self, keys: list[list[str]]) -> None:
        self.keys, self.shown, self.closed = list(keys), [], False

    def show(self, frame: np.ndarray, caption: str | None = None) -> None:
        self.shown.append((frame.shape, caption))

    def pump(self) -> list[str]:
        return self.keys.pop(0) if self.keys else ["q"]

    def screenshot(self, path: str) -> None:  # pragma: no cover (not asked for here)
        raise AssertionError(path)

    def close(self) -> None:
        self.closed = True


def test_run_window_n_solves_the_next_task_and_q_quits(task0) -> None:  # type: ignore[no-untyped-def]
    _, tasks = watch.load_tasks(SUITE, 0, 2)
    agents = watch.build_watch_agents(["bfs", "random_fork"])
    solved: list[int] = []
    window = FakeWindow([[], ["n"], ["space"], ["right"], ["q"]])
    state = watch.run_window(
        tasks, agents, suite=SUITE, fps=30, window=window,
        on_episodes=lambda i, eps: solved.append(i),
    )  # fmt: skip
    assert state.quit and window.closed
    assert solved == [0, 1] and state.task == 1
    assert state.paused and state.t == 2  # n: step 0, then a tick; space paused at 1; right: 2
    assert all(caption and "task" in caption for _, caption in window.shown)


def test_run_window_on_the_dummy_driver_saves_a_screenshot(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    shot = tmp_path / "win.png"
    rc, out, err = run_cli(
        capsys, "--agents", "bfs", "random_fork", "--fps", "200", "--screenshot", str(shot)
    )
    assert rc == 0, err
    assert out.startswith("task 0: bfs exact")
    from PIL import Image

    with Image.open(shot) as im:
        assert im.size[0] > 2 * 100 and math.prod(im.size) > 0


def test_record_refuses_nothing_to_record(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="nothing to record"):
        watch.record(tmp_path / "x.gif", [])
    assert not Path(tmp_path / "x.gif").exists()

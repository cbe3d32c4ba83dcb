"""``mazebench generate``: flags and config files to .npz, and a --help that lists every generator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.generators import GENERATORS
from train.cli import main
from train.cmd_generate import parse_param


def test_generate_from_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d.npz"
    argv = ["generate", "--shape", "4x5", "--n", "40", "--seed", "3", "--target", "region:br:2"]
    assert main([*argv, "--min-path-length", "2", "--out", str(out), "--no-progress"]) == 0
    data = MazeDataset.load(out)
    expected = DatasetConfig(shape=(4, 5), n=40, seed=3, target="region:br:2", min_path_length=2)
    assert data.config == expected and len(data) == 40
    assert data.content_hash() == MazeDataset.from_config(expected).content_hash()
    printed = capsys.readouterr().out
    assert "40 tasks, dfs 4x5" in printed and f"wrote {out}" in printed


def test_generate_from_config_with_overrides(tmp_path: Path) -> None:
    config = DatasetConfig(
        generator="percolation", shape=(5, 5), n=30, seed=1, params={"p": 0.6}, name="perc"
    )
    (tmp_path / "c.json").write_text(json.dumps(config.to_dict()))
    (tmp_path / "c.yaml").write_text(
        "generator: percolation\nshape: 5x5\nn: 30\nseed: 1\nparams: {p: 0.6}\n"
    )
    out = tmp_path / "d.npz"
    assert main(["generate", "--config", str(tmp_path / "c.json"), "--out", str(out)]) == 0
    assert MazeDataset.load(out).config == config
    argv = ["generate", "--config", str(tmp_path / "c.yaml"), "--n", "12", "--param", "p=0.9"]
    assert main([*argv, "--param", "connect=true", "--out", str(out), "--force"]) == 0
    loaded = MazeDataset.load(out).config
    assert loaded == config.replace(n=12, params={"p": 0.9, "connect": True}, name=None)


def test_generate_with_exclusion_and_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train, test = tmp_path / "train.npz", tmp_path / "test.npz"
    assert main(["generate", "--shape", "2x2", "--n", "30", "--out", str(train)]) == 0
    argv = ["generate", "--shape", "2x2", "--n", "18", "--seed", "1", "--exclude", str(train)]
    assert main([*argv, "--out", str(test), "--show", "2"]) == 0
    a, b = MazeDataset.load(train), MazeDataset.load(test)
    assert not set(a.task_keys()) & set(b.task_keys())
    printed = capsys.readouterr().out
    assert printed.count("\ntask ") == 2 and "S" in printed and "E" in printed


def test_an_existing_out_file_is_kept_unless_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "d.npz"
    out.write_bytes(b"precious")
    argv = ["generate", "--shape", "2x2", "--n", "5", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "mazebench generate: error:" in err and str(out) in err and "--force" in err
    assert out.read_bytes() == b"precious"
    assert main([*argv, "--force"]) == 0
    assert len(MazeDataset.load(out)) == 5


def test_cache_dir_and_no_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["generate", "--shape", "3x3", "--n", "10", "--cache-dir", str(tmp_path)]
    assert main(argv) == 0 and main(argv) == 0
    assert len(list(tmp_path.glob("*.npz"))) == 1
    assert "not written" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--generator", "nope"], "unknown generator 'nope'; known: dfs"),
        (["--shape", "six"], "shape must look like 6x6"),
        (["--param", "p"], "--param must look like KEY=VALUE"),
        (["--origin", "middle"], "allowed: random, cell:R,C"),
        (["--workers", "0"], "--workers must be >= 1"),
        (["--exclude", "/nonexistent/x.npz"], "No such file"),
    ],
)
def test_errors_are_reported(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["generate", "--n", "5", *argv]) == 2
    err = capsys.readouterr().err
    assert "mazebench generate: error:" in err and message in err


def test_help_lists_every_generator_and_placement(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    flat = " ".join(text.split())  # wrapping may break a long parameter list across lines
    for name, spec in GENERATORS.items():
        assert f"\n  {name} " in text, name
        for param, default in spec.params.items():
            assert " ".join(f"{param}={default!r}".split()) in flat, (name, param)
    assert text.count("guarantee: ") == len(GENERATORS)
    for spec in (
        "random",
        "cell:R,C",
        "corner:tl|tr|bl|br",
        "region:CORNER:K",
        "outside:CORNER:K",
        "dead_end",
    ):
        assert spec in text
    for flag in (
        "--config",
        "--shape",
        "--param",
        "--min-path-length",
        "--out",
        "--workers",
        "--show",
    ):
        assert flag in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("p=0.5", ("p", 0.5)), ("connect=false", ("connect", False)), ("start_coord=[0, 1]", ("start_coord", [0, 1])),
     ("accessible_cells=None", ("accessible_cells", None)), ("kind=segment", ("kind", "segment")), ("n= 3", ("n", 3))],
)  # fmt: skip
def test_parse_param(text: str, expected: tuple[str, object]) -> None:
    assert parse_param(text) == expected

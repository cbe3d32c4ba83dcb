"""A user's mistake on the command line ends in one line naming the file, never a traceback
(the full sweep: benchmarks/bad_inputs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import train.cmd_compare
from train import cli
from train.cli import main

SMALL = ["--agents", "bfs", "--n", "3", "--no-progress"]


def _one_error(capsys: pytest.CaptureFixture, cmd: str, *names: str) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"mazebench {cmd}: error:"), lines[0]
    assert "Traceback" not in err
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def test_suites_file_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("not: [valid\n")
    out = tmp_path / "a"
    argv = ["compare", *SMALL, "--suites-file", str(bad), "--out", str(out)]
    assert main(argv) == 2
    _one_error(capsys, "compare", str(bad), "line 2")
    assert not out.exists()


def test_run_config_not_yaml(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("not: [valid\n")
    assert main(["run", "--config", str(bad), "--out", str(tmp_path / "r")]) == 2
    _one_error(capsys, "run", str(bad))


def test_suites_file_a_list_of_names(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "list.yaml"
    bad.write_text("- a\n- b\n")
    argv = ["compare", *SMALL, "--suites-file", str(bad), "--out", str(tmp_path / "a")]
    assert main(argv) == 2
    _one_error(capsys, "compare", str(bad), "not a mapping")


@pytest.mark.parametrize("option", ["--out", "--cache-dir"])
def test_folder_option_is_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, option: str
) -> None:
    f = tmp_path / "f"
    f.write_text("keep me")
    out = str(f) if option == "--out" else str(tmp_path / "b")
    extra = [] if option == "--out" else ["--cache-dir", str(f)]
    argv = ["compare", *SMALL, "--suites", "in_distribution", "--out", out, *extra]
    assert main(argv) == 2
    _one_error(capsys, "compare", str(f), option)
    assert f.read_text() == "keep me"


def test_generate_out_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "keep").write_text("x")
    assert main(["generate", "--n", "5", "--out", str(tmp_path)]) == 2
    _one_error(capsys, "generate", str(tmp_path))
    assert (tmp_path / "keep").read_text() == "x"


def _run_folder(tmp_path: Path) -> Path:
    out = tmp_path / "b"
    assert main(["compare", *SMALL, "--suites", "size_4", "--no-report", "--out", str(out)]) == 0
    return out


def test_report_results_without_suites(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = _run_folder(tmp_path)
    capsys.readouterr()
    (out / "results.json").write_text('{"agents": 3}')
    assert main(["report", str(out)]) == 2
    _one_error(capsys, "report", str(out / "results.json"))
    assert (out / "results.json").read_text() == '{"agents": 3}'


@pytest.mark.parametrize("name", ["results.json", "config.json"])
def test_corrupt_run_folder_json(
    tmp_path: Path, capsys: pytest.CaptureFixture, name: str
) -> None:
    out = _run_folder(tmp_path)
    capsys.readouterr()
    (out / name).write_text("{not json")
    assert main(["report", str(out)]) == 2
    _one_error(capsys, "report", str(out / name))
    if name == "config.json":  # a resumed compare reads it too
        argv = ["compare", *SMALL, "--suites", "size_4", "--no-report", "--out", str(out)]
        assert main(argv) == 2
        _one_error(capsys, "compare", str(out / name))
    assert (out / name).read_text() == "{not json"


def test_random_bytes_npz(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    npz = tmp_path / "m.npz"
    npz.write_bytes(bytes(range(256)))
    argv = ["compare", *SMALL, "--suites-file", str(npz), "--out", str(tmp_path / "a")]
    assert main(argv) == 2
    line = _one_error(capsys, "compare", str(npz))
    assert "pickle" not in line


@pytest.mark.parametrize(
    "argv, option",
    [(["compare", "--n", "many"], "--n"), (["run", "--n", "many"], "--n"),
     (["compare", "--workers", "two"], "--workers")],
)  # fmt: skip
def test_argparse_type_error_names_the_option(
    capsys: pytest.CaptureFixture, argv: list[str], option: str
) -> None:
    with pytest.raises(SystemExit) as exit_:  # argparse exits itself
        main(argv)
    assert exit_.value.code == 2
    _one_error(capsys, argv[0], option)


def test_permission_error_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = str(tmp_path / "out.npz")

    def refuse(self: object, path: object) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("maze_env.dataset.MazeDataset.save", refuse)
    assert main(["generate", "--n", "5", "--out", target]) == 2
    _one_error(capsys, "generate", target, "Permission denied")


def test_failed_suite_check_does_not_block_the_fixed_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("suites:\n  - {name: mine, generator: dfs, shape: [-3, 0]}\n")
    out = tmp_path / "p"
    argv = ["compare", *SMALL, "--suites-file", str(spec), "--suites", "mine", "--out", str(out)]
    assert main(argv) == 2
    _one_error(capsys, "compare", str(spec), "mine")
    assert not (out / "config.json").exists()
    spec.write_text("suites:\n  - {name: mine, generator: dfs, shape: [5, 5]}\n")
    assert main([*argv, "--no-report"]) == 0
    assert json.loads((out / "results.json").read_text())["suites"][0]["name"] == "mine"


@pytest.mark.parametrize(
    "field", ["params: {p: 0.5}", 'origin: "cell:9,9"', "n: -5", "n: many", "seed: -1"]
)
def test_bad_suite_recipe_is_refused_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture, field: str
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(f"suites:\n  - {{name: mine, generator: dfs, shape: [5, 5], {field}}}\n")
    out = tmp_path / "p"
    argv = ["compare", *SMALL, "--suites-file", str(spec), "--suites", "mine", "--out", str(out)]
    assert main(argv) == 2
    _one_error(capsys, "compare", str(spec), "mine")
    assert not (out / "config.json").exists()


def test_interrupt_is_one_line_and_130(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("agents.harness.runner.run_comparison", interrupted)
    assert train.cmd_compare.run is not None
    argv = ["compare", *SMALL, "--suites", "size_4", "--out", str(tmp_path / "a")]
    assert main(argv) == cli.INTERRUPTED == 130
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["mazebench compare: interrupted; rerun the same command to resume"]


def test_subcommands_all_exist_and_a_missing_one_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "bench" not in cli.SUBCOMMANDS
    cli.build_parser()  # every listed module imports
    monkeypatch.setattr(cli, "SUBCOMMANDS", (*cli.SUBCOMMANDS, "no_such_command"))
    with pytest.raises(ModuleNotFoundError, match="cmd_no_such_command"):
        cli.build_parser()

"""``mazebench compare --suites-file`` with users' own mazes (.npz and AOTP text), and
``--backend ray`` (a local Ray instance): through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.harness.run_folder import iter_predictions
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.solve import shortest_path
from maze_env.tokens import tokenize
from train.cli import main


@pytest.fixture(scope="module")
def dataset() -> MazeDataset:
    return MazeDataset.from_config(
        DatasetConfig(generator="wilson", shape=(5, 4), n=9, seed=23, name="mine")
    )


def _compare(out: Path, *extra: str) -> int:
    return main(["compare", "--agents", "bfs", "dfs", "--out", str(out), "--no-progress", *extra])


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def _tasks(out: Path, agent: str, suite: str) -> list[tuple]:
    rows = sorted(
        (r for r in iter_predictions(out) if r["agent"] == agent and r["suite"] == suite),
        key=lambda r: r["index"],
    )
    return [(r["index"], tuple(r["origin"]), tuple(r["target"])) for r in rows]


def _file_tasks(dataset: MazeDataset, n: int) -> list[tuple]:
    return [(i, tuple(dataset[i].origin), tuple(dataset[i].target)) for i in range(n)]


def test_npz_suite_runs_alone_with_n_capped_and_recomputes(
    dataset: MazeDataset, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = dataset.save(tmp_path / "my mazes.npz")
    out = tmp_path / "run"
    assert _compare(out, "--suites-file", str(path), "--n", "50") == 0  # more than the file has
    results = _results(out)
    assert [s["name"] for s in results["suites"]] == ["my_mazes"]
    suite = results["suites"][0]
    assert suite["n"] == 9 and suite["family"] == "user" and suite["shape"] == [5, 4]
    assert results["results"]["bfs"]["my_mazes"]["exact"]["mean"] == 1.0
    assert results["results"]["bfs"]["my_mazes"]["exact"]["n"] == 9
    assert _tasks(out, "bfs", "my_mazes") == _file_tasks(dataset, 9)
    # `report --recompute` rebuilds the user suite from its file (no generator recipe)
    (out / "results.json").unlink()
    capsys.readouterr()
    assert main(["report", "--recompute", str(out)]) == 0
    assert _results(out)["results"] == results["results"]
    assert 'id="explorer"' in (out / "report.html").read_text(encoding="utf-8")


def test_aotp_suite_beside_a_builtin_one_takes_the_first_n(
    dataset: MazeDataset, tmp_path: Path
) -> None:
    lines = ["# shape: 5x4", ""]
    for t in dataset:
        path = shortest_path(t.maze, t.origin, t.target)
        lines.append(" ".join(tokenize(t.maze, t.origin, t.target, path, scheme="aotp")))
    text = tmp_path / "mazes.txt"
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert _compare(out, "--suites", "size_4", "--suites-file", str(text), "--n", "4") == 0
    results = _results(out)
    assert [(s["name"], s["n"]) for s in results["suites"]] == [("size_4", 4), ("mazes", 4)]
    assert results["suites"][1]["metadata"]["source"]["format"] == "aotp"
    assert _tasks(out, "dfs", "mazes") == _file_tasks(dataset, 4)
    assert results["results"]["bfs"]["mazes"]["exact"]["mean"] == 1.0


def test_shards_of_a_user_suite_merge(dataset: MazeDataset, tmp_path: Path) -> None:
    path = dataset.save(tmp_path / "mine.npz")
    parts = [tmp_path / "p0", tmp_path / "p1"]
    for i, part in enumerate(parts):
        assert _compare(part, "--suites-file", str(path), "--shard", f"{i}/2") == 0
    out = tmp_path / "full"
    assert main(["compare", "--merge", *map(str, parts), "--out", str(out), "--no-report"]) == 0
    assert _results(out)["suites"][0]["n"] == 9
    assert _tasks(out, "bfs", "mine") == _file_tasks(dataset, 9)


def test_a_changed_user_file_is_refused_on_recompute(
    dataset: MazeDataset, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    path = dataset.save(tmp_path / "mine.npz")
    out = tmp_path / "run"
    assert _compare(out, "--suites-file", str(path), "--no-report") == 0
    other = MazeDataset.from_config(DatasetConfig(generator="wilson", shape=(5, 4), n=9, seed=24))
    other.save(path)
    capsys.readouterr()
    assert main(["report", "--recompute", str(out)]) != 0
    assert "changed since the run started" in capsys.readouterr().err


def test_address_without_ray_backend_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert _compare(tmp_path / "run", "--suites", "size_4", "--address", "auto") != 0
    assert "--address needs --backend ray" in capsys.readouterr().err


def test_ray_backend_rows_equal_the_local_run(tmp_path: Path) -> None:
    """One small comparison on a private local Ray instance (2 CPUs) vs local processes."""
    common = ("--agents", "bfs", "random_fork", "mcts:simulations=5", "--suites", "size_4")
    common += ("--n", "12", "--no-progress", "--no-report", "--workers", "2")
    local, ray = tmp_path / "local", tmp_path / "ray"
    assert main(["compare", *common, "--out", str(local)]) == 0
    assert main(["compare", *common, "--backend", "ray", "--out", str(ray)]) == 0

    def rows(out: Path) -> list:
        out_rows = []
        for r in iter_predictions(out):
            r["trajectory"].pop("seconds", None)
            r["metrics"] = {k: v for k, v in r["metrics"].items() if "second" not in k}
            out_rows.append(r)
        return sorted(out_rows, key=lambda r: (r["agent"], r["suite"], r["index"]))

    assert rows(ray) == rows(local) and len(rows(local)) == 3 * 12
    assert _results(ray)["run"]["backend"] == "ray"
    for agent in ("random_fork", "mcts:simulations=5"):
        for rate in ("exact", "reached"):
            got = _results(ray)["results"][agent]["size_4"][rate]
            assert got == _results(local)["results"][agent]["size_4"][rate]

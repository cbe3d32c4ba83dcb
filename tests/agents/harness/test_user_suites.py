"""Suites from users' files: a .npz dataset and maze-dataset AOTP lines, read back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agents.harness.suites import Suite, SuiteData
from agents.harness.user_suites import (
    USER_GENERATOR,
    is_user_suite,
    load_user_suite,
    read_aotp,
    suite_name_for,
    take,
    user_suite_data,
)
from maze_env.dataset import DatasetConfig, MazeDataset
from maze_env.solve import shortest_path
from maze_env.tokens import tokenize


@pytest.fixture(scope="module")
def dataset() -> MazeDataset:
    return MazeDataset.from_config(
        DatasetConfig(generator="wilson", shape=(5, 4), n=12, seed=11, name="mine")
    )


def _aotp_lines(dataset: MazeDataset, with_path: bool = True) -> list[str]:
    lines = []
    for t in dataset:
        path = shortest_path(t.maze, t.origin, t.target) if with_path else None
        lines.append(" ".join(tokenize(t.maze, t.origin, t.target, path, scheme="aotp")))
    return lines


def _same_tasks(a: MazeDataset, b: MazeDataset) -> None:
    assert len(a) == len(b)
    assert np.array_equal(a.mazes.connections, b.mazes.connections)
    assert np.array_equal(a.origins, b.origins) and np.array_equal(a.targets, b.targets)
    assert np.array_equal(a.path_lengths, b.path_lengths)


def test_npz_suite_holds_the_files_tasks(dataset: MazeDataset, tmp_path: Path) -> None:
    path = dataset.save(tmp_path / "my data.npz")
    suite, data = load_user_suite(path)
    assert isinstance(suite, Suite) and isinstance(data, SuiteData) and data.suite is suite
    assert suite.name == "my_data" and suite.shape == (5, 4) and suite.n == 12
    assert suite.generator == USER_GENERATOR and is_user_suite(suite)
    assert suite.metadata["generator"] == "wilson" and suite.family == "user"
    source = suite.metadata["source"]
    assert source["format"] == "npz" and Path(source["path"]) == path.resolve()
    assert source["content_hash"] == dataset.content_hash()
    _same_tasks(data.dataset, dataset)
    assert load_user_suite(path, "other")[0].name == "other"


def test_aotp_suite_reads_maze_dataset_lines(dataset: MazeDataset, tmp_path: Path) -> None:
    lines = _aotp_lines(dataset)
    lines[3] = _aotp_lines(dataset, with_path=False)[3]  # a prompt (ends at <PATH_START>) is fine
    path = tmp_path / "tasks.txt"
    path.write_text("# exported from maze-dataset\n\n" + "\n".join(lines) + "\n")
    suite, data = load_user_suite(path)
    assert suite.name == "tasks" and suite.shape == (5, 4) and suite.n == len(dataset)
    assert suite.metadata["source"]["format"] == "aotp" and suite.metadata["generator"] == "unknown"
    _same_tasks(data.dataset, dataset)
    assert data.dataset.config.name == "user:aotp:tasks.txt"


def test_aotp_bad_line_names_the_line(dataset: MazeDataset, tmp_path: Path) -> None:
    lines = _aotp_lines(dataset)
    lines[4] = lines[4].replace("<TARGET_END>", "")  # truncated target section
    path = tmp_path / "bad.txt"
    path.write_text("# header\n" + "\n".join(lines))
    with pytest.raises(ValueError, match=r"bad\.txt:6: not a valid AOTP task line"):
        load_user_suite(path)
    path.write_text("hello world\n")
    with pytest.raises(ValueError, match=r"bad\.txt:1: not a valid AOTP task line"):
        load_user_suite(path)
    path.write_text("# only comments\n\n")
    with pytest.raises(ValueError, match="no tasks"):
        load_user_suite(path)


def test_aotp_path_through_a_wall_is_refused(dataset: MazeDataset, tmp_path: Path) -> None:
    t = dataset[0]
    wall = next(
        (a, b)
        for a in [(r, c) for r in range(5) for c in range(3)]
        for b in [(a[0], a[1] + 1)]
        if not t.maze.has_passage(a, b)
    )
    line = " ".join(tokenize(t.maze, wall[0], wall[1], [wall[0], wall[1]], scheme="aotp"))
    path = tmp_path / "wall.txt"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match=r"wall\.txt:1: .*crosses a wall"):
        load_user_suite(path)


def test_aotp_sizes_must_agree_unless_a_shape_line_says(
    dataset: MazeDataset, tmp_path: Path
) -> None:
    other = MazeDataset.from_config(DatasetConfig(generator="dfs", shape=(3, 3), n=2, seed=1))
    path = tmp_path / "mixed.txt"
    path.write_text("\n".join(_aotp_lines(dataset)[:2] + _aotp_lines(other)))
    with pytest.raises(
        ValueError, match=r"different sizes: 3x3 \(lines 3, 4\), 5x4 \(lines 1, 2\)"
    ):
        load_user_suite(path)
    # the same 3x3 tasks on a declared 5x4 grid: read there, with the extra cells closed off
    path.write_text("# shape: 5x4\n" + "\n".join(_aotp_lines(other)))
    suite, data = load_user_suite(path)
    assert suite.shape == (5, 4) and not data.dataset.mazes.connections[:, 3:].any()
    assert read_aotp(path, shape="5x4").mazes.shape == (5, 4)


def test_aotp_unreachable_target_is_refused(tmp_path: Path) -> None:
    line = (
        "<ADJLIST_START> (0,0) <--> (0,1) ; (1,0) <--> (1,1) ; <ADJLIST_END> "
        "<ORIGIN_START> (0,0) <ORIGIN_END> <TARGET_START> (1,1) <TARGET_END> <PATH_START>"
    )
    path = tmp_path / "cut.txt"
    path.write_text(line + "\n")
    with pytest.raises(ValueError, match=r"cut\.txt:1: the target cannot be reached"):
        load_user_suite(path)


def test_reload_checks_the_content_hash_and_takes_n(dataset: MazeDataset, tmp_path: Path) -> None:
    path = dataset.save(tmp_path / "d.npz")
    suite, _ = load_user_suite(path)
    again = user_suite_data(suite.to_dict(), n=5)
    assert again.suite == suite and len(again.dataset) == 5
    _same_tasks(again.dataset, take(dataset, 5))
    MazeDataset.from_config(DatasetConfig(generator="wilson", shape=(5, 4), n=12, seed=12)).save(
        path
    )
    with pytest.raises(ValueError, match="changed since the run started"):
        user_suite_data(suite)
    with pytest.raises(ValueError, match="not a user suite"):
        user_suite_data(Suite("x", "dfs", (4, 4)))


def test_disjoint_from_a_training_set_is_checked(tmp_path: Path) -> None:
    train = DatasetConfig(generator="dfs", shape=(4, 4), n=20, seed=5)
    MazeDataset.from_config(train).save(tmp_path / "leak.npz")
    with pytest.raises(ValueError, match="shares 20 task"):
        load_user_suite(tmp_path / "leak.npz", disjoint_from=[train])
    fresh = MazeDataset.from_config(train.replace(seed=6))
    fresh.save(tmp_path / "fresh.npz")
    suite, _ = load_user_suite(tmp_path / "fresh.npz", disjoint_from=[train])
    assert suite.disjoint_from == (train,)
    with pytest.raises(ValueError, match="unknown training set 'nope'"):
        load_user_suite(tmp_path / "fresh.npz", disjoint_from=["nope"])


def test_missing_file_and_names(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="expected .npz or AOTP text"):
        load_user_suite(tmp_path / "nothing.npz")
    assert suite_name_for("/a/b/My Mazes (v2).txt") == "My_Mazes_v2"
    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable mazebench dataset"):
        load_user_suite(tmp_path / "x.npz")

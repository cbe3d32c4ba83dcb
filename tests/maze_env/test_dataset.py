"""Datasets: config hashing, reproducible generation, filters, the cache and .npz files."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import maze_env.dataset as dataset_module
from maze_env.dataset import FORMAT_VERSION, DatasetConfig, MazeDataset, cache_name, placement_masks
from maze_env.generators import GENERATORS, GeneratorSpec
from maze_env.maze import Maze, Task
from maze_env.placement import parse_placement
from maze_env.solve import batch_bfs_distances, shortest_path

# Pinned: a change means every cached and saved dataset silently changes meaning. If it is
# intended, bump FORMAT_VERSION and update these with a note in docs/ARCHITECTURE.md.
GOLDEN_CONFIG = DatasetConfig(generator="dfs", shape=(6, 6), n=100, seed=0)
GOLDEN_CONFIG_HASH = "16df5bd074371be7785b8a8003889516464292ed5f4270751ead545c76fc888f"
SMALL = DatasetConfig(
    generator="dfs", shape=(5, 5), n=50, seed=123, target="region:br:2", min_path_length=0
)
GOLDEN_ENDPOINTS_HASH = "8bd475fc5c4c47a5fae38203b05011eac8b58f7c53a53eefbda4052c5ef3c5bc"  # origins and targets only: the placement streams
GOLDEN_CONTENT_HASH = "6c898c443f3b2dee8d39f24607076e23379e28de1bf7a867875057bcd2b9df19"  # mazes too: also changes if the dfs generator does


@pytest.fixture(scope="module")
def small() -> MazeDataset:
    return MazeDataset.from_config(SMALL)


def endpoints_hash(d: MazeDataset) -> str:
    return hashlib.sha256(
        d.origins.astype("<i8").tobytes() + d.targets.astype("<i8").tobytes()
    ).hexdigest()


def split_kernel(shape: tuple[int, int], n: int, *, key: int, start: int) -> np.ndarray:
    """Test generator: open fields cut in two by a vertical wall (half the pairs unreachable)."""
    rows, cols = shape
    conn = np.ones((n, 2, rows, cols), dtype=bool)
    conn[:, 0, -1, :] = False
    conn[:, 1, :, -1] = False
    conn[:, 1, :, cols // 2 - 1] = False
    return conn


# -- config ------------------------------------------------------------------------------------
def test_config_hash_is_pinned() -> None:
    assert GOLDEN_CONFIG.hash() == GOLDEN_CONFIG_HASH


def test_hash_ignores_name_and_spelling() -> None:
    base = DatasetConfig(shape=(6, 6), origin="cell:0,0", target="region:br:2")
    same = DatasetConfig(shape="6x6", origin=(0, 0), target=" region:br:2", name="train")
    assert same.hash() == base.hash() and same == base.replace(name="train")
    assert hash(same) == hash(base)
    for change in (
        {"seed": 1},
        {"n": 999},
        {"dedupe": False},
        {"min_path_length": 2},
        {"shape": (6, 7)},
    ):
        assert base.replace(**change).hash() != base.hash(), change


def test_int_for_float_param_hashes_the_same() -> None:
    assert DatasetConfig(generator="percolation", params={"p": 1}).params == {"p": 1.0}
    a = DatasetConfig(generator="percolation", params={"p": 1})
    assert a.hash() == DatasetConfig(generator="percolation", params={"p": 1.0}).hash()


def test_dict_and_file_round_trips(tmp_path: Path) -> None:
    config = DatasetConfig(
        generator="dfs", shape=(4, 7), n=12, seed=5, target="corner:br", name="x"
    )
    assert DatasetConfig.from_dict(config.to_dict()) == config
    json.dumps(config.to_dict())  # plain JSON
    (tmp_path / "c.json").write_text(json.dumps(config.to_dict()))
    yaml_text = "name: x\ngenerator: dfs\nshape: 4x7\nn: 12\nseed: 5\ntarget: corner:br\n"
    (tmp_path / "c.yaml").write_text(yaml_text)
    assert DatasetConfig.from_file(tmp_path / "c.json") == config
    assert DatasetConfig.from_file(tmp_path / "c.yaml") == config
    (tmp_path / "bad.yaml").write_text("shape: [6, 6\n")
    with pytest.raises(ValueError, match="cannot parse dataset config"):
        DatasetConfig.from_file(tmp_path / "bad.yaml")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"generator": "nope"}, "unknown generator 'nope'; known: dfs"),
        ({"n": 0}, "n must be an int >= 1"),
        ({"n": 2.5}, "n must be an int >= 1"),
        ({"n": True}, "n must be an int >= 1"),
        ({"seed": -1}, "seed must be an int >= 0"),
        ({"shape": "6by6"}, "shape must look like 6x6"),
        ({"shape": (1, 1)}, "at least 1x2"),
        ({"params": {"bogus": 1}}, r"unknown parameter\(s\) \['bogus'\]; allowed: "),
        ({"params": [1]}, "params must be a mapping"),
        ({"origin": "middle"}, "allowed: random, cell:R,C"),
        ({"min_path_length": 25, "shape": (5, 5)}, "no shortest path is longer than 24 moves"),
        ({"min_path_length": -1}, "min_path_length must be an int >= 0"),
        ({"dedupe": "yes"}, "dedupe must be true or false"),
        ({"name": 3}, "name must be a string"),
    ],
)
def test_bad_configs_say_what_is_allowed(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DatasetConfig.from_dict({"generator": "dfs", **changes})


def test_unknown_keys_list_the_allowed_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown dataset config key\(s\) \['size'\]; allowed: generator, shape"
    ):
        DatasetConfig.from_dict({"size": 6})
    with pytest.raises(ValueError, match="must be a mapping"):
        DatasetConfig.from_dict([1, 2])  # type: ignore[arg-type]


# -- generation --------------------------------------------------------------------------------
def test_golden_dataset(small: MazeDataset) -> None:
    assert endpoints_hash(small) == GOLDEN_ENDPOINTS_HASH, "the placement streams changed"
    assert small.content_hash() == GOLDEN_CONTENT_HASH, "the mazes changed: did the dfs generator?"


def test_same_config_same_dataset(small: MazeDataset) -> None:
    again = MazeDataset.from_config(SMALL.replace(name="again"))
    assert again.content_hash() == small.content_hash()
    other = MazeDataset.from_config(SMALL.replace(seed=124))
    assert other.content_hash() != small.content_hash()


def test_prefix_and_worker_independence(small: MazeDataset) -> None:
    """Dataset n is a prefix of dataset n + k, whatever the batch sizes or workers."""
    fewer = MazeDataset.from_config(SMALL.replace(n=17))
    np.testing.assert_array_equal(fewer.mazes.connections, small.mazes.connections[:17])
    np.testing.assert_array_equal(fewer.targets, small.targets[:17])
    parallel = MazeDataset.from_config(SMALL, n_workers=2)
    assert parallel.content_hash() == small.content_hash()


def test_dataset_api(small: MazeDataset) -> None:
    assert len(small) == 50 and small.mazes.shape == (5, 5)
    task = small[3]
    assert isinstance(task, Task) and task.maze == small.mazes[3]
    assert task.origin == tuple(small.origins[3]) and task.target == tuple(small.targets[3])
    assert small[-1] == small[49] and list(small)[3] == task and small.tasks()[3] == task
    with pytest.raises(TypeError, match="ints"):
        small[1:3]  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="read-only"):
        small.origins[0, 0] = 1
    assert "50 tasks, dfs 5x5" in small.summary()


def test_tasks_are_valid_and_placed(small: MazeDataset) -> None:
    region = parse_placement("region:br:2")
    for i, task in enumerate(small):
        assert task.maze.is_perfect()
        assert region.contains(task.target, (5, 5))
        path = shortest_path(task.maze, task.origin, task.target)
        assert path is not None and len(path) - 1 == small.path_lengths[i]
    assert (small.origins != small.targets).any(axis=1).all()  # the target avoids the origin


def test_min_path_length_and_dead_end_origins() -> None:
    config = DatasetConfig(shape=(6, 6), n=300, seed=2, origin="dead_end", min_path_length=12)
    data = MazeDataset.from_config(config)
    assert data.path_lengths.min() >= 12
    dist = batch_bfs_distances(data.mazes, data.origins)[
        np.arange(300), data.targets[:, 0], data.targets[:, 1]
    ]
    np.testing.assert_array_equal(dist, data.path_lengths)
    for task in data:
        assert task.maze.degrees()[task.origin] == 1


def test_placement_masks_match_placement_mask() -> None:
    data = MazeDataset.from_config(DatasetConfig(shape=(4, 5), n=40, seed=9))
    conn = data.mazes.connections.copy()
    conn[0] = False  # a maze without dead ends: every cell allowed
    for spec in ("dead_end", "random", "region:tl:2", "corner"):
        place = parse_placement(spec)
        masks = np.broadcast_to(placement_masks(place, conn), (40, 20))
        for i in range(40):
            np.testing.assert_array_equal(
                masks[i], place.mask((4, 5), Maze(conn[i])).ravel(), err_msg=spec
            )


def test_unreachable_targets_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = GeneratorSpec(name="split", fn=split_kernel, summary="test", guarantee="two halves")
    monkeypatch.setitem(GENERATORS, "split", spec)
    data = MazeDataset.from_config(DatasetConfig(generator="split", shape=(4, 6), n=100, seed=0))
    assert ((data.origins[:, 1] < 3) == (data.targets[:, 1] < 3)).all()  # same half


def test_no_duplicates() -> None:
    # a 2x2 grid has 4 spanning trees x 12 ordered (origin, target) pairs = 48 distinct tasks
    unique = MazeDataset.from_config(DatasetConfig(shape=(2, 2), n=48, seed=0))
    assert len(set(unique.task_keys())) == 48
    repeated = MazeDataset.from_config(DatasetConfig(shape=(2, 2), n=200, seed=0, dedupe=False))
    assert len(set(repeated.task_keys())) < 200


def test_exclusion_gives_disjoint_sets(tmp_path: Path) -> None:
    train = MazeDataset.from_config(DatasetConfig(shape=(2, 2), n=30, seed=0))
    test = MazeDataset.from_config(DatasetConfig(shape=(2, 2), n=18, seed=1), exclude=[train])
    assert not set(train.task_keys()) & set(test.task_keys())
    assert len(set(train.task_keys()) | set(test.task_keys())) == 48
    assert test.excluded == (train.content_hash(),)
    by_path = MazeDataset.from_config(test.config, exclude=[train.save(tmp_path / "train.npz")])
    assert by_path.content_hash() == test.content_hash()
    with pytest.raises(ValueError, match=r"reject nearly every task.*'excluded'"):
        MazeDataset.from_config(DatasetConfig(shape=(2, 2), n=19, seed=1), exclude=[train])


def test_impossible_filters_fail_clearly() -> None:
    with pytest.raises(
        ValueError, match=r"reject nearly every task.*'duplicate'.*Lower min_path_length or n"
    ):
        MazeDataset.from_config(DatasetConfig(shape=(2, 2), n=100))
    with pytest.raises(ValueError, match=r"reject nearly every task.*'too short'"):
        MazeDataset.from_config(
            DatasetConfig(shape=(2, 2), n=5, origin="cell:0,0", target="cell:0,0")
        )
    with pytest.raises(ValueError, match="origin placement 'outside:tl:2' allows no cell in a 2x2"):
        DatasetConfig(shape=(2, 2), n=5, origin="outside:tl:2")
    with pytest.raises(ValueError, match="outside the 6x6 grid"):
        DatasetConfig(target="cell:6,0")


# -- cache -------------------------------------------------------------------------------------
def test_cache_hit_does_not_regenerate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: MazeDataset
) -> None:
    first = MazeDataset.from_config(SMALL, cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [cache_name(SMALL)]

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("generate_batch called on a cache hit")

    monkeypatch.setattr(dataset_module, "generate_batch", fail)
    second = MazeDataset.from_config(SMALL.replace(name="renamed"), cache_dir=tmp_path)
    assert second.content_hash() == first.content_hash() == small.content_hash()
    assert second.config.name == "renamed"
    with pytest.raises(AssertionError, match="cache hit"):  # another config misses
        MazeDataset.from_config(SMALL.replace(seed=7), cache_dir=tmp_path)
    with pytest.raises(
        AssertionError, match="cache hit"
    ):  # so does the same config with exclusions
        MazeDataset.from_config(SMALL, cache_dir=tmp_path, exclude=[small])


def test_corrupt_cache_is_regenerated(tmp_path: Path, small: MazeDataset) -> None:
    (tmp_path / cache_name(SMALL)).write_bytes(b"not a zip")
    with pytest.warns(UserWarning, match="unreadable cache file"):
        again = MazeDataset.from_config(SMALL, cache_dir=tmp_path)
    assert again.content_hash() == small.content_hash()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MazeDataset.from_config(SMALL, cache_dir=tmp_path)  # rewritten: a clean hit now


# -- files -------------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path: Path, small: MazeDataset) -> None:
    path = small.save(tmp_path / "sub" / "small.npz")
    assert sorted(p.name for p in path.parent.iterdir()) == ["small.npz"]  # no temporary left
    loaded = MazeDataset.load(path)
    assert loaded.config == small.config and loaded.config.hash() == small.config.hash()
    assert loaded.content_hash() == small.content_hash() and loaded.mazes == small.mazes
    np.testing.assert_array_equal(loaded.origins, small.origins)
    np.testing.assert_array_equal(loaded.path_lengths, small.path_lengths)
    assert loaded.tasks() == small.tasks()
    with np.load(path, allow_pickle=False) as z:
        assert json.loads(str(z["meta"]))["format"] == FORMAT_VERSION


def rewrite(src: Path, dst: Path, **changes: object) -> None:
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)  # type: ignore[arg-type]
    np.savez_compressed(dst, **arrays)  # type: ignore[arg-type]


def test_tampered_file_fails_clearly(tmp_path: Path, small: MazeDataset) -> None:
    path = small.save(tmp_path / "ok.npz")
    targets = small.targets.copy()
    targets[0] = (4, 4) if tuple(targets[0]) != (4, 4) else (3, 3)
    rewrite(path, tmp_path / "bad.npz", targets=targets)
    with pytest.raises(ValueError, match="do not match the recorded content hash"):
        MazeDataset.load(tmp_path / "bad.npz")
    conn = small.mazes.connections.copy()
    conn[0, 0, 0, 0] = ~conn[0, 0, 0, 0]
    rewrite(path, tmp_path / "bad2.npz", connections=conn)
    with pytest.raises(ValueError, match="do not match the recorded content hash"):
        MazeDataset.load(tmp_path / "bad2.npz")


def test_wrong_format_and_garbage_fail_clearly(tmp_path: Path, small: MazeDataset) -> None:
    path = small.save(tmp_path / "ok.npz")
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
    meta["format"] = FORMAT_VERSION + 98
    rewrite(path, tmp_path / "future.npz", meta=np.array(json.dumps(meta)))
    with pytest.raises(
        ValueError, match=f"dataset format {FORMAT_VERSION + 98}; this release reads format"
    ):
        MazeDataset.load(tmp_path / "future.npz")
    (tmp_path / "junk.npz").write_bytes(b"\x00" * 100)
    with pytest.raises(ValueError, match="not a readable mazebench dataset"):
        MazeDataset.load(tmp_path / "junk.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match=r"not a mazebench dataset: missing \['meta'"):
        MazeDataset.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        MazeDataset.load(tmp_path / "absent.npz")


def test_saved_files_get_the_umasks_permissions_not_0600(tmp_path: Path) -> None:
    import os
    import stat

    from maze_env.render.export import save_png

    old = os.umask(0o022)
    try:
        data = MazeDataset.from_config(DatasetConfig(shape=(3, 3), n=4, seed=0))
        data.save(tmp_path / "d.npz")
        data.save(tmp_path / "d.npz")  # replacing a file too
        save_png(np.zeros((4, 4, 3), np.uint8), tmp_path / "f.png")
    finally:
        os.umask(old)
    for name in ("d.npz", "f.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    assert MazeDataset.load(tmp_path / "d.npz").content_hash() == data.content_hash()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.npz", "f.png"]  # no temporary left

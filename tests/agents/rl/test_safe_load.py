"""agents.rl.safe_load: a crafted SB3 zip runs no code through any of our loading routes."""

from __future__ import annotations

import base64
import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agents.rl.safe_load import UnsafeCheckpointError, safe_custom_objects

SHIPPED = Path("checkpoints/ppo_vin")


class _Touch:
    """Unpickling this runs ``touch PATH`` (what a crafted checkpoint does)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (f"touch {self.path}",))


def _craft(tmp_path: Path, edit) -> tuple[Path, Path]:  # noqa: ANN001
    """A copy of the shipped ppo_vin folder whose model.zip's ``data`` went through ``edit``."""
    folder, marker = tmp_path / "evil", tmp_path / "PWNED"
    shutil.copytree(SHIPPED, folder, ignore=shutil.ignore_patterns("tb"))
    with zipfile.ZipFile(SHIPPED / "model.zip") as z:
        data = json.loads(z.read("data"))
        edit(data, base64.b64encode(pickle.dumps(_Touch(marker))).decode())
        with zipfile.ZipFile(folder / "model.zip", "w") as w:
            for info in z.infolist():
                body = json.dumps(data) if info.filename == "data" else z.read(info.filename)
                w.writestr(info.filename, body)
    return folder, marker


def _poison_space(data: dict, payload: str) -> None:
    data["observation_space"][":serialized:"] = payload  # the exploit


def test_the_crafted_zip_is_real_plain_sb3_runs_it(tmp_path: Path) -> None:
    folder, marker = _craft(tmp_path, _poison_space)
    code = f"from stable_baselines3 import PPO; PPO.load({str(folder / 'model.zip')!r})"
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert marker.exists(), "the crafted zip should run code under a plain PPO.load"


def test_agent_prior_and_cli_load_it_without_running_anything(tmp_path: Path) -> None:
    from agents.registry import make_agent
    from train.cli import main

    folder, marker = _craft(tmp_path, _poison_space)
    agent = make_agent(f"ppo:ckpt={folder}")  # the payload is never unpickled
    from maze_env import Task, generate

    task = Task(generate("dfs", (4, 4), seed=0), (0, 0), (3, 3))
    assert agent.solve(task).cells[0] == (0, 0)
    make_agent(f"mcts:prior={folder},simulations=2").solve(task)
    out = tmp_path / "run"
    argv = ["compare", "--agents", f"ppo:ckpt={folder}", "--suites", "in_distribution",
            "--n", "2", "--workers", "1", "--no-progress", "--no-report", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert not marker.exists()


def test_train_rl_resume_loads_it_without_running_anything(tmp_path: Path) -> None:
    from train.rl import RLConfig, train

    run = tmp_path / "run"
    train(RLConfig.preset("tiny").replace(total_steps=512, n_envs=8, n_steps=16, batch_size=64,
                                          save_every=256, eval_n=5), run)  # fmt: skip
    marker = tmp_path / "PWNED"
    with zipfile.ZipFile(run / "last_model.zip") as z:
        data = json.loads(z.read("data"))
        data["action_space"][":serialized:"] = base64.b64encode(pickle.dumps(_Touch(marker))).decode()
        entries = {i.filename: z.read(i.filename) for i in z.infolist()}
    entries["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(run / "last_model.zip", "w") as w:
        for name, body in entries.items():
            w.writestr(name, body)
    cfg = RLConfig.from_yaml(run / "config.yaml").replace(total_steps=768)
    meta = train(cfg, run, resume=True)
    assert meta["steps"] >= 768 and not marker.exists()


def _extra_key(data: dict, payload: str) -> None:
    data["my_hook"] = {":type:": "<class 'object'>", ":serialized:": payload}


def _evil_extractor(data: dict, payload: str) -> None:
    data["policy_kwargs"]["features_extractor_class"] = "<class 'os.system'>"


def _evil_space(data: dict, payload: str) -> None:
    data["observation_space"][":type:"] = "<class 'builtins.eval'>"


def _evil_policy(data: dict, payload: str) -> None:
    data["policy_class"]["__module__"] = "subprocess"
    data["policy_class"]["__init__"] = "<function Popen.__init__ at 0x0>"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_extra_key, "the entry 'my_hook' is a pickled object that mazebench does not load"),
        (_evil_extractor, "policy_kwargs.features_extractor_class is 'os.system', outside"),
        (_evil_space, "observation_space is a \"<class 'builtins.eval'>\""),
        (_evil_policy, "policy_class is 'subprocess.Popen', outside"),
    ],
)
def test_entries_outside_the_allow_lists_are_refused_by_name(
    tmp_path: Path, edit, message: str  # noqa: ANN001
) -> None:
    from agents.registry import make_agent
    from train.cli import main

    folder, marker = _craft(tmp_path, edit)
    with pytest.raises(UnsafeCheckpointError, match=message.replace("(", r"\(").replace(")", r"\)")):
        safe_custom_objects(folder / "model.zip")
    with pytest.raises(ValueError, match="refusing to unpickle|does not load|rebuilds only"):
        make_agent(f"ppo:ckpt={folder}")
    assert not marker.exists()
    argv = ["compare", "--agents", f"ppo:ckpt={folder}", "--suites", "in_distribution",
            "--n", "2", "--workers", "1", "--no-progress", "--out", str(tmp_path / "r")]  # fmt: skip
    assert main(argv) == 2


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(UnsafeCheckpointError, match="not an SB3 model zip"):
        safe_custom_objects(bad)

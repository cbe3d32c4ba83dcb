"""Experiments: training runs, agents, suites and seeds in one file, run by ``mazebench run``.

An experiment names the models it needs (``models``), the agents that use them (spec strings in
which ``@NAME`` stands for the folder of model ``NAME``), the suites, ``n`` and the seed::

    name: default
    models:
      - {name: transformer, kind: transformer, preset: tiny, checkpoint: checkpoints/transformer_tiny}
      - {name: ppo, kind: rl, preset: vin, checkpoint: checkpoints/ppo_vin}
    agents: [bfs, "transformer:ckpt=@transformer,decode=greedy", "ppo:ckpt=@ppo"]
    suites: [default]
    n: 200
    quick: {n: 20, suites: [quick], agents: [bfs, "transformer:ckpt=@transformer"]}

A model resolves to its shipped ``checkpoint`` folder when that holds a model; otherwise it is
trained (``mazebench train-KIND --preset ... --set ...``) into ``cache_dir/NAME-HASH``, where the
hash covers the kind, preset, overrides and seed: rerunning never retrains the same config, and a
cut training run resumes. A model with several ``seeds`` expands into ``NAME.s0``, ``NAME.s1``...
(and ``@NAME`` in an agent spec into one agent per seed). The resolved experiment (every model's
folder) is saved as ``experiment.json`` beside the comparison's results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRAIN_COMMANDS: dict[str, str] = {
    "transformer": "train-transformer",
    "rl": "train-rl",
    "deepthinking": "train-dt",
}
"""Model kinds and the ``mazebench`` subcommand that trains each."""
NO_PROGRESS: dict[str, list[str]] = {
    "transformer": ["--set", "progress=false"],
    "rl": ["--no-progress"],
    "deepthinking": ["--no-progress"],
}
"""How each training command is told not to draw a progress bar."""
WEIGHT_FILES = ("model.safetensors", "model.zip", "weights.safetensors")
"""A folder holding one of these (and ``meta.json`` or a config) counts as a trained model."""
DEFAULT_EXPERIMENT = Path(__file__).with_name("experiments") / "default.yaml"
_REF = re.compile(r"@([A-Za-z0-9_.\-]+)")


@dataclass(frozen=True)
class ModelSpec:
    """One trained model an experiment needs.

    Attributes:
        name: how agent specs refer to it (``@name``).
        kind: ``transformer``, ``rl`` or ``deepthinking`` (the training command).
        preset: the training preset (``mazebench train-KIND --preset``).
        set: field overrides over the preset (``--set key=value``).
        seeds: training seeds; more than one expands the model (and its agents) per seed.
        checkpoint: a shipped folder used as is when it holds a model (only for the first seed).
    """

    name: str
    kind: str
    preset: str = "tiny"
    set: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    checkpoint: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRAIN_COMMANDS:
            raise ValueError(
                f"model {self.name!r}: unknown kind {self.kind!r}; known: {', '.join(TRAIN_COMMANDS)}"
            )
        if not self.seeds:
            raise ValueError(f"model {self.name!r}: seeds must not be empty")

    def config_hash(self, seed: int) -> str:
        """12 hex digits of the training config (kind, preset, overrides, seed)."""
        text = json.dumps([self.kind, self.preset, dict(self.set), int(seed)], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class ExperimentConfig:
    """What ``mazebench run`` does.

    Attributes:
        name: the experiment's name (the default run folder is ``runs/NAME``).
        models: trained models the agents use (:class:`ModelSpec`).
        agents: agent spec strings; ``@NAME`` is replaced by model ``NAME``'s folder.
        suites: suite names or groups (``default``, ``quick``, a family, a suite).
        n: tasks per suite (``None``: each suite's own default).
        seed: the run seed (tasks and agents' randomness).
        quick: overrides for ``--quick`` (any of ``n``, ``suites``, ``agents``).
        suites_file: an extra suites file (YAML/JSON, or a user dataset) passed to the runner.
        suite_n: tasks for particular suites, over ``n`` (e.g. fewer on the 64x64 suite, where
            the slowest agents take seconds a task); not applied with ``--quick``.
    """

    name: str = "experiment"
    models: tuple[ModelSpec, ...] = ()
    agents: tuple[str, ...] = ("bfs", "random_fork")
    suites: tuple[str, ...] = ("default",)
    n: int | None = None
    seed: int = 0
    quick: Mapping[str, Any] = field(default_factory=dict)
    suites_file: str | None = None
    suite_n: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "experiment") -> ExperimentConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(sorted(known))}")
        d = dict(data)
        models = []
        for m in d.pop("models", None) or ():
            if not isinstance(m, Mapping) or "name" not in m or "kind" not in m:
                raise ValueError(f"{where}: each model needs at least 'name' and 'kind', got {m!r}")
            mk = {f.name for f in dataclasses.fields(ModelSpec)}
            bad = sorted(set(m) - mk)
            if bad:
                raise ValueError(f"{where}: model {m['name']!r}: unknown key(s) {bad}; allowed: {sorted(mk)}")
            m = dict(m)
            m["seeds"] = tuple(int(s) for s in m.get("seeds", (0,)))
            m["set"] = dict(m.get("set") or {})
            models.append(ModelSpec(**m))
        names = [m.name for m in models]
        if len(set(names)) != len(names):
            raise ValueError(f"{where}: model names must be unique, got {names}")
        for key in ("agents", "suites"):
            if key in d:
                value = d[key]
                if isinstance(value, str):
                    value = [value]
                d[key] = tuple(str(v) for v in value)
        quick = dict(d.pop("quick", None) or {})
        bad = sorted(set(quick) - {"n", "suites", "agents"})
        if bad:
            raise ValueError(f"{where}: quick: unknown key(s) {bad}; allowed: n, suites, agents")
        cfg = cls(models=tuple(models), quick=quick, **d)
        cfg.check()
        return cfg

    @classmethod
    def load(cls, path: str | Path) -> ExperimentConfig:
        """Read an experiment from YAML or JSON."""
        import yaml

        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"experiment file {path} does not exist")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, Mapping):
            raise ValueError(f"{path}: expected a mapping of ExperimentConfig fields")
        return cls.from_dict(data, str(path))

    def check(self) -> None:
        """Every ``@NAME`` in an agent spec names a model; ``n`` is positive."""
        names = {m.name for m in self.models}
        for spec in (*self.agents, *self.quick.get("agents", ())):
            for ref in _REF.findall(spec):
                if ref not in names:
                    raise ValueError(
                        f"agent {spec!r} refers to model @{ref}, which the experiment does not "
                        f"define; models: {', '.join(sorted(names)) or '(none)'}"
                    )
        for n in (self.n, self.quick.get("n"), *self.suite_n.values()):
            if n is not None and int(n) < 1:
                raise ValueError(f"n must be at least 1, got {n}")

    def for_quick(self) -> ExperimentConfig:
        """The experiment with its ``quick`` overrides applied."""
        q = self.quick
        return dataclasses.replace(
            self,
            n=q.get("n", self.n),
            suites=tuple(q.get("suites", self.suites)),
            agents=tuple(q.get("agents", self.agents)),
            quick={},
            suite_n={},
        )

    def used_models(self) -> list[ModelSpec]:
        """The models some agent refers to (others need not be trained)."""
        refs = {r for spec in self.agents for r in _REF.findall(spec)}
        return [m for m in self.models if m.name in refs]


def has_model(folder: Path) -> bool:
    """Whether ``folder`` holds trained weights."""
    return folder.is_dir() and any((folder / f).is_file() for f in WEIGHT_FILES)


def model_folders(
    cfg: ExperimentConfig, cache_dir: str | Path, *, train: bool = True, progress: bool = True
) -> dict[str, list[Path]]:
    """``{model name: [folder per seed]}``, training what is missing (cached by config hash)."""
    cache = Path(cache_dir)
    out: dict[str, list[Path]] = {}
    for m in cfg.used_models():
        folders = []
        for i, seed in enumerate(m.seeds):
            shipped = Path(m.checkpoint) if (m.checkpoint and i == 0) else None
            if shipped is not None and has_model(shipped):
                folders.append(shipped)
                continue
            folder = cache / f"{m.name}-{m.config_hash(seed)}"
            if not (folder / ".trained").is_file():
                if not train:
                    raise FileNotFoundError(
                        f"model {m.name!r} (seed {seed}) is not trained: no shipped checkpoint "
                        f"{m.checkpoint or '(none given)'} and nothing in {folder}"
                    )
                train_model(m, seed, folder, progress=progress)
            folders.append(folder)
        out[m.name] = folders
    return out


def train_command(m: ModelSpec, seed: int, folder: Path, progress: bool = True) -> list[str]:
    """The ``mazebench train-KIND`` command line that trains ``m`` with ``seed`` into ``folder``."""
    cmd = [sys.executable, "-m", "train.cli", TRAIN_COMMANDS[m.kind], "--preset", m.preset]
    for key, value in {**dict(m.set), "seed": seed}.items():
        cmd += ["--set", f"{key}={json.dumps(value)}"]
    cmd += ["--out", str(folder)]
    if not progress:
        cmd += NO_PROGRESS[m.kind]
    if folder.exists() and any(folder.iterdir()):
        cmd.append("--resume")
    return cmd


def train_model(m: ModelSpec, seed: int, folder: Path, *, progress: bool = True) -> None:
    """Train (or resume) one model; marks the folder ``.trained`` when the command succeeds."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    cmd = train_command(m, seed, folder, progress=progress)
    print(
        f"training {m.name} (seed {seed}): no shipped checkpoint; {' '.join(cmd[3:])}",
        file=sys.stderr,
        flush=True,
    )
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    done = subprocess.run(cmd, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"training {m.name} (seed {seed}) failed with exit code {done.returncode}; "
            f"rerun to resume: {' '.join(cmd)}"
        )
    (folder / ".trained").write_text(json.dumps({"command": cmd[1:]}) + "\n", encoding="utf-8")


def resolve_agents(agents: Sequence[str], folders: Mapping[str, Sequence[Path]]) -> list[str]:
    """Agent specs with ``@NAME`` replaced by model folders (one spec per seed of the model)."""
    out: list[str] = []
    for spec in agents:
        refs = _REF.findall(spec)
        if not refs:
            out.append(spec)
            continue
        n_seeds = max(len(folders[r]) for r in refs)
        for i in range(n_seeds):
            text = spec
            for r in refs:
                paths = folders[r]
                text = text.replace(f"@{r}", str(paths[min(i, len(paths) - 1)]))
            if text not in out:
                out.append(text)
    return out

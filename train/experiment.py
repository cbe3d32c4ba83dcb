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
trained in this process through the trainer protocol (:mod:`train.trainers`) into
``cache_dir/NAME-KIND-HASH``, where the hash covers the resolved config's fields (the seed
included, the preset's name not): rerunning never retrains the same config, and a cut training
run resumes. A model with several ``seeds`` expands into ``NAME.s0``, ``NAME.s1``...
(and ``@NAME`` in an agent spec into one agent per seed). The resolved experiment (every model's
folder) is saved as ``experiment.json`` beside the comparison's results.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.checkpoint import has_model
from maze_env.files import atomic_write_text
from train.trainers import TRAINERS, trainer

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
        checkpoint: a shipped folder used as is when it holds a model (for the first seed), or a
            list of folders, one per seed (the seeds' own shipped runs).
    """

    name: str
    kind: str
    preset: str = "tiny"
    set: Mapping[str, Any] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    checkpoint: str | tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.checkpoint, tuple) and len(self.checkpoint) != len(self.seeds):
            raise ValueError(
                f"model {self.name!r}: {len(self.checkpoint)} checkpoints for {len(self.seeds)} "
                "seeds; give one folder per seed, or one folder for the first seed"
            )
        if self.kind not in TRAINERS:
            raise ValueError(
                f"model {self.name!r}: unknown kind {self.kind!r}; known: {', '.join(TRAINERS)}"
            )
        if not self.seeds:
            raise ValueError(f"model {self.name!r}: seeds must not be empty")

    def shipped(self, i: int) -> Path | None:
        """The shipped folder named for the ``i``-th seed, if any."""
        if isinstance(self.checkpoint, tuple):
            return Path(self.checkpoint[i])
        return Path(self.checkpoint) if self.checkpoint and i == 0 else None

    def config(self, seed: int) -> Any:
        """The training config of ``seed``: the preset with the overrides (dotted keys for
        nested fields) and the seed, checked by the config class."""
        sets = [f"{k}={json.dumps(v)}" for k, v in {**dict(self.set), "seed": int(seed)}.items()]
        return trainer(self.kind).config.from_sources(preset=self.preset, sets=sets)

    def config_hash(self, seed: int) -> str:
        """12 hex digits of the resolved config's fields (not the preset's name): two specs that
        train the same weights share a cache folder, two that differ never do."""
        return f"{self.kind}-{self.config(seed).config_hash()}"


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
            if isinstance(m.get("checkpoint"), list):
                m["checkpoint"] = tuple(str(c) for c in m["checkpoint"])
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


BACKENDS = ("local", "ray")
"""Where an experiment's training runs execute: one after another here, or as Ray tasks."""


def model_folders(
    cfg: ExperimentConfig,
    cache_dir: str | Path,
    *,
    train: bool = True,
    progress: bool = True,
    backend: str = "local",
    address: str | None = None,
    num_cpus: int | None = None,
) -> dict[str, list[Path]]:
    """``{model name: [folder per seed]}``, training what is missing (cached by config hash).

    With ``backend="local"`` the missing models train one after another in this process's
    machine; with ``"ray"`` each is a Ray task (on a local instance of ``num_cpus`` CPUs, or the
    cluster at ``address``) reserving as many CPUs as its run's ``threads``, so independent runs
    (seeds, sweeps) train side by side. On a cluster, ``cache_dir`` must be a folder every node
    sees (a shared file system): each task writes its checkpoint there, where the comparison
    finds it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    cache = Path(cache_dir)
    out: dict[str, list[Path]] = {}
    todo: list[tuple[ModelSpec, int, Path]] = []
    for m in cfg.used_models():
        folders = []
        for i, seed in enumerate(m.seeds):
            shipped = m.shipped(i)
            if shipped is not None and has_model(shipped):
                folders.append(shipped)
                continue
            folder = cache / f"{m.name}-{m.config_hash(seed)}"
            if not (folder / ".trained").is_file():
                if not train:
                    raise FileNotFoundError(
                        f"model {m.name!r} (seed {seed}) is not trained: no shipped checkpoint "
                        f"{shipped or '(none given)'} and nothing in {folder}"
                    )
                todo.append((m, seed, folder))
            folders.append(folder)
        out[m.name] = folders
    if backend == "local":
        for m, seed, folder in todo:
            train_model(m, seed, folder, progress=progress)
    elif todo:
        train_models_ray(todo, address=address, num_cpus=num_cpus)
    return out


def training_threads(m: ModelSpec) -> int:
    """The ``threads`` a model's training run uses (from its resolved config): the CPUs its Ray
    task reserves."""
    return int(m.config(m.seeds[0]).threads)


def _train_task(job: tuple[ModelSpec, int, str]) -> list[str]:
    """One training run inside a Ray worker (module level: Ray ships it by reference)."""
    m, seed, folder = job
    train_model(m, seed, Path(folder), progress=False)
    return [folder]


def train_models_ray(
    todo: Sequence[tuple[ModelSpec, int, Path]],
    *,
    address: str | None = None,
    num_cpus: int | None = None,
) -> None:
    """Train each ``(model, seed, folder)`` as a Ray task; runs needing the same CPUs share a wave.

    A failed run raises (naming the command to resume it) after the runs in flight finish or are
    cancelled; finished runs stay marked ``.trained``, so rerunning the experiment trains only what
    is left.
    """
    from agents.harness.ray_backend import iter_chunks_ray

    by_threads: dict[int, list[tuple[ModelSpec, int, str]]] = {}
    for m, seed, folder in todo:
        job = (m, seed, str(Path(folder).resolve()))  # Ray workers need not share our cwd
        by_threads.setdefault(max(1, training_threads(m)), []).append(job)
    for threads, jobs in sorted(by_threads.items()):
        print(
            f"training {len(jobs)} model(s) as Ray tasks, {threads} CPU(s) each",
            file=sys.stderr,
            flush=True,
        )
        for _, folders in iter_chunks_ray(
            jobs, _train_task, address, num_cpus=num_cpus, cpus_per_chunk=threads
        ):
            print(f"trained {folders[0]}", file=sys.stderr, flush=True)


def train_model(m: ModelSpec, seed: int, folder: Path, *, progress: bool = True) -> None:
    """Train (or resume) one model in this process through the trainer protocol
    (:func:`train.trainers.trainer`); marks the folder ``.trained`` when it finishes."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    resume = folder.exists() and any(folder.iterdir())
    sets = " ".join(f"--set {k}={json.dumps(v)}" for k, v in dict(m.set).items())
    command = f"mazebench train-* --preset {m.preset} {sets} --set seed={seed} --out {folder}"
    print(
        f"training {m.name} (seed {seed}): no shipped checkpoint; {m.kind} preset {m.preset} "
        f"into {folder}" + (" (resuming)" if resume else ""),
        file=sys.stderr,
        flush=True,
    )
    try:
        trainer(m.kind).train(
            m.config(seed), folder, resume=resume, progress=progress, command=command
        )
    except (ValueError, FileNotFoundError) as err:
        raise RuntimeError(
            f"training {m.name} (seed {seed}) into {folder} failed: {err}; rerun to resume"
        ) from err
    atomic_write_text(folder / ".trained", json.dumps({"command": command}) + "\n")


def seed_groups(agents: Sequence[str], folders: Mapping[str, Sequence[Path]]) -> dict[str, list[str]]:
    """``{agent template: [resolved spec per seed]}`` for the agents whose models have several
    seeds (what the report's "across training seeds" table groups); the template keeps ``@NAME``."""
    out: dict[str, list[str]] = {}
    for spec in agents:
        refs = _REF.findall(spec)
        if refs and max(len(folders[r]) for r in refs) > 1:
            out[spec] = resolve_agents([spec], folders)
    return out


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

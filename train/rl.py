"""RL training with stable-baselines3 / sb3-contrib on the native vector env (``mazebench train-rl``).

:class:`RLConfig` describes a run (algorithm, extractor, training distribution, reward, budget,
evaluation); :data:`PRESETS` are named configs with their measured results in
``docs/RESULTS.md``. :func:`train` builds the SB3 model on
:class:`~maze_env.sb3.MazeVecEnvAdapter` (SB3's ``VecMonitor`` on top) and runs it with SB3
callbacks: periodic evaluation on a fixed held-out set (TensorBoard ``eval/success``,
``eval/exact``; the best model kept), atomic checkpoints for ``--resume``, and SB3's progress bar.

A run folder holds ``config.yaml``, ``meta.json`` (the checkpoint contract: kind, training set,
command, CPU minutes, env arguments, reward), ``curve.jsonl`` (one evaluation per line),
``tb/`` (TensorBoard), ``last_model.zip`` (+ ``state.json``), ``best_model.zip`` and
``model.zip`` (the best, what agents load).
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from agents.checkpoint import make_meta, selection, write_meta
from maze_env.files import atomic_path, atomic_write_text
from train.config_base import TrainerConfig

__all__ = ["ALGOS", "PRESETS", "RLConfig", "build_env", "eval_tasks", "train"]

ALGOS = ("ppo", "dqn", "rppo")


@dataclass
class RLConfig(TrainerConfig):
    """One RL training run. Load with :meth:`from_yaml` / :meth:`from_dict` (checked on creation)."""

    KIND: ClassVar[str] = "rl"
    RESUME_FREE: ClassVar[frozenset[str]] = frozenset(
        ("total_steps", "progress", "eval_every", "save_every", "threads")
    )

    algo: str = "ppo"
    """Algorithm: ``ppo`` (SB3 PPO), ``dqn`` (SB3 DQN) or ``rppo`` (sb3-contrib RecurrentPPO)."""
    extractor: str = "vin"
    """Feature extractor: ``mlp`` (SB3's flatten), ``cnn``, ``fcn``, ``deepthink``, ``vin``, ``transformer``."""
    extractor_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the extractor (e.g. ``{iterations: 16, width: 24}``)."""
    net_arch: Any = None
    """SB3 ``net_arch`` of the heads on the extractor; None: the extractor's default."""
    training_set: str | None = "default"
    """Name in ``TRAINING_SETS`` whose tasks are the training pool (mazes, origins and targets);
    None: a fresh maze every episode from ``generator`` / ``shape`` / ``target``."""
    generator: str = "dfs"
    """Maze generator when ``training_set`` is None."""
    shape: Any = (6, 6)
    """Maze shape when ``training_set`` is None: ``[rows, cols]`` or a list of shapes (mixed;
    observations padded to the largest)."""
    target: str | None = None
    """Target placement when ``training_set`` is None (e.g. ``region:br:2``); None: random."""
    visited: bool = False
    """Add the env's ``visited`` channel (cells walked this episode) to observations."""
    shaping: float = 0.0
    """Potential-based distance shaping coefficient (0: sparse reward, the default)."""
    curriculum: list[dict[str, Any]] = field(default_factory=list)
    """Stages ``[{steps: N, <env overrides: shape, training_set, target, generator>}]`` played in
    order for ``steps`` env steps each before the main distribution; observation spaces of all
    stages must match (use one ``shape`` list / padding, or a size-independent extractor with one
    shape per stage is refused by SB3). A VIN stage may also set ``reward_mode`` (``learned`` or
    ``peak``): the extractor runs in that mode for the stage; the main stage, every held-out
    evaluation and the saved model use ``extractor_kwargs``' mode (the one it loads with)."""
    total_steps: int = 1_000_000
    """Env steps to train for (all stages together)."""
    n_envs: int = 32
    """Parallel envs in the vector env."""
    n_steps: int = 32
    """PPO / RecurrentPPO: steps per env per rollout."""
    batch_size: int = 256
    """Minibatch size (PPO) / batch size (DQN)."""
    n_epochs: int = 4
    """PPO: passes over each rollout."""
    learning_rate: float = 1e-3
    """Adam learning rate."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """PPO: GAE lambda."""
    clip_range: float = 0.2
    """PPO: clip range."""
    ent_coef: float = 0.01
    """PPO: entropy bonus."""
    vf_coef: float = 0.5
    """PPO: value-loss weight."""
    lstm_hidden: int = 64
    """RecurrentPPO: LSTM width."""
    buffer_size: int = 200_000
    """DQN: replay buffer size."""
    learning_starts: int = 10_000
    """DQN: steps before learning starts."""
    exploration_fraction: float = 0.2
    """DQN: share of training over which epsilon decays."""
    exploration_final_eps: float = 0.02
    """DQN: final epsilon."""
    target_update_interval: int = 2_000
    """DQN: steps between target-network updates."""
    train_freq: int = 4
    """DQN: env steps (per env) between gradient steps."""
    eval_every: int = 100_000
    """Env steps between evaluations (0: only at the end)."""
    eval_n: int = 500
    """Held-out tasks per evaluation (same distribution as training, disjoint from the pool)."""
    eval_seed: int = 90_001
    """Seed of the held-out evaluation set."""
    eval_sizes: list[int] = field(default_factory=list)
    """Extra square sizes to evaluate on at the end (size-independent extractors; at most 200
    tasks each), e.g. ``[8, 12]``."""
    save_every: int = 100_000
    """Env steps between checkpoints of ``last_model.zip``."""
    seed: int = 0
    """Seed of the env, the networks and the algorithm."""
    threads: int = 1
    """``torch.set_num_threads``."""
    progress: bool = True
    """Show SB3's progress bar (with time left)."""

    # -- checks -------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        """Raise ``ValueError`` naming the field for any impossible value."""
        from agents.rl.extractors import EXTRACTORS, extractor_kwargs_ok
        from agents.training_sets import TRAINING_SETS

        if self.algo not in ALGOS:
            raise ValueError(f"algo: unknown algorithm {self.algo!r}; known: {', '.join(ALGOS)}")
        if self.extractor != "mlp" and self.extractor not in EXTRACTORS:
            raise ValueError(
                f"extractor: unknown extractor {self.extractor!r}; known: {', '.join(['mlp', *EXTRACTORS])}"
            )
        if self.extractor != "mlp":
            try:
                extractor_kwargs_ok(self.extractor, self.extractor_kwargs)
            except ValueError as err:
                raise ValueError(f"extractor_kwargs: {err}") from None
        if self.training_set is not None and self.training_set not in TRAINING_SETS:
            raise ValueError(
                f"training_set: unknown training set {self.training_set!r}; known: "
                f"{', '.join(sorted(TRAINING_SETS))} (or null for fresh mazes)"
            )
        for name in ("total_steps", "n_envs", "n_steps", "batch_size", "n_epochs", "eval_n",
                     "lstm_hidden", "buffer_size", "target_update_interval", "train_freq", "threads"):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}: must be a positive int, got {v!r}")
        for name in ("eval_every", "save_every", "learning_starts", "seed", "eval_seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name}: must be an int >= 0, got {v!r}")
        for name, lo, hi in (("learning_rate", 0, 1), ("gamma", 0, 1), ("gae_lambda", 0, 1),
                             ("clip_range", 0, 1), ("exploration_fraction", 0, 1),
                             ("exploration_final_eps", 0, 1)):  # fmt: skip
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not lo < v <= hi:
                raise ValueError(f"{name}: must be in ({lo}, {hi}], got {v!r}")
        for name in ("ent_coef", "vf_coef", "shaping"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"{name}: must be a number >= 0, got {v!r}")
        if self.algo in ("ppo", "rppo") and self.n_steps * self.n_envs < self.batch_size:
            raise ValueError(
                f"batch_size: n_steps x n_envs = {self.n_steps} x {self.n_envs} = "
                f"{self.n_steps * self.n_envs} is smaller than batch_size={self.batch_size}"
            )
        if self.extractor == "transformer":
            raise ValueError(
                "extractor: 'transformer' reads the tokens observation; train-rl trains on the grid "
                "(use agents.rl.extractors.MazeTokenTransformer with MazeEnv(obs_mode='tokens'))"
            )
        for i, stage in enumerate(self.curriculum):
            if (
                not isinstance(stage, dict)
                or not isinstance(stage.get("steps"), int)
                or stage["steps"] < 1
            ):
                raise ValueError(f"curriculum[{i}]: needs 'steps' (a positive int), got {stage!r}")
            bad = sorted(set(stage) - {"steps", "shape", "training_set", "target", "generator",
                                       "reward_mode"})  # fmt: skip
            if bad:
                raise ValueError(
                    f"curriculum[{i}]: unknown key(s) {bad}; allowed: steps, shape, training_set, "
                    "target, generator, reward_mode"
                )
            if "reward_mode" in stage and (
                self.extractor != "vin" or stage["reward_mode"] not in ("learned", "peak")
            ):
                raise ValueError(
                    f"curriculum[{i}]: reward_mode is a VIN stage's 'learned' or 'peak', got "
                    f"{stage['reward_mode']!r} with extractor {self.extractor!r}"
                )
        if sum(s["steps"] for s in self.curriculum) >= self.total_steps:
            raise ValueError(
                "curriculum: its stages use up total_steps; leave steps for the main stage"
            )
        for s in self.eval_sizes:
            if isinstance(s, bool) or not isinstance(s, int) or s < 2:
                raise ValueError(f"eval_sizes: sizes must be ints >= 2, got {s!r}")


PRESETS: dict[str, dict[str, Any]] = {
    "vin": {"algo": "ppo", "extractor": "vin", "total_steps": 150_000, "n_steps": 16,
            "batch_size": 128, "learning_rate": 3e-3, "eval_every": 20_000, "eval_sizes": [8, 12, 16]},
    "vin_peak": {"algo": "ppo", "extractor": "vin", "extractor_kwargs": {"reward_mode": "peak"},
                 "total_steps": 150_000, "n_steps": 16, "batch_size": 128, "learning_rate": 3e-3,
                 "eval_every": 20_000, "eval_sizes": [8, 12, 16]},
    # peak from training, after a first stage with the learned floor: under peak, only the
    # highest-reward cell gets a gradient, so a seed whose initial peak is not the target never
    # moves it (2 of 5 seeds of vin_peak learned); the learned stage puts the peak on the target
    "vin_peak_warm": {"algo": "ppo", "extractor": "vin", "extractor_kwargs": {"reward_mode": "peak"},
                      "curriculum": [{"steps": 40_000, "reward_mode": "learned"}],
                      "total_steps": 150_000, "n_steps": 16, "batch_size": 128,
                      "learning_rate": 3e-3, "eval_every": 20_000, "eval_sizes": [8, 12, 16]},
    "vin_mix8": {"algo": "ppo", "extractor": "vin", "training_set": None,
                 "shape": [[6, 6], [8, 8]], "total_steps": 100_000, "n_steps": 16,
                 "batch_size": 128, "learning_rate": 3e-3, "eval_every": 25_000,
                 "eval_sizes": [6, 12, 16]},
    "deepthink": {"algo": "ppo", "extractor": "deepthink",
                  "extractor_kwargs": {"width": 24, "iterations": 12}, "n_steps": 16,
                  "batch_size": 128, "total_steps": 300_000, "eval_every": 25_000,
                  "eval_n": 300, "eval_sizes": [8, 12]},
    "fcn": {"algo": "ppo", "extractor": "fcn", "n_steps": 16, "batch_size": 128,
            "total_steps": 300_000, "eval_every": 25_000, "eval_sizes": [8, 12]},
    "cnn": {"algo": "ppo", "extractor": "cnn", "total_steps": 400_000, "eval_every": 50_000},
    "mlp": {"algo": "ppo", "extractor": "mlp", "total_steps": 400_000, "eval_every": 50_000},
    "corner": {"algo": "ppo", "extractor": "cnn", "training_set": "corner_targets",
               "total_steps": 300_000, "eval_every": 50_000},
    "corner_vin": {"algo": "ppo", "extractor": "vin", "training_set": "corner_targets",
                   "n_steps": 16, "batch_size": 128, "learning_rate": 3e-3,
                   "total_steps": 100_000, "eval_every": 20_000},
    "rppo": {"algo": "rppo", "extractor": "cnn", "total_steps": 300_000, "eval_every": 50_000},
    "dqn": {"algo": "dqn", "extractor": "vin", "total_steps": 200_000, "learning_rate": 1e-3,
            "batch_size": 128, "eval_every": 50_000},
    "tiny": {"algo": "ppo", "extractor": "vin", "training_set": None, "shape": [3, 3],
             "total_steps": 8_192, "n_envs": 16, "n_steps": 16, "batch_size": 64,
             "learning_rate": 3e-3, "eval_every": 0, "eval_n": 50, "progress": False},
}  # fmt: skip
"""Named configs (overrides of :class:`RLConfig`'s defaults). Results: docs/RESULTS.md."""


RLConfig.PRESETS = PRESETS


# ------------------------------------------------------------------------------------------------
# environments and held-out tasks
# ------------------------------------------------------------------------------------------------
def _dataset(name: str) -> Any:
    from agents.training_sets import TRAINING_SETS
    from maze_env.dataset import MazeDataset

    return MazeDataset.from_config(TRAINING_SETS[name])


def _stage_shapes(cfg: RLConfig, stage: dict[str, Any]) -> list[tuple[int, int]]:
    training_set = stage.get("training_set", cfg.training_set)
    if training_set is not None:
        from agents.training_sets import TRAINING_SETS

        return [tuple(TRAINING_SETS[training_set].shape)]
    shape = _shape_arg(stage.get("shape", cfg.shape))
    return [shape] if isinstance(shape, tuple) else list(shape)


def grid_pad(cfg: RLConfig) -> tuple[int, int] | None:
    """The ``pad_to`` every stage's env uses when the curriculum or a shape list mixes sizes
    (one observation space for the whole run), else None."""
    shapes = {s for st in [*cfg.curriculum, {}] for s in _stage_shapes(cfg, st)}
    if len(shapes) == 1:
        return None
    return (max(s[0] for s in shapes), max(s[1] for s in shapes))


def env_kwargs(cfg: RLConfig, stage: dict[str, Any] | None = None) -> dict[str, Any]:
    """MazeEnv arguments of the training distribution (a curriculum stage's overrides applied)."""
    stage = dict(stage or {})
    stage.pop("steps", None)
    training_set = stage.get("training_set", cfg.training_set)
    kw: dict[str, Any] = {"visited": cfg.visited}
    pad = grid_pad(cfg)
    if pad is not None:
        kw["pad_to"] = pad
    if training_set is not None:
        kw["mazes"] = _dataset(training_set)
    else:
        shape = stage.get("shape", cfg.shape)
        kw["shape"] = _shape_arg(shape)
        kw["generator"] = stage.get("generator", cfg.generator)
        target = stage.get("target", cfg.target)
        if target is not None:
            kw["target"] = target
    return kw


def _shape_arg(shape: Any) -> Any:
    if isinstance(shape, int):
        return (shape, shape)
    shape = list(shape)
    if len(shape) == 2 and all(isinstance(v, int) for v in shape):
        return tuple(shape)
    return [tuple(s) if isinstance(s, (list, tuple)) else (s, s) for s in shape]


def build_env(cfg: RLConfig, stage: dict[str, Any] | None = None, seed: int | None = None) -> Any:
    """The training VecEnv: :class:`MazeVecEnvAdapter` (shaping as configured) in SB3's VecMonitor."""
    from stable_baselines3.common.vec_env import VecMonitor

    from maze_env.sb3 import MazeVecEnvAdapter

    env = MazeVecEnvAdapter(
        num_envs=cfg.n_envs, seed=cfg.seed if seed is None else seed, shaping=cfg.shaping,
        gamma=cfg.gamma, **env_kwargs(cfg, stage),
    )  # fmt: skip
    return VecMonitor(env, info_keywords=("is_success",))


def eval_tasks(cfg: RLConfig, size: int | None = None) -> list[Any]:
    """The fixed held-out tasks: ``eval_n`` tasks of the training distribution (or of dfs
    ``size`` x ``size``), seed ``eval_seed``, none of them in the training pool."""
    from agents.training_sets import TRAINING_SETS
    from maze_env.dataset import DatasetConfig, MazeDataset

    if cfg.training_set is not None:
        base = TRAINING_SETS[cfg.training_set]
        generator, shape, target = base.generator, tuple(base.shape), base.target
        params = dict(base.params)
    else:
        shapes = _shape_arg(cfg.shape)
        generator, target, params = cfg.generator, cfg.target or "random", {}
        shape = shapes if isinstance(shapes, tuple) else tuple(shapes[-1])
    if size is not None:
        shape, target = (size, size), "random"
    conf = DatasetConfig(
        generator=generator, shape=shape, n=cfg.eval_n, seed=cfg.eval_seed, params=params,
        target=target,
    )  # fmt: skip
    exclude = (
        [_dataset(cfg.training_set)] if cfg.training_set is not None and size is None else None
    )
    return list(MazeDataset.from_config(conf, exclude=exclude))


# ------------------------------------------------------------------------------------------------
# model
# ------------------------------------------------------------------------------------------------
def build_model(cfg: RLConfig, env: Any, tb_dir: str | None) -> Any:
    """The SB3 model for ``cfg`` on ``env`` (extractor via ``policy_kwargs``)."""
    from agents.rl.policies import maze_policy, maze_policy_kwargs

    pk = maze_policy_kwargs(
        cfg.extractor, net_arch=cfg.net_arch, algo=cfg.algo, **cfg.extractor_kwargs
    )
    common = dict(learning_rate=cfg.learning_rate, gamma=cfg.gamma, seed=cfg.seed, device="cpu",
                  tensorboard_log=tb_dir, verbose=0)  # fmt: skip
    if cfg.algo == "ppo":
        from stable_baselines3 import PPO

        return PPO(maze_policy(cfg.extractor, "ppo"), env, n_steps=cfg.n_steps, batch_size=cfg.batch_size,
                   n_epochs=cfg.n_epochs, gae_lambda=cfg.gae_lambda, clip_range=cfg.clip_range,
                   ent_coef=cfg.ent_coef, vf_coef=cfg.vf_coef, policy_kwargs=pk, **common)  # fmt: skip
    if cfg.algo == "rppo":
        from sb3_contrib import RecurrentPPO

        pk["lstm_hidden_size"] = cfg.lstm_hidden
        return RecurrentPPO("MlpLstmPolicy", env, n_steps=cfg.n_steps, batch_size=cfg.batch_size,
                            n_epochs=cfg.n_epochs, gae_lambda=cfg.gae_lambda,
                            clip_range=cfg.clip_range, ent_coef=cfg.ent_coef, vf_coef=cfg.vf_coef,
                            policy_kwargs=pk, **common)  # fmt: skip
    from stable_baselines3 import DQN

    return DQN("MlpPolicy", env, buffer_size=cfg.buffer_size, learning_starts=cfg.learning_starts,
               batch_size=cfg.batch_size, exploration_fraction=cfg.exploration_fraction,
               exploration_final_eps=cfg.exploration_final_eps,
               target_update_interval=cfg.target_update_interval, train_freq=cfg.train_freq,
               policy_kwargs=pk, **common)  # fmt: skip


# ------------------------------------------------------------------------------------------------
# callbacks
# ------------------------------------------------------------------------------------------------
def _final_reward_mode(cfg: RLConfig) -> str | None:
    """The VIN reward mode the saved model loads with (None: not a VIN)."""
    return cfg.extractor_kwargs.get("reward_mode", "learned") if cfg.extractor == "vin" else None


def _set_reward_mode(model: Any, mode: str | None) -> str | None:
    """Set the VIN extractors' ``reward_mode`` (shared or not); returns the previous one."""
    if mode is None:
        return None
    old = None
    policy = model.policy
    for name in ("features_extractor", "pi_features_extractor", "vf_features_extractor"):
        ext = getattr(policy, name, None)
        if ext is not None and hasattr(ext, "reward_mode"):
            old = ext.reward_mode if old is None else old  # shared extractors: the first's
            ext.reward_mode = mode
    return old


def _atomic_save(model: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        model.save(str(tmp))


def _make_callbacks(cfg: RLConfig, out: Path, state: dict[str, Any]) -> Any:
    from stable_baselines3.common.callbacks import BaseCallback

    from agents.rl.rollout import PolicyRunner, evaluate

    held_out = {"": eval_tasks(cfg)}
    for s in cfg.eval_sizes:
        held_out[f"_{s}"] = eval_tasks(cfg.replace(eval_n=min(cfg.eval_n, 200)), size=s)
    pad = grid_pad(cfg)
    env_kw = {"visited": cfg.visited, "pad_to": None if pad is None else list(pad)}

    class EvalAndCheckpoint(BaseCallback):
        """Evaluate every ``eval_every`` steps (TensorBoard ``eval/*``, ``curve.jsonl``, best model)
        and save ``last_model.zip`` + ``state.json`` every ``save_every`` steps."""

        def __init__(self) -> None:
            super().__init__()
            self.next_eval = state.get("next_eval", cfg.eval_every or cfg.total_steps)
            self.next_save = state.get("next_save", cfg.save_every)

        def _on_step(self) -> bool:
            n = self.num_timesteps
            if cfg.eval_every and n >= self.next_eval:
                self.run_eval()
                while self.next_eval <= n:
                    self.next_eval += cfg.eval_every
            if n >= self.next_save:
                self.checkpoint()
                while self.next_save <= n:
                    self.next_save += cfg.save_every
            return True

        def run_eval(self, final: bool = False) -> dict[str, Any]:
            stage_mode = _set_reward_mode(self.model, _final_reward_mode(cfg))  # as it loads
            try:
                return self._run_eval(final)
            finally:
                _set_reward_mode(self.model, stage_mode)

        def _run_eval(self, final: bool) -> dict[str, Any]:
            runner = PolicyRunner(self.model, cfg.algo)
            row: dict[str, Any] = {"steps": int(self.num_timesteps),
                                   "wall_seconds": round(state["wall"] + time.time() - state["t0"], 1)}  # fmt: skip
            for suffix, tasks in held_out.items():
                if suffix and (not runner.size_independent or not final):
                    continue
                res = evaluate(runner, tasks, env_kwargs=env_kw, seed=cfg.eval_seed,
                               floor=not state.get(f"floor{suffix}"))  # fmt: skip
                if "random_walk_success" in res:
                    state[f"floor{suffix}"] = res["random_walk_success"]
                res["random_walk_success"] = state[f"floor{suffix}"]
                for key in ("success", "exact", "random_walk_success"):
                    self.logger.record(f"eval/{key}{suffix}", res[key])
                row[f"eval{suffix}"] = res
            runner.policy.set_training_mode(False)
            score = row["eval"]["success"] + row["eval"]["exact"]
            if score > state.get("best", -1.0):
                state["best"] = score
                state["best_row"] = row
                _atomic_save(self.model, out / "best_model.zip")
            state["last_row"] = row
            with open(out / "curve.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            self.logger.dump(self.num_timesteps)
            e = row["eval"]
            print(f"[train-rl] {self.num_timesteps} steps: held-out success {e['success']:.3f} "
                  f"exact {e['exact']:.3f} (random walk {e['random_walk_success']:.3f})", file=sys.stderr)  # fmt: skip
            return row

        def checkpoint(self) -> None:
            _atomic_save(self.model, out / "last_model.zip")
            state["next_eval"], state["next_save"] = self.next_eval, self.next_save
            _save_state(out, state)

    return EvalAndCheckpoint()


def _save_state(out: Path, state: dict[str, Any]) -> None:
    keep = {k: v for k, v in state.items() if k not in ("t0", "cpu0")}
    keep["wall"] = state["wall"] + time.time() - state["t0"]
    keep["cpu"] = state["cpu"] + time.process_time() - state["cpu0"]
    atomic_write_text(out / "state.json", json.dumps(keep, indent=2) + "\n")


# ------------------------------------------------------------------------------------------------
# train
# ------------------------------------------------------------------------------------------------
def train(
    cfg: RLConfig,
    out: str | Path,
    *,
    resume: bool = False,
    progress: bool | None = None,
    command: str = "",
    name: str | None = None,
) -> dict[str, Any]:
    """The trainer protocol (:data:`train.trainers.TRAINERS`): train ``cfg`` into the run folder
    ``out``; with ``resume``, continue ``out/last_model.zip``.

    Args:
        progress: SB3's progress bar (None: the config's ``progress``).
        name: the name in meta.json (default: the folder's name).

    Returns the final ``meta`` (also written to ``out/meta.json``).
    """
    import torch

    if progress is not None:
        cfg = cfg.replace(progress=bool(progress))

    out = Path(out)
    if resume:
        if not (out / "last_model.zip").is_file() or not (out / "state.json").is_file():
            raise FileNotFoundError(
                f"--resume: no checkpoint in {out} (last_model.zip, state.json)"
            )
        saved = yaml.safe_load((out / "config.yaml").read_text(encoding="utf-8")) or {}
        cfg.check_resume(saved, f"{out}/config.yaml")
        now = cfg.to_dict()
        atomic_write_text(out / "config.yaml", yaml.safe_dump(now, sort_keys=False))
        state = json.loads((out / "state.json").read_text(encoding="utf-8"))
    else:
        if (out / "last_model.zip").exists():
            raise ValueError(f"{out} already holds a run; use --resume or another --out")
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "config.yaml", yaml.safe_dump(cfg.to_dict(), sort_keys=False))
        state = {"wall": 0.0, "cpu": 0.0}
    state["t0"], state["cpu0"] = time.time(), time.process_time()
    torch.set_num_threads(cfg.threads)

    stages = [dict(s) for s in cfg.curriculum] + [
        {"steps": cfg.total_steps - sum(s["steps"] for s in cfg.curriculum)}
    ]
    bounds, acc = [], 0
    for s in stages:
        acc += s["steps"]
        bounds.append(acc)
    done = 0
    model = None
    if resume:
        from agents.rl.agent import algo_class
        from agents.rl.safe_load import load_sb3

        own = {"clip_range": cfg.clip_range, "learning_rate": cfg.learning_rate,
               "train_freq": (cfg.train_freq, "step")}  # fmt: skip
        model = load_sb3(algo_class(cfg.algo), out / "last_model.zip", own, device="cpu",
                         tensorboard_log=str(out / "tb"))  # fmt: skip
        done = int(model.num_timesteps)
        state["resumes"] = state.get("resumes", 0) + 1
    callback = _make_callbacks(cfg, out, state)
    for k, stage in enumerate(stages):
        if done >= bounds[k]:
            continue
        env_stage = {key: v for key, v in stage.items() if key != "reward_mode"}
        env = build_env(cfg, env_stage, seed=cfg.seed + 1000 * state.get("resumes", 0) + 7 * k)
        if model is None:
            model = build_model(cfg, env, str(out / "tb"))
        else:
            model.set_env(env)
        _set_reward_mode(model, stage.get("reward_mode", _final_reward_mode(cfg)))
        model.learn(bounds[k] - done, callback=callback, reset_num_timesteps=False,
                    tb_log_name="run", progress_bar=cfg.progress)  # fmt: skip
        done = int(model.num_timesteps)
        state["steps"] = done
    assert model is not None
    if callback.model is None:  # resumed a finished run: no learn() call initialised it
        callback.init_callback(model)
    callback.checkpoint()
    row = callback.run_eval(final=True)
    state["steps"] = int(model.num_timesteps)
    _save_state(out, state)
    best = out / "best_model.zip"
    with atomic_path(out / "model.zip") as tmp:
        shutil.copyfile(best if best.exists() else out / "last_model.zip", tmp)
    saved_state = json.loads((out / "state.json").read_text(encoding="utf-8"))
    best_row = state.get("best_row")
    on = [f"{cfg.eval_n} held-out tasks of the training distribution (eval_seed {cfg.eval_seed}, "
          "none of them in the training pool)"]  # fmt: skip
    extractor = model.policy.features_extractor if cfg.algo != "dqn" else model.policy.q_net.features_extractor
    meta = make_meta(
        cfg.algo, name=name or out.name, config=cfg.to_dict(), hashed=cfg.hashed_fields(),
        training_set=cfg.training_set if cfg.training_set is not None
        else f"fresh {cfg.generator} {cfg.to_dict()['shape']} target={cfg.target or 'random'}",
        seed=cfg.seed, steps=int(model.num_timesteps), cpu_seconds=saved_state["cpu"],
        selected=selection("best", on=on, metric="success + exact", in_distribution=True,
                           step=best_row["steps"] if best_row else None)
        if best.exists() else selection("last"),
        metrics={k: v for k, v in (best_row or row)["eval"].items() if k in ("n", "success", "exact")},
        command=command or "",
        cpu_minutes=round(saved_state["cpu"] / 60.0, 2),
        wall_minutes=round(saved_state["wall"] / 60.0, 2),
        env_steps=int(model.num_timesteps), extractor=cfg.extractor,
        size_independent=bool(getattr(extractor, "size_independent", False)),
        reward="sparse" if not cfg.shaping else f"potential-based distance shaping k={cfg.shaping}",
        env={"visited": cfg.visited, "pad_to": None if grid_pad(cfg) is None else list(grid_pad(cfg))},
        best_eval=best_row, last_eval=row,
        model="model.zip (the best held-out evaluation; last_model.zip is the last step)",
    )  # fmt: skip
    write_meta(out, meta)
    plot_curve(out)
    return meta


def plot_curve(out: str | Path) -> Path | None:
    """``out/curve.png``: held-out success and exact rate against env steps, with the random-walk
    floor, from ``out/curve.jsonl`` (None when there is no curve)."""
    out = Path(out)
    path = out / "curve.jsonl"
    if not path.is_file():
        return None
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows = sorted({r["steps"]: r for r in rows}.values(), key=lambda r: r["steps"])
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["steps"] for r in rows]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    ax.plot(steps, [r["eval"]["success"] for r in rows], "-o", ms=3, label="success")
    ax.plot(steps, [r["eval"]["exact"] for r in rows], "--s", ms=3, label="exact path")
    ax.axhline(rows[-1]["eval"]["random_walk_success"], color="gray", ls=":", label="random walk")
    ax.set(xlabel="env steps", ylabel="held-out rate", ylim=(0, 1.02), title=out.name)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic_path(out / "curve.png") as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return out / "curve.png"

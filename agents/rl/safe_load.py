"""Load an SB3 ``.zip`` without unpickling anything: no code runs from a checkpoint file.

SB3's ``load`` reads the zip's ``data`` JSON and unpickles (cloudpickle) every entry marked
``":serialized:"``: the spaces, the policy class, its kwargs, schedules, buffers. A crafted zip
therefore runs code on load. :func:`load_sb3` passes SB3 a ``custom_objects`` value for *every*
serialized entry, rebuilt from the JSON's plain fields through allow-lists, so SB3 never calls
cloudpickle; an entry it cannot rebuild (an unknown key, a class outside the lists) refuses the
file with a message naming the key. The tensors (``policy.pth``, ``pytorch_variables.pth``) are
read by SB3 with ``torch.load(..., weights_only=True)``. The file stays SB3's own format: any SB3
user can ``PPO.load`` our checkpoints, and we load theirs when they use the classes below.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

SPACES = ("Discrete", "MultiBinary", "MultiDiscrete", "Box")
"""Gymnasium spaces rebuilt from their JSON fields (module ``gymnasium.spaces``)."""
POLICY_MODULES = (
    "agents.rl.policies",
    "stable_baselines3.common.policies",
    "stable_baselines3.dqn.policies",
    "sb3_contrib.common.recurrent.policies",
)
"""Modules whose classes may be a checkpoint's ``policy_class``."""
CLASS_MODULES = (
    "agents.rl.extractors",
    "agents.rl.policies",
    "stable_baselines3.common.torch_layers",
    "torch.nn.modules.activation",
    "torch.optim.adam",
    "torch.optim.adamw",
    "torch.optim.rmsprop",
    "torch.optim.sgd",
)
"""Modules whose classes may appear inside ``policy_kwargs`` (extractors, activations, optimizers)."""
RESET_BY_SB3 = (
    "_last_obs", "_last_episode_starts", "_last_original_obs", "_last_lstm_states",
    "ep_info_buffer", "ep_success_buffer", "rollout_buffer_class", "replay_buffer_class",
    "lr_schedule", "exploration_schedule", "learning_rate",
)  # fmt: skip
"""Entries SB3 rebuilds itself (``_setup_model`` / ``_setup_learn``) when they are None or, for
schedules, from the plain hyperparameters: we pass None (or the plain value) instead of the pickle."""
SCHEDULES = ("clip_range", "clip_range_vf")
_CLASS = re.compile(r"<class '([\w.]+)'>")
_CONSTANT = re.compile(r"ConstantSchedule\(val=([-+0-9.eE]+)\)")


class UnsafeCheckpointError(ValueError):
    """A ``.zip`` that would need unpickling to load (or is not an SB3 zip at all)."""


def _import(qualname: str, allowed: tuple[str, ...], what: str, path: Path) -> Any:
    module, _, name = qualname.rpartition(".")
    if module not in allowed:
        raise UnsafeCheckpointError(
            f"{path}: {what} is {qualname!r}, outside the classes mazebench loads "
            f"(modules: {', '.join(allowed)}); refusing to unpickle it"
        )
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise UnsafeCheckpointError(f"{path}: {what} {qualname!r} cannot be imported ({err})") from None


def _space(item: dict[str, Any], key: str, path: Path) -> Any:
    import gymnasium.spaces as spaces

    m = _CLASS.fullmatch(str(item.get(":type:", "")))
    name = m.group(1).rsplit(".", 1)[-1] if m else None
    if not m or not m.group(1).startswith("gymnasium.spaces.") or name not in SPACES:
        raise UnsafeCheckpointError(
            f"{path}: {key} is a {item.get(':type:')!r}; mazebench rebuilds only gymnasium "
            f"spaces {', '.join(SPACES)}"
        )
    try:
        dtype = np.dtype(str(item.get("dtype", "int64")))
        if name == "Discrete":
            return spaces.Discrete(int(item["n"]), start=int(item.get("start", 0)))
        if name == "MultiBinary":
            return spaces.MultiBinary([int(v) for v in np.atleast_1d(item["n"])])
        if name == "MultiDiscrete":
            return spaces.MultiDiscrete(np.array(json.loads(str(item["nvec"]))), dtype=dtype)
        shape = tuple(int(v) for v in item["_shape"])
        low, high = (float(np.min(np.array(json.loads(_plain(item[k]))))) for k in ("low", "high"))
        return spaces.Box(low, high, shape=shape, dtype=dtype)
    except (KeyError, TypeError, ValueError) as err:
        raise UnsafeCheckpointError(f"{path}: cannot rebuild {key} ({name}) from its fields: {err}") from None


def _plain(text: Any) -> str:
    """numpy's array repr (``[0. 0. 1.]``) as JSON (``[0.0, 0.0, 1.0]``)."""
    s = str(text).replace("\n", " ").strip()
    return re.sub(r"(?<=[0-9.])\s+(?=[-0-9.])", ", ", s).replace(".,", ".0,").replace(".]", ".0]")


def _policy_kwargs(item: dict[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key.startswith(":"):
            continue
        m = _CLASS.fullmatch(value) if isinstance(value, str) else None
        if m:
            out[key] = _import(m.group(1), CLASS_MODULES, f"policy_kwargs.{key}", path)
        elif isinstance(value, str) and value.startswith("<"):
            raise UnsafeCheckpointError(
                f"{path}: policy_kwargs.{key} is {value[:60]!r}, which only unpickling could rebuild"
            )
        else:
            out[key] = value
    return out


def _policy_class(item: dict[str, Any], path: Path) -> Any:
    module = str(item.get("__module__", ""))
    init = re.match(r"<function (\w+)\.__init__", str(item.get("__init__", "")))
    if not init:
        raise UnsafeCheckpointError(f"{path}: policy_class names no class; refusing to unpickle it")
    return _import(f"{module}.{init.group(1)}", POLICY_MODULES, "policy_class", path)


def safe_custom_objects(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """``custom_objects`` covering every serialized entry of the SB3 zip at ``path``.

    Args:
        path: an SB3 ``.zip``.
        overrides: values that win (e.g. a trainer's own schedules on resume).

    Raises:
        UnsafeCheckpointError: not a zip with SB3's ``data``, or an entry outside the allow-lists.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise UnsafeCheckpointError(f"{path}: not an SB3 model zip ({err})") from None
    if not isinstance(data, dict):
        raise UnsafeCheckpointError(f"{path}: its data entry is not a JSON object")
    custom: dict[str, Any] = {}
    for key, item in data.items():
        if not (isinstance(item, dict) and ":serialized:" in item):
            continue
        if overrides and key in overrides:
            custom[key] = overrides[key]
        elif key in ("observation_space", "action_space"):
            custom[key] = _space(item, key, path)
        elif key == "policy_class":
            custom[key] = _policy_class(item, path)
        elif key == "policy_kwargs":
            custom[key] = _policy_kwargs(item, path)
        elif key in SCHEDULES:
            m = _CONSTANT.search(str(item.get("value_schedule", "")))
            if not m:
                raise UnsafeCheckpointError(
                    f"{path}: {key} is not a constant schedule; pass it explicitly to load this file"
                )
            custom[key] = float(m.group(1))
        elif key == "train_freq":
            # DQN's TrainFreq: SB3 writes no readable fields, and it only matters for training,
            # so a trainer resuming passes its own in ``overrides``; for inference any will do
            custom[key] = (1, "step")
        elif key in RESET_BY_SB3:
            custom[key] = 0.0 if key == "learning_rate" else None  # a learning-rate callable
        else:
            raise UnsafeCheckpointError(
                f"{path}: the entry {key!r} is a pickled object that mazebench does not load "
                "(loading it could run code); re-save the model with mazebench train-rl"
            )
    return {**custom, **(overrides or {})}


def load_sb3(algo: Any, path: str | Path, overrides: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """``algo.load(path, custom_objects=...)`` with nothing unpickled (see the module docstring)."""
    return algo.load(str(path), custom_objects=safe_custom_objects(path, overrides), **kwargs)

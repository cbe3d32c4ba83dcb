"""Learned priors for MCTS: load a checkpoint folder's batched ``prior_fn`` / ``value_fn``.

``mcts:prior=checkpoints/NAME`` reads ``checkpoints/NAME/meta.json`` and dispatches on its
``"kind"`` to the model package's ``load_hooks(ckpt, **kwargs) -> (prior_fn, value_fn | None)``
(the contract in :mod:`agents.search.mcts`: ``prior_fn(tasks, cells, paths) -> float32[B, 4]``,
``value_fn(tasks, cells, paths) -> float32[B]``). The model package is imported only here, when a
prior is asked for, so the search agents never import torch otherwise.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

HOOKS: dict[str, str] = {
    "transformer": "agents.transformer.agent:load_hooks",
    "ppo": "agents.rl.agent:load_hooks",
    "dqn": "agents.rl.agent:load_hooks",
    "rppo": "agents.rl.agent:load_hooks",
}
"""Checkpoint kind (``meta.json`` "kind") -> ``"module:function"`` giving its MCTS hooks."""


def read_kind(ckpt: str | Path) -> str:
    """The ``"kind"`` in ``ckpt/meta.json``; ``ValueError``/``FileNotFoundError`` that say what is wrong."""
    folder = Path(ckpt)
    if not folder.is_dir():
        raise FileNotFoundError(f"prior={str(ckpt)!r}: no such checkpoint folder")
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(
            f"prior={str(ckpt)!r}: no meta.json in the folder (a checkpoint folder has meta.json "
            f'with a "kind": one of {", ".join(sorted(HOOKS))})'
        )
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError as err:
        raise ValueError(f"prior={str(ckpt)!r}: meta.json is not valid JSON ({err})") from err
    kind = meta.get("kind") if isinstance(meta, dict) else None
    if kind not in HOOKS:
        raise ValueError(
            f"prior={str(ckpt)!r}: meta.json kind {kind!r} has no MCTS prior; "
            f"kinds with one: {', '.join(sorted(HOOKS))}"
        )
    return str(kind)


def load_hooks(ckpt: str | Path, **kwargs: Any) -> tuple[Any, Any]:
    """``(prior_fn, value_fn or None)`` of the model saved in ``ckpt`` (see the module docstring).

    Args:
        ckpt: a checkpoint folder with ``meta.json``.
        **kwargs: passed on to the kind's ``load_hooks``.

    Raises:
        FileNotFoundError: no such folder, or no meta.json in it.
        ValueError: a kind without hooks, or a package that cannot be imported or lacks them.
    """
    kind = read_kind(ckpt)
    module_name, _, fn_name = HOOKS[kind].partition(":")
    try:
        fn = getattr(importlib.import_module(module_name), fn_name)
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"prior={str(ckpt)!r}: kind {kind!r} loads through {HOOKS[kind]}, which cannot be "
            f"imported ({err})"
        ) from err
    prior_fn, value_fn = fn(str(ckpt), **kwargs)
    if not callable(prior_fn) or (value_fn is not None and not callable(value_fn)):
        raise ValueError(
            f"{HOOKS[kind]} must return (prior_fn, value_fn or None), got ({prior_fn!r}, {value_fn!r})"
        )
    return prior_fn, value_fn

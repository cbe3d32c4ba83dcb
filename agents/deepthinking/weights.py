"""Deep-thinking weights on disk: ``model.safetensors`` with the net's config in its metadata.

Written by training (``train.deepthinking``), read by the agent; no pickle anywhere.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from agents.deepthinking.model import DTConfig, DTNet
from maze_env.files import atomic_write_bytes


def save_weights(net: DTNet, path: Path) -> None:
    """``model.safetensors`` with the net's config in its metadata, written atomically."""
    from safetensors.torch import save

    meta = {"model_config": json.dumps(net.config.to_dict())}
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    atomic_write_bytes(path, save(state, metadata=meta))


def load_weights(path: str | os.PathLike[str]) -> DTNet:
    """A :class:`DTNet` (in eval mode) from a file written by :func:`save_weights`.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a deep-thinking safetensors file (corrupt, or no config).
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no weights at {path} (expected a model.safetensors from train-dt)"
        )
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = load_file(str(path))
        net = DTNet(DTConfig.from_dict(json.loads(meta["model_config"])))
        net.load_state_dict(state)
    except Exception as err:  # safetensors raises several kinds on corrupt files
        raise ValueError(f"cannot read the deep-thinking weights {path}: {err}") from None
    return net.eval()

"""What the report's figures share: matplotlib (Agg backend), saving a PNG, markers, and the
agents' short labels (used by the figures' legends, the report's tables and ``mazebench run``).

:mod:`agents.harness.plots` (the figures and tables) and :mod:`agents.harness.answer` (the
report's opening figure) both draw with these, so neither reaches into the other's helpers.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DPI = 110
"""Resolution of every saved figure."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")
"""Marker cycle of the figures' agent and suite lines."""


# -- matplotlib ---------------------------------------------------------------------------------
def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (imported on first use: no window, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as a PNG at ``path`` (written beside, then renamed: never half a file), close
    it, and return ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.png")
    fig.savefig(tmp, dpi=DPI, bbox_inches="tight", facecolor="white")
    pyplot().close(fig)
    tmp.replace(path)
    return path


# -- agent labels -------------------------------------------------------------------------------
LABEL_MAX = 24
"""Agent names longer than this get a short label in tables and legends (see :func:`agent_labels`)."""


_NOISE = ("ckpt=", ",n_iter=auto", "decode=", "vin_reward=")
"""Parts of a learned agent's name that a short label can drop (the agents table has them all)."""


def compact_name(name: str) -> str:
    """``kind:folder,options`` without what repeats or is implied: ``deepthinking:graph`` for
    ``deepthinking:deepthinking_graph``, ``ppo:vin_mix8,peak`` for
    ``ppo:ppo_vin_mix8,vin_reward=peak``; other names unchanged."""
    kind, sep, rest = name.partition(":")
    if not sep:
        return name
    for noise in _NOISE:
        rest = rest.replace(noise, "")
    rest = rest.rsplit("/", 1)[-1]  # a checkpoint's folder name, not its path
    if rest.startswith(kind + "_"):
        rest = rest[len(kind) + 1 :]
    return f"{kind}:{rest}"


def agent_labels(results: Mapping[str, Any]) -> dict[str, str]:
    """Short, unique labels by spec: the agent's name if at most :data:`LABEL_MAX` characters,
    else :func:`compact_name` if that is short enough, else its base name (``mcts`` of
    ``mcts(simulations=10, ...)``; ``mcts+NAME`` with ``prior='.../NAME'``) numbered where needed
    (``mcts#1``, ``mcts#2``). The report's agents table maps labels to full names."""
    names = {a["spec"]: a["name"] for a in results["agents"]}
    short = {}
    for s, n in names.items():
        c = compact_name(n)
        base = c.split("(")[0]
        prior = re.search(r"prior='([^']+)'", n)
        if prior:  # a search guided by a model: name the model (mcts+transformer_grid6)
            base = f"{base}+{prior.group(1).rstrip('/').rsplit('/', 1)[-1]}"
        short[s] = n if len(n) <= LABEL_MAX else c if len(c) <= LABEL_MAX else base[:LABEL_MAX]
    clashes = Counter(short.values())
    numbered: Counter[str] = Counter()
    out: dict[str, str] = {}
    for spec, label in short.items():
        if clashes[label] > 1 and label != names[spec]:
            numbered[label] += 1
            label = f"{label}#{numbered[label]}"
        out[spec] = label
    return out

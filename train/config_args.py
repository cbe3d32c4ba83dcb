"""What the training commands share: a config built from a preset, a YAML file and ``--set``
overrides, and the command line recorded in a checkpoint's meta."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import yaml


def read_config_file(path: str | Path, what: str) -> dict[str, Any]:
    """The mapping in YAML file ``path`` (``what``: the config's name, for the error)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ValueError(f"{path}: not valid YAML: {_one_line(err)}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of {what} fields")
    return data


def apply_set(data: dict[str, Any], item: str) -> None:
    """Apply one ``--set KEY=VALUE`` to ``data`` (VALUE parsed as YAML; ``a.b=1`` sets a nested key)."""
    key, eq, value = item.partition("=")
    if not eq:
        raise ValueError(f"--set takes KEY=VALUE (e.g. seed=1, model.width=16), got {item!r}")
    *parents, leaf = key.strip().split(".")
    node = data
    for p in parents:
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            raise ValueError(f"--set {item!r}: {p} is not a mapping")
    try:
        node[leaf] = yaml.safe_load(value)
    except yaml.YAMLError as err:
        raise ValueError(f"--set {item!r}: the value is not valid YAML: {_one_line(err)}") from None


def _one_line(err: object) -> str:
    """A YAML error as ``PROBLEM at line L, column C``; anything else's lines joined."""
    problem, mark = getattr(err, "problem", None), getattr(err, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return " ".join(line.strip() for line in str(err).splitlines() if line.strip())


yaml_error_text = _one_line


def check_ints(config: Any, names: tuple[str, ...], minimum: int) -> None:
    """Raise ``ValueError("Cls.name must be an int >= minimum, got ...")`` for the first of
    ``names`` that is not an int (bools refused) of at least ``minimum``."""
    for name in names:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(
                f"{type(config).__name__}.{name} must be an int >= {minimum}, got {value!r}"
            )


def command_line() -> str:
    """This process's ``mazebench ...`` command, quoted, for a checkpoint's meta."""
    return "mazebench " + " ".join(shlex.quote(a) for a in sys.argv[1:])

"""The one base of every training config: loading, presets, resume rules, the config hash.

A trainer's config is a dataclass that inherits :class:`TrainerConfig` and sets three class
attributes: ``KIND`` (its trainer's name in :data:`train.trainers.TRAINERS`), ``PRESETS`` (named
overrides of the defaults) and ``RESUME_FREE`` (the fields a resumed run may change: none of them
alters the weights' trajectory). Every check lives in the dataclass's ``__post_init__``, so a
config that exists is a valid one; ``from_sources`` builds one the way the command line and the
experiments do (preset, then a YAML file, then ``key=value`` overrides, nested with dots).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from agents.checkpoint import config_hash

C = TypeVar("C", bound="TrainerConfig")


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively (what YAML and JSON round-trip)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


_SCALARS: dict[type, str] = {bool: "true or false", int: "an integer", float: "a number",
                             str: "a string"}  # fmt: skip


def _scalar_kinds(hint: Any) -> tuple[tuple[type, ...], bool] | None:
    """The scalar types a field annotated ``hint`` accepts and whether it may be None; None
    when the field is not a plain scalar (lists, nested configs: their own checks apply)."""
    if hint in _SCALARS:
        return (hint,), False
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        rest = tuple(a for a in args if a is not type(None))
        if rest and all(a in _SCALARS for a in rest):
            return rest, len(rest) < len(args)
    return None


def _fits(value: Any, kind: type) -> bool:
    """``value`` is a ``kind`` (a bool is only a bool; an int is also a float)."""
    if isinstance(value, bool):
        return kind is bool
    return isinstance(value, kind) or (kind is float and isinstance(value, int))


def check_field_types(cls: type, data: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the field, the value and what is allowed when a scalar field
    of the dataclass ``cls`` gets a value of the wrong type (``lr=fast``, ``steps=1.5``); an int
    is a valid float, a bool is neither."""
    hints = typing.get_type_hints(cls)
    for name, value in data.items():
        kinds = _scalar_kinds(hints.get(name))
        if kinds is None:
            continue
        allowed, nullable = kinds
        if value is None and nullable:
            continue
        if not any(_fits(value, t) for t in allowed):
            want = " or ".join(_SCALARS[t] for t in allowed) + (" or null" if nullable else "")
            raise ValueError(
                f"{cls.__name__}.{name} must be {want}, got {value!r} ({type(value).__name__})"
            )


def merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``, merging nested mappings key by key (a preset's ``model``
    mapping keeps the keys a file or ``--set model.width=16`` does not name)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


class TrainerConfig:
    """Mixin of the training configs (each a ``@dataclass`` that sets the class attributes)."""

    KIND: ClassVar[str] = ""
    PRESETS: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    RESUME_FREE: ClassVar[frozenset[str]] = frozenset()

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls: type[C], data: Mapping[str, Any]) -> C:
        """A config from its fields; unknown keys raise ``ValueError`` listing the allowed ones."""
        if not isinstance(data, Mapping):
            raise ValueError(
                f"a {cls.KIND} training config is a mapping of fields, got {type(data).__name__}"
            )
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ValueError(
                f"unknown {cls.KIND} config key(s) {unknown}; allowed: {', '.join(sorted(names))}"
            )
        check_field_types(cls, data)
        return cls(**copy.deepcopy(dict(data)))

    @classmethod
    def from_yaml(cls: type[C], path: str | os.PathLike[str]) -> C:
        """A config from a YAML file of its fields (errors name the file)."""
        from train.config_args import read_config_file

        return cls.from_dict(read_config_file(path, cls.__name__))

    @classmethod
    def preset(cls: type[C], name: str, **overrides: Any) -> C:
        """The preset ``name`` with ``overrides`` (``ValueError`` listing the known presets)."""
        if name not in cls.PRESETS:
            raise ValueError(
                f"unknown {cls.KIND} preset {name!r}; known: {', '.join(cls.PRESETS)}"
            )
        return cls.from_dict(merge(copy.deepcopy(dict(cls.PRESETS[name])), overrides))

    @classmethod
    def from_sources(
        cls: type[C],
        *,
        preset: str | None = None,
        file: str | os.PathLike[str] | None = None,
        sets: Iterable[str] = (),
        **fields: Any,
    ) -> C:
        """Preset, then a YAML ``file``, then ``sets`` (``"key=value"``, YAML values, dotted keys
        for nested fields), then ``fields``: what ``mazebench train-*`` and experiments build."""
        from train.config_args import apply_set, read_config_file

        data: dict[str, Any] = {}
        if preset is not None:
            if preset not in cls.PRESETS:
                raise ValueError(
                    f"unknown {cls.KIND} preset {preset!r}; known: {', '.join(cls.PRESETS)}"
                )
            data = copy.deepcopy(dict(cls.PRESETS[preset]))
        if file is not None:
            data = merge(data, read_config_file(file, cls.__name__))
        for item in sets:
            apply_set(data, item)
        return cls.from_dict(merge(data, fields))

    # -- reading ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data (lists, not tuples; nested configs as mappings)."""
        return _plain(dataclasses.asdict(self))  # type: ignore[call-overload]

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes`` (checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def hashed_fields(self) -> dict[str, Any]:
        """The fields that shape the weights: all but :attr:`RESUME_FREE`."""
        return {k: v for k, v in self.to_dict().items() if k not in self.RESUME_FREE}

    def config_hash(self) -> str:
        """12 hex digits of :meth:`hashed_fields` (equal fields, equal hash; the preset's name
        plays no part)."""
        return config_hash(self.hashed_fields())

    def resume_diff(self, saved: Mapping[str, Any]) -> list[str]:
        """The fields outside :attr:`RESUME_FREE` where ``saved`` (a run's recorded config)
        differs from this one; a field missing from ``saved`` compares as its default."""
        now = self.to_dict()
        defaults = type(self)().to_dict()  # type: ignore[call-arg]
        return sorted(
            k for k, v in now.items()
            if k not in self.RESUME_FREE and _plain(saved.get(k, defaults[k])) != v
        )  # fmt: skip

    def check_resume(self, saved: Mapping[str, Any], where: str) -> None:
        """Raise ``ValueError`` naming the differing fields when ``saved`` (from ``where``) is
        another run's config."""
        diff = self.resume_diff(saved)
        if diff:
            raise ValueError(
                f"--resume: the config differs from {where} in {', '.join(diff)} (only "
                f"{', '.join(sorted(self.RESUME_FREE))} may change)"
            )

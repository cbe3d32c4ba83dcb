"""Evaluation suites: named, seeded sets of tasks, built-in or loaded from YAML/JSON.

A :class:`Suite` is a dataset recipe (generator, shape, parameters, origin and target placements)
plus the training datasets it must never share a task with (``disjoint_from``) and metadata that
metrics and report read (``family``, ``size``, ``generator``; ``training_target_region`` for
target-shift suites). Its tasks depend only on the recipe, the run's ``seed`` and ``n``: the
dataset seed is derived from ``(seed, suite name)`` unless the suite fixes one.

Built-in suites live in ``agents/harness/suites/builtin.yaml`` (the user schema below), by family:
``in_distribution`` (dfs 6x6, the default training distribution); ``sizes`` (``size_K``: dfs KxK
for K in 4, 5, 7, 8, 10, 12, 16, 24, 32, 48, 64; the four large ones default to 200 or 100 tasks); ``generators`` (``gen_NAME``: wilson, kruskal, prim,
recursive_division, ``gen_hallway`` = dfs without forks, at 6x6); ``loops`` (dfs_percolation,
percolation: several shortest paths, "exact" is any of them); ``open`` (open_field,
open_field_obstacle); ``target_shift`` (``target_held_out``: targets outside the corner block the
``corner_targets`` training set always used; ``target_corner``: the mirror). Every registered
generator the file does not name gets a 6x6 suite too (``gen_NAME`` if its mazes are perfect,
``loops_NAME`` otherwise); a suite whose generator is not registered is skipped with a warning.
Groups: ``default`` (all built-ins), ``quick``, and one per family.

User suites, YAML or JSON (:func:`load_suites`)::

    training_sets:              # optional: named training datasets (DatasetConfig fields)
      mine: {generator: dfs, shape: [6, 6], n: 50000, seed: 1}
    suites:
      - name: big_prim          # required, unique; letters, digits, '_', '-', '.'
        generator: prim         # required: a key of maze_env.GENERATORS
        shape: [12, 12]         # required
        params: {}              # generator parameters
        origin: random          # placement specs (maze_env.placement)
        target: random
        min_path_length: 1      # fewest moves (1: origin != target)
        seed: 7                 # optional: fixed dataset seed (else derived from the run seed)
        n: 500                  # optional: tasks when the run does not set --n
        disjoint_from: [default, mine]   # training-set names (built-in or above) or mappings
        groups: [sizes]         # the first is the family (sizes: joins the size curve)
        description: "..."
        metadata: {training_target_region: "region:br:2"}
    groups:                     # optional
      mine_all: [big_prim, size_10]
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents.training_sets import TRAINING_SETS
from maze_env import GENERATORS
from maze_env.dataset import DatasetConfig, MazeDataset

DEFAULT_N = 1000
"""Tasks per suite unless the run or the suite says otherwise."""
BUILTIN_FILE = Path(__file__).with_name("suites") / "builtin.yaml"
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_RECIPE = ("generator", "shape", "params", "origin", "target", "min_path_length")
_KEYS = ("name", "description", *_RECIPE, "seed", "n", "disjoint_from", "groups", "metadata")


@dataclass(frozen=True)
class Suite:
    """A named, seeded set of tasks.

    Attributes:
        name: unique name (``[A-Za-z0-9_.-]+``).
        generator: a key of :data:`maze_env.GENERATORS`.
        shape: ``(rows, cols)``.
        params: generator parameters.
        origin: origin placement spec (:mod:`maze_env.placement`).
        target: target placement spec.
        min_path_length: fewest moves on the shortest path (1: origin != target; 0 allows it).
        seed: fixed dataset seed, or ``None`` to derive it from the run seed and the name.
        n: tasks when the run does not set ``n`` (``None``: :data:`DEFAULT_N`).
        disjoint_from: training datasets this suite must not share a task with.
        description: one line for the report.
        groups: groups this suite belongs to; the first is its family.
        metadata: ``family`` (default: the first group, else ``"custom"``), ``size`` (default:
            rows), ``generator`` (default: ``generator``), ``training_target_region`` (a placement
            spec, for target-shift suites), anything else.
    """

    name: str
    generator: str
    shape: tuple[int, int]
    params: Mapping[str, Any] = field(default_factory=dict)
    origin: str = "random"
    target: str = "random"
    min_path_length: int = 1
    seed: int | None = None
    n: int | None = None
    disjoint_from: tuple[DatasetConfig, ...] = ()
    description: str = ""
    groups: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise ValueError(
                f"bad suite name {self.name!r}; allowed: letters, digits, '_', '-', '.'"
            )
        try:
            shape = tuple(int(v) for v in self.shape)
        except (TypeError, ValueError):
            raise ValueError(f"shape must be [rows, cols] of ints, got {self.shape!r}") from None
        defaults = {
            "family": self.groups[0] if self.groups else "custom",
            "size": shape[0],
            "generator": self.generator,
        }
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "params", dict(self.params))
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "disjoint_from", tuple(self.disjoint_from))
        object.__setattr__(self, "metadata", {**defaults, **self.metadata})

    @property
    def family(self) -> str:
        return str(self.metadata["family"])

    def dataset_config(self, n: int = DEFAULT_N, seed: int = 0) -> DatasetConfig:
        """The dataset this suite draws ``n`` tasks from for run seed ``seed``."""
        data_seed = self.seed if self.seed is not None else derive_seed(seed, "suite", self.name)
        recipe = {k: getattr(self, k) for k in _RECIPE}
        return DatasetConfig(n=n, seed=data_seed, **recipe)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form; :func:`suite_from_dict` reads it back."""
        d = {k: getattr(self, k) for k in _KEYS}
        d.update(shape=list(self.shape), groups=list(self.groups), params=dict(self.params))
        d["disjoint_from"] = [c.to_dict() for c in self.disjoint_from]
        d["metadata"] = dict(self.metadata)
        return d


def derive_seed(seed: int, *parts: object) -> int:
    """A stable 63-bit seed from ``seed`` and labels (same value on every machine and release)."""
    text = json.dumps([int(seed), *[str(p) for p in parts]])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def _config_from(spec: Any, sets: Mapping[str, DatasetConfig], where: str) -> DatasetConfig:
    """A training set given by name (of ``sets``), as a mapping, or as a :class:`DatasetConfig`."""
    if isinstance(spec, DatasetConfig):
        return spec
    if isinstance(spec, str):
        if spec not in sets:
            raise ValueError(f"{where}: unknown training set {spec!r}; known: {', '.join(sets)}")
        return sets[spec]
    if isinstance(spec, Mapping):
        try:
            return DatasetConfig.from_dict(spec)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: bad training set config: {err}") from None
    raise ValueError(
        f"{where}: disjoint_from entries are training-set names or mappings, got {spec!r}"
    )


def suite_from_dict(
    d: Mapping[str, Any], training_sets: Mapping[str, DatasetConfig] | None = None
) -> Suite:
    """Build a :class:`Suite` from a mapping (the schema in the module docstring).

    Args:
        d: the mapping.
        training_sets: extra named training sets for ``disjoint_from`` (besides the built-ins).
    """
    sets = {**TRAINING_SETS, **(training_sets or {})}
    where = f"suite {d.get('name', '?')!r}"
    unknown = set(d) - set(_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {', '.join(_KEYS)}")
    for key in ("name", "generator", "shape"):
        if key not in d:
            raise ValueError(
                f"{where}: missing required key {key!r} (required: name, generator, shape)"
            )
    if d["generator"] not in GENERATORS:
        raise ValueError(
            f"{where}: unknown generator {d['generator']!r}; known: {', '.join(GENERATORS)}"
        )
    if not (isinstance(d["shape"], Sequence) and len(d["shape"]) == 2):
        raise ValueError(f"{where}: shape must be [rows, cols], got {d['shape']!r}")
    kwargs = {k: d[k] for k in _KEYS if d.get(k) is not None}
    if not isinstance(d.get("disjoint_from") or [], (list, tuple)):
        raise ValueError(f"{where}: disjoint_from must be a list, got {d['disjoint_from']!r}")
    kwargs["disjoint_from"] = tuple(
        _config_from(s, sets, where) for s in d.get("disjoint_from") or ()
    )
    for key in ("groups",):
        if not isinstance(kwargs.get(key, ()), (list, tuple)):
            raise ValueError(f"{where}: {key} must be a list, got {kwargs[key]!r}")
    for key in ("params", "metadata"):
        if not isinstance(kwargs.get(key, {}), Mapping):
            raise ValueError(f"{where}: {key} must be a mapping, got {kwargs[key]!r}")
    try:
        suite = Suite(**kwargs)
        check_recipe(suite)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from None
    return suite


def check_recipe(suite: Suite) -> None:
    """Raise ``ValueError`` if ``suite`` cannot make a dataset: a bad shape, generator
    parameter, placement, ``min_path_length``, ``seed`` or ``n`` (checked by building the
    :class:`DatasetConfig` it draws from, which generates nothing), so a run refuses it before
    it writes anything."""
    for key in ("n", "seed"):
        value = getattr(suite, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"{key} must be an int, got {value!r}")
    if suite.n is not None and suite.n < 1:
        raise ValueError(f"n must be >= 1, got {suite.n}")
    suite.dataset_config(suite.n or DEFAULT_N, 0)


@dataclass
class SuiteRegistry:
    """Suites and groups by name; :meth:`resolve` turns names into suites."""

    suites: dict[str, Suite]
    groups: dict[str, list[str]]

    @classmethod
    def builtin(cls) -> SuiteRegistry:
        """The built-in suites and their groups (see the module docstring)."""
        return _builtin_registry()

    def add(self, other: SuiteRegistry) -> SuiteRegistry:
        """A registry with ``other``'s suites and groups added (theirs win on a name clash)."""
        suites = {**self.suites, **other.suites}
        groups = {k: list(v) for k, v in self.groups.items()}
        for s in other.suites.values():
            for g in s.groups:
                if s.name not in groups.setdefault(g, []):
                    groups[g].append(s.name)
        groups.update(other.groups)
        return SuiteRegistry(suites, groups)

    def known(self) -> str:
        return f"suites: {', '.join(self.suites)}; groups: {', '.join(self.groups)}"

    def resolve(self, names: Iterable[str | Suite]) -> list[Suite]:
        """Suites for names, group names or :class:`Suite` objects, in order, without repeats."""
        out: dict[str, Suite] = {}
        for item in names:
            if isinstance(item, Suite):
                out.setdefault(item.name, item)
                continue
            if item not in self.suites and item not in self.groups:
                raise ValueError(f"unknown suite or group {item!r}; {self.known()}")
            for name in [item] if item in self.suites else self.groups[item]:
                if name not in self.suites:
                    raise ValueError(f"group {item!r} names unknown suite {name!r}; {self.known()}")
                out.setdefault(name, self.suites[name])
        if not out:
            raise ValueError(f"no suites selected; {self.known()}")
        return list(out.values())


def _read(path: Path) -> Mapping[str, Any]:
    """The checked top level of a suites file: ``suites`` a list of mappings, ``groups`` a
    mapping of name lists, ``training_sets`` a mapping; errors name the file."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except yaml.YAMLError as err:
        problem, mark = getattr(err, "problem", None), getattr(err, "problem_mark", None)
        why = (
            f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
            if problem and mark is not None
            else " ".join(line.strip() for line in str(err).splitlines() if line.strip())
        )
        raise ValueError(f"{path}: not valid YAML: {why}") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON: {err}") from None
    if isinstance(data, list):
        data = {"suites": data}
    expected = "a mapping with a 'suites' list (and optional 'groups', 'training_sets')"
    if not isinstance(data, Mapping) or "suites" not in data:
        raise ValueError(f"{path}: expected {expected}")
    if not isinstance(data["suites"], list):
        raise ValueError(f"{path}: 'suites' must be a list of suite mappings")
    for i, d in enumerate(data["suites"]):
        if not isinstance(d, Mapping):
            raise ValueError(
                f"{path}: suite {i + 1} is {d!r}, not a mapping (name, generator, shape, ...)"
            )
    groups = data.get("groups") or {}
    if not isinstance(groups, Mapping) or not all(
        isinstance(v, list) for v in groups.values()
    ):
        raise ValueError(f"{path}: 'groups' must map group names to lists of suite names")
    if not isinstance(data.get("training_sets") or {}, Mapping):
        raise ValueError(f"{path}: 'training_sets' must map names to dataset configs")
    return data


def _training_sets(data: Mapping[str, Any], where: str) -> dict[str, DatasetConfig]:
    sets = data.get("training_sets") or {}
    return {
        name: _config_from(spec, {}, f"{where}: training set {name!r}")
        for name, spec in sets.items()
    }


def load_suites(path: str | Path) -> SuiteRegistry:
    """Read user suites from a YAML (``.yaml``/``.yml``) or JSON file (schema: module docstring)."""
    path = Path(path)
    data = _read(path)
    sets = _training_sets(data, str(path))
    suites: dict[str, Suite] = {}
    for d in data["suites"]:
        try:
            suite = suite_from_dict(d, sets)
        except ValueError as err:
            raise ValueError(f"{path}: {err}") from None
        if suite.name in suites:
            raise ValueError(f"{path}: suite {suite.name!r} is defined twice")
        suites[suite.name] = suite
    groups = {str(k): [str(v) for v in vs] for k, vs in (data.get("groups") or {}).items()}
    return SuiteRegistry(suites, groups)


_BUILTIN_DATA = _read(BUILTIN_FILE)


def _available(d: Mapping[str, Any]) -> bool:
    spec = GENERATORS.get(d["generator"])
    missing = [] if spec is None else sorted(set(d.get("params") or {}) - set(spec.params))
    if spec is None or missing:
        why = "is not registered" if spec is None else f"has no parameter(s) {missing}"
        warnings.warn(
            f"skipping built-in suite {d['name']!r}: generator {d['generator']!r} {why}",
            stacklevel=4,
        )
        return False
    return True


def builtin_suites() -> dict[str, Suite]:
    """The built-in suites by name, for the generators registered right now."""
    suites = [suite_from_dict(d) for d in _BUILTIN_DATA["suites"] if _available(d)]
    named = {d["generator"] for d in _BUILTIN_DATA["suites"]}
    train = (TRAINING_SETS["default"],)
    extra = []
    for g, spec in GENERATORS.items():
        if g not in named:
            family, prefix = ("generators", "gen") if spec.perfect else ("loops", "loops")
            desc = f"{g} 6x6" + ("" if spec.perfect else f" ({spec.guarantee})")
            extra.append(
                Suite(
                    f"{prefix}_{g}",
                    g,
                    (6, 6),
                    groups=(family,),
                    disjoint_from=train,
                    description=desc,
                )
            )
    target_shift = [s for s in suites if s.family == "target_shift"]
    return {
        s.name: s
        for s in [*[s for s in suites if s.family != "target_shift"], *extra, *target_shift]
    }


def _builtin_registry() -> SuiteRegistry:
    suites = builtin_suites()
    groups: dict[str, list[str]] = {"default": list(suites)}
    for name, members in (_BUILTIN_DATA.get("groups") or {}).items():
        groups[name] = [m for m in members if m in suites]
    for s in suites.values():
        for g in s.groups:
            groups.setdefault(g, []).append(s.name)
    return SuiteRegistry(suites, groups)


def builtin_groups() -> dict[str, list[str]]:
    """Group name -> suite names: ``default``, ``quick`` and one per family."""
    return _builtin_registry().groups


def resolve_suites(
    names: Sequence[str | Suite], suites_file: str | Path | None = None
) -> list[Suite]:
    """Built-in (plus ``suites_file``'s) suites for names or group names; errors list the known ones."""
    registry = SuiteRegistry.builtin()
    if suites_file is not None:
        registry = registry.add(load_suites(suites_file))
    return registry.resolve(names)


# -- building the tasks -------------------------------------------------------------------------
@dataclass
class SuiteData:
    """A suite with its tasks built."""

    suite: Suite
    dataset: MazeDataset


def build_suites(
    suites: Sequence[Suite], ns: Mapping[str, int], seed: int, cache_dir: str | Path | None = None
) -> dict[str, SuiteData]:
    """Generate every suite's tasks, excluding its training sets' tasks, and check disjointness.

    Args:
        suites: the suites.
        ns: tasks per suite, by name.
        seed: the run seed.
        cache_dir: dataset cache (``None``: generate in memory).

    A training set is generated only for suites of its shape (other shapes cannot overlap).
    """
    training: dict[str, tuple[MazeDataset, set[bytes]]] = {}
    out: dict[str, SuiteData] = {}
    for suite in suites:
        train = []
        for config in suite.disjoint_from:
            if tuple(config.shape) == suite.shape:
                if config.hash() not in training:
                    ds = MazeDataset.from_config(config, cache_dir=cache_dir)
                    training[config.hash()] = (ds, set(ds.task_keys()))
                train.append(training[config.hash()])
        config = suite.dataset_config(ns[suite.name], seed)
        dataset = MazeDataset.from_config(
            config, cache_dir=cache_dir, exclude=[t[0] for t in train]
        )
        check_disjoint(suite, dataset, train)
        out[suite.name] = SuiteData(suite, dataset)
    return out


def check_disjoint(
    suite: Suite, dataset: MazeDataset, training: Sequence[tuple[MazeDataset, set[bytes]]]
) -> None:
    """Raise ``ValueError`` if a task of ``dataset`` (same maze, origin, target) is in a training set.

    Args:
        suite: the suite (for the message).
        dataset: its tasks.
        training: ``(training dataset, its task keys)`` pairs.
    """
    keys = dataset.task_keys()
    for train, train_keys in training:
        shared = sum(k in train_keys for k in keys)
        if shared:
            raise ValueError(
                f"suite {suite.name!r} shares {shared} task(s) with its training set "
                f"{train.config.hash()[:12]} ({train.config.generator} {train.config.shape}); "
                "give the suite another seed or delete the stale dataset cache"
            )

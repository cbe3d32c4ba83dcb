"""The agent registry: names mapped to lazy ``"package.module:factory"`` entry points.

Like Gymnasium's ``register(id, entry_point="pkg.mod:Class")``, an agent is registered by the
*string* naming its factory, so ``import agents`` imports no agent module at all (no torch, no
stable-baselines3): a factory's module is imported the first time that agent is built or asked for
its parameters. Every agent, built-in or user, is registered the same way::

    from agents.registry import register_agent
    register_agent("mine", "my_package.agents:MyAgent")
    make_agent("mine:depth=3,seed=1")

A factory is a class or function taking keyword arguments only (all with defaults except ``ckpt``
for learned agents, and ``seed: int = 0`` when it is random) and returning an
:class:`agents.base.Agent`. Spec strings are ``name:key=value,key=value`` with values parsed as
JSON, else kept as strings. Errors teach: an unknown name lists the known ones, an unknown
parameter lists the agent's parameters with their defaults, an entry whose module cannot be
imported names the agent, its entry point and the import problem.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents.base import Agent

Factory = Callable[..., "Agent"]

BUILTIN_ENTRY_POINTS: dict[str, str] = {
    "bfs": "agents.search.bfs:make_bfs",
    "astar": "agents.search.astar:make_astar",
    "dfs": "agents.search.simple:make_dfs",
    "greedy": "agents.search.simple:make_greedy",
    "random_fork": "agents.search.random_agents:make_random_fork",
    "random_walk": "agents.search.random_agents:make_random_walk",
    "mcts": "agents.search.mcts:MCTSAgent",
    "transformer": "agents.transformer.agent:TransformerAgent",
    "ppo": "agents.rl.agent:make_ppo_agent",
    "dqn": "agents.rl.agent:make_dqn_agent",
    "rppo": "agents.rl.agent:make_rppo_agent",
    "deepthinking": "agents.deepthinking.agent:DeepThinkingAgent",
}
"""The built-in agents: search agents (numpy/numba) and the learned agents (torch, SB3)."""

SEARCH_AGENTS: frozenset[str] = frozenset(
    name for name, entry in BUILTIN_ENTRY_POINTS.items() if entry.startswith("agents.search.")
)
"""Names of the built-in search agents: those of :mod:`agents.search` (``mcts`` counts as search
only without a learned ``prior=``; see :func:`is_search_agent`)."""


class AgentImportError(ImportError, ValueError):
    """An agent's entry point cannot be imported (a missing module, dependency or attribute).

    A ``ValueError`` too, so the command line prints it as a clean ``error:`` line.
    """


@dataclass(frozen=True)
class Parameter:
    """One keyword parameter of an agent factory.

    Attributes:
        name: the keyword.
        default: its default (``inspect.Parameter.empty`` when required).
        annotation: the annotation as written (a string under ``from __future__ import annotations``).
    """

    name: str
    default: Any = inspect.Parameter.empty
    annotation: str = ""

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    def __str__(self) -> str:
        if self.required:
            return f"{self.name} (required)"
        return f"{self.name}={getattr(self.default, '__name__', None) or json_repr(self.default)}"


def json_repr(value: Any) -> str:
    """``value`` as written in a spec: JSON where it is JSON (``null``, ``1.4``, ``"x"``), else repr."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


class AgentRegistry(Mapping[str, Factory]):
    """Agent factories by name, loaded on first use from their entry points.

    It is a read-only ``Mapping``: ``name in AGENTS`` and ``sorted(AGENTS)`` import nothing;
    ``AGENTS[name]`` imports that agent's module and returns its factory. Register with
    :meth:`register` (or :func:`register_agent`).
    """

    def __init__(self, entry_points: Mapping[str, str] | None = None) -> None:
        self._entry_points: dict[str, str] = {}
        self._loaded: dict[str, Factory] = {}
        for name, entry_point in (entry_points or {}).items():
            self.register(name, entry_point)

    # -- registration -------------------------------------------------------------------------
    def register(self, name: str, entry_point: str | Factory, *, replace: bool = False) -> None:
        """Register ``name`` -> ``entry_point`` (``"package.module:attribute"``, or the factory).

        A factory object is recorded by its import path (``module:qualname``) and kept, so it is
        not imported again. Registering the same entry point twice is a no-op; another entry
        point under a taken name needs ``replace=True``.

        Raises:
            ValueError: for a bad name or entry point, or a name taken by another entry point.
        """
        if not isinstance(name, str) or not name or any(ch in name for ch in ":,= "):
            raise ValueError(
                f"bad agent name {name!r}: a non-empty string without ':', ',', '=' or spaces"
            )
        factory = None
        if callable(entry_point) and not isinstance(entry_point, str):
            factory = entry_point
            entry_point = f"{factory.__module__}:{factory.__qualname__}"
        module, sep, attr = str(entry_point).partition(":")
        if not (sep and module and attr):
            raise ValueError(
                f"bad entry point {entry_point!r} for agent {name!r}: write 'package.module:factory'"
            )
        old = self._entry_points.get(name)
        if old is not None and old != entry_point and not replace:
            raise ValueError(
                f"agent {name!r} is already registered as {old!r}; "
                f"pass replace=True to register {entry_point!r} instead"
            )
        if old != entry_point:
            self._loaded.pop(name, None)
        self._entry_points[name] = entry_point
        if factory is not None:
            self._loaded[name] = factory

    def entry_point(self, name: str) -> str:
        """The entry point string of ``name`` (``ValueError`` listing the known names otherwise)."""
        self.check_name(name)
        return self._entry_points[name]

    def check_name(self, name: str) -> None:
        if name not in self._entry_points:
            raise ValueError(f"unknown agent {name!r}; known: {', '.join(sorted(self))}")

    # -- loading ------------------------------------------------------------------------------
    def load(self, name: str) -> Factory:
        """Import and return the factory of ``name``.

        Raises:
            ValueError: unknown name.
            AgentImportError: the module or attribute cannot be imported (names both).
        """
        if name in self._loaded:
            return self._loaded[name]
        entry_point = self.entry_point(name)
        module_name, _, attr = entry_point.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except Exception as err:  # noqa: BLE001  (any import failure: report it, naming the agent)
            raise AgentImportError(
                f"agent {name!r} ({entry_point}) cannot be imported: {type(err).__name__}: {err}"
            ) from err
        if not callable(obj):
            raise AgentImportError(f"agent {name!r} ({entry_point}) is not callable: {obj!r}")
        self._loaded[name] = obj
        return obj

    def parameters(self, name: str) -> list[Parameter]:
        """The keyword parameters of ``name``'s factory (imports it), from ``inspect.signature``."""
        return factory_parameters(self.load(name))

    # -- Mapping ------------------------------------------------------------------------------
    def __getitem__(self, name: str) -> Factory:
        if name not in self._entry_points:
            raise KeyError(name)
        return self.load(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entry_points

    def __iter__(self) -> Iterator[str]:
        return iter(self._entry_points)

    def __len__(self) -> int:
        return len(self._entry_points)

    def entry_points(self) -> dict[str, str]:
        """``{name: entry point}`` for every registered agent (imports nothing)."""
        return dict(self._entry_points)


def factory_parameters(factory: Callable[..., Any]) -> list[Parameter]:
    """Keyword parameters of a class (its ``__init__``) or function, ``self`` and ``*args`` left out."""
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [
        Parameter(p.name, p.default, _annotation(p.annotation))
        for p in sig.parameters.values()
        if p.kind in kinds
    ]


def _annotation(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    return (
        annotation
        if isinstance(annotation, str)
        else getattr(annotation, "__name__", str(annotation))
    )


def accepts_any_keyword(factory: Callable[..., Any]) -> bool:
    """Whether ``factory`` takes ``**kwargs`` (then unknown keywords cannot be caught early)."""
    try:
        params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


AGENTS = AgentRegistry(BUILTIN_ENTRY_POINTS)
"""Every registered agent by name (lazy: see :class:`AgentRegistry`)."""


def register_agent(
    name: str, entry_point: str | Factory | None = None, *, replace: bool = False
) -> Any:
    """Register an agent: ``register_agent("mine", "my_package.agents:MyAgent")``.

    Args:
        name: the name used in specs (``mine:key=value``).
        entry_point: ``"package.module:factory"`` (imported when first built), or the factory
            itself. Omitted, this returns a decorator that registers the decorated factory (kept
            for code written against the first registry; new code passes the string).
        replace: allow replacing another entry point registered under ``name``.

    Returns:
        ``None``, or the decorator when ``entry_point`` is omitted.
    """
    if entry_point is None:

        def wrap(factory: Factory) -> Factory:
            AGENTS.register(name, factory, replace=replace)
            return factory

        return wrap
    AGENTS.register(name, entry_point, replace=replace)
    return None


# -- specs ------------------------------------------------------------------------------------
def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_agent_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into the name and typed keyword arguments.

    Values are JSON where they parse (``3``, ``0.5``, ``true``, ``null``, ``"x"``), else strings
    (``ckpt=checkpoints/tiny``).

    Raises:
        ValueError: for an item without ``=`` or an empty name.
    """
    if not isinstance(spec, str):
        raise ValueError(f"an agent spec is a string like 'mcts:simulations=50', got {spec!r}")
    name, _, rest = spec.partition(":")
    kwargs: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ValueError(
                f"bad agent parameter {item!r} in {spec!r}; write name:key=value,key=value"
            )
        kwargs[key.strip()] = _parse_value(value.strip())
    if not name.strip():
        raise ValueError(f"agent spec {spec!r} has no name; known: {', '.join(sorted(AGENTS))}")
    return name.strip(), kwargs


def is_search_agent(spec: str) -> bool:
    """True when ``spec`` is a search agent: a name in :data:`SEARCH_AGENTS`, and for ``mcts``
    no ``prior=`` checkpoint (a model-guided search is a learned agent).

    Decided from the spec string alone, so a ``results.json`` read anywhere gives the same answer
    (whatever is registered in that process); a spec that does not parse is not a search agent.
    The one home of this rule: the report (:mod:`agents.harness.answer`, the figures and tables)
    calls it.
    """
    try:
        name, kwargs = parse_agent_spec(spec)
    except ValueError:
        return False
    if name == "mcts" and kwargs.get("prior"):
        return False
    return name in SEARCH_AGENTS


def describe_parameters(name: str) -> str:
    """``"simulations=100, c_uct=1.4, ..."`` for ``name`` (imports its module), or ``"none"``."""
    params = AGENTS.parameters(name)
    return ", ".join(map(str, params)) if params else "none"


def check_parameters(name: str, kwargs: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` naming the agent's parameters if ``kwargs`` has one it does not take."""
    factory = AGENTS.load(name)
    if accepts_any_keyword(factory):
        return
    params = factory_parameters(factory)
    known = {p.name for p in params}
    unknown = [k for k in kwargs if k not in known]
    missing = [p.name for p in params if p.required and p.name not in kwargs]
    if unknown or missing:
        what = (
            f"has no parameter {', '.join(map(repr, unknown))}"
            if unknown
            else f"needs {', '.join(map(repr, missing))}"
        )
        raise ValueError(
            f"bad parameters for agent {name!r}: it {what}; "
            f"its parameters: {', '.join(map(str, params)) or 'none'}"
        )


def make_agent(spec: str, **overrides: Any) -> Agent:
    """Build an agent from a spec string such as ``"astar"`` or ``"mcts:simulations=200"``.

    Args:
        spec: ``name:key=value,...`` (see :func:`parse_agent_spec`).
        **overrides: keyword arguments that win over the spec's (e.g. ``seed=``, a ``prior_fn``).

    Raises:
        ValueError: unknown agent, unknown or missing parameter (listing the agent's parameters
            with their defaults), or a value the agent rejects.
        AgentImportError: the agent's module cannot be imported.
    """
    name, kwargs = parse_agent_spec(spec)
    AGENTS.check_name(name)
    kwargs.update(overrides)
    check_parameters(name, kwargs)
    try:
        return AGENTS[name](**kwargs)
    except TypeError as err:
        raise ValueError(
            f"bad parameters for agent {name!r}: {err}; its parameters: {describe_parameters(name)}"
        ) from None

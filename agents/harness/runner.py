"""Run every agent on every suite, judge every trajectory, write the run folder.

``run_comparison(agents, suites, out_dir)`` writes into ``out_dir``:

- ``config.json``: everything needed to rerun (agent specs, full suite definitions, n per suite,
  seed, shard, package versions); rewritten atomically.
- ``predictions.jsonl.gz``: one row per (agent, suite, task index), a gzip member appended and
  flushed per finished chunk: ``{"agent", "suite", "index", "origin", "target", "trajectory",
  "metrics"}`` where ``trajectory`` is :meth:`agents.base.Trajectory.to_json` and ``metrics`` the
  metrics module's per-task record (stored compactly: :mod:`agents.harness.run_folder`). A rerun
  into the same folder skips rows already there (resume).
- ``results.json``, ``report.md``, ``report.html``, ``figures/`` (see :mod:`agents.harness.report`);
  a shard writes none of these: ``merge`` joins the shards and writes them.

Reproducibility: tasks depend only on the suites, ``n`` and ``seed``; every agent is built from
its spec string (with ``seed=`` the run seed when the agent takes one and the spec does not set
it), once in the main process (to check it and name it) and once per worker process, never per
chunk, and draws a private stream per task, so rows do not depend on ``workers``, on chunking or
on sharding. Work is split in chunks of one (agent, suite) and consecutive task indices; shard
``i`` of ``k`` owns the tasks whose index is ``i`` modulo ``k``.

Torch agents: workers start with the spawn method when an agent's class sets
``start_method = "spawn"``; each worker limits torch to ``cores // workers`` threads, so N workers
never oversubscribe the cores. :func:`solve_chunk` (one chunk in, its rows out) is the unit any
other execution backend can call.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.harness.lifeline import die_with_parent, stop_workers
from agents.harness.metrics import compute_metrics
from agents.harness.run_folder import (
    Key,
    PredictionWriter,
    atomic_write_json,
    done_keys,
    iter_predictions,
    load_config,
    write_predictions,
)
from agents.harness.run_suites import config_suite_data, suite_data
from agents.harness.suites import DEFAULT_N, Suite, SuiteData, resolve_suites
from agents.harness.user_suites import is_user_suite, load_user_suite
from agents.registry import AGENTS, factory_parameters, make_agent, parse_agent_spec

BASELINE = "random_fork"
"""The agent whose success rate is every suite's difficulty; always run beside the others."""
DEFAULT_AGENTS = (
    "bfs",
    "astar",
    "dfs",
    "greedy",
    "random_fork",
    "random_walk",
    "mcts:simulations=100",
)
"""The search agents of the default comparison (mcts at a real budget: 100 simulations)."""
QUICK_AGENTS = ("bfs", "astar", "dfs", "random_fork", "mcts:simulations=5")
"""Cheap settings for ``--quick``."""
QUICK_N = 20
"""Tasks per suite with ``quick=True`` when ``n`` is not given."""
CHUNK = 50
"""Tasks per unit of work."""


@dataclass(frozen=True)
class Chunk:
    """A unit of work: one agent on consecutive tasks of one suite."""

    agent: str
    suite: str
    indices: tuple[int, ...]


# -- agents -------------------------------------------------------------------------------------
def build_agent(spec: str, seed: int) -> Any:
    """The agent for ``spec``, seeded with the run seed unless the spec sets ``seed`` itself.

    Raises:
        ValueError: unknown agent or bad parameters (naming the agent's parameters).
        agents.registry.AgentImportError: the agent's module cannot be imported.
    """
    name, kwargs = parse_agent_spec(spec)
    takes_seed = any(p.name == "seed" for p in factory_parameters(AGENTS.load(name)))
    return make_agent(spec, seed=seed) if takes_seed and "seed" not in kwargs else make_agent(spec)


def build_agents(specs: Sequence[str], seed: int = 0) -> dict[str, Any]:
    """Check and build each spec once: ``{spec: agent}`` (errors name what is allowed)."""
    out: dict[str, Any] = {}
    for spec in specs:
        spec = spec.strip()
        if spec not in out:
            out[spec] = build_agent(spec, seed)
    if not out:
        raise ValueError(f"no agents given; known: {', '.join(sorted(AGENTS))}")
    return out


def check_agents(specs: Sequence[str], seed: int = 0) -> dict[str, str]:
    """Validate agent specs by building each once: ``{spec: agent name}``."""
    return {spec: agent_name(spec, a) for spec, a in build_agents(specs, seed).items()}


def agent_name(spec: str, agent: Any) -> str:
    return str(getattr(agent, "name", spec))


def agent_info(spec: str, agent: Any) -> dict[str, Any]:
    """What the report needs to know about an agent: its name and, for a learned one, the
    training set it was trained on (the agent's ``training_set`` attribute, else the
    ``meta.json`` of the checkpoint folder given as ``ckpt=`` or ``prior=``), ``None`` for search."""
    training_set = getattr(agent, "training_set", None)
    if training_set is None:
        _, kwargs = parse_agent_spec(spec)
        for key in ("ckpt", "prior"):
            meta = Path(str(kwargs.get(key, ""))) / "meta.json"
            if kwargs.get(key) and meta.is_file():
                try:
                    training_set = json.loads(meta.read_text(encoding="utf-8")).get("training_set")
                except (OSError, ValueError):
                    training_set = None
                break
    return {"name": agent_name(spec, agent), "training_set": training_set}


# -- suites -------------------------------------------------------------------------------------
def suite_n(suite: Suite, n: int | None, quick: bool) -> int:
    """Tasks for ``suite``: the run's ``n``, else the suite's own, else the default. A user
    suite (loaded from a file) has only its file's tasks: ``min(requested, available)``."""
    if n is not None and n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if is_user_suite(suite):
        wanted = n if n is not None else (QUICK_N if quick else suite.n)
        return int(min(wanted or suite.n, suite.n))
    if n is not None:
        return int(n)
    return QUICK_N if quick else int(suite.n or DEFAULT_N)


USER_SUITE_SUFFIXES = (".yaml", ".yml", ".json")
"""``--suites-file`` with one of these suffixes is a suite definition file; any other file is a
user suite's data (``.npz`` or AOTP text, :mod:`agents.harness.user_suites`)."""


def is_definition_file(path: str | Path) -> bool:
    """True if ``path`` is a YAML/JSON suite definition file, False for a user data file."""
    return Path(path).suffix.lower() in USER_SUITE_SUFFIXES


def resolve_run_suites(
    suites: Sequence[str | Suite], suites_file: str | Path | None
) -> tuple[list[Suite], dict[str, SuiteData]]:
    """The run's suites and the data of any user suite loaded from ``suites_file``.

    ``suites_file``: a YAML/JSON definition file (its suites can be named in ``suites``), or a
    dataset ``.npz`` / AOTP text file: that file becomes one more suite (named after the file),
    run after ``suites``.
    """
    if suites_file is None or is_definition_file(suites_file):
        return resolve_suites(list(suites), suites_file), {}
    suite, data = load_user_suite(suites_file)
    rest = [s for s in suites if not (isinstance(s, str) and s == suite.name)]
    resolved = resolve_suites(rest) if rest else []
    if any(s.name == suite.name for s in resolved):
        raise ValueError(
            f"user suite {suite.name!r} (from {suites_file}) has the name of a built-in suite; "
            "rename the file"
        )
    return [*resolved, suite], {suite.name: data}


# -- planning -----------------------------------------------------------------------------------
def parse_shard(shard: str | Sequence[int] | None) -> tuple[int, int] | None:
    """``"i/k"`` or ``(i, k)`` as ``(i, k)`` with ``0 <= i < k``; ``None`` for no sharding."""
    if shard is None:
        return None
    try:
        i, k = (int(v) for v in (shard.split("/") if isinstance(shard, str) else shard))
    except (TypeError, ValueError):
        raise ValueError(f"shard must look like i/k (e.g. 0/4), got {shard!r}") from None
    if not 0 <= i < k:
        raise ValueError(f"shard i/k needs 0 <= i < k, got {i}/{k}")
    return (i, k)


def plan_chunks(
    agents: Sequence[str],
    suites: Sequence[Suite],
    ns: dict[str, int],
    shard: tuple[int, int] | None = None,
    done: set[Key] | frozenset[Key] = frozenset(),
    chunk_size: int = CHUNK,
) -> list[Chunk]:
    """The work left, biggest mazes first (so the slowest chunks do not finish last)."""
    chunks = []
    for suite in sorted(suites, key=lambda s: -s.shape[0] * s.shape[1]):
        for agent in agents:
            todo = [
                i
                for i in range(ns[suite.name])
                if (shard is None or i % shard[1] == shard[0])
                and (agent, suite.name, i) not in done
            ]
            for j in range(0, len(todo), chunk_size):
                chunks.append(Chunk(agent, suite.name, tuple(todo[j : j + chunk_size])))
    return chunks


# -- one chunk ---------------------------------------------------------------------------------
def solve_chunk(agent: Any, chunk: Chunk, suite_data: SuiteData) -> list[dict[str, Any]]:
    """Solve and judge one chunk: its prediction rows (see the module docstring), in index order.

    A pure function of its arguments (given a deterministic agent): the unit of work that any
    execution backend (processes here, or another) runs.

    Args:
        agent: the built agent for ``chunk.agent``.
        chunk: which tasks.
        suite_data: the suite ``chunk.suite`` with its tasks.
    """
    sd = suite_data
    tasks = [sd.dataset[i] for i in chunk.indices]
    trajectories = agent.solve_batch(tasks)
    region = sd.suite.metadata.get("training_target_region")
    rows = []
    for i, task, traj in zip(chunk.indices, tasks, trajectories, strict=True):
        metrics = compute_metrics(task, traj, region=region)
        rows.append(
            {
                "agent": chunk.agent,
                "suite": chunk.suite,
                "index": i,
                "origin": list(task.origin),
                "target": list(task.target),
                "trajectory": traj.to_json(),
                "metrics": metrics.to_dict(),
            }
        )
    return rows


# -- workers ------------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    """Torch threads for each of ``workers`` processes: ``max(1, cores // workers)``."""
    return max(1, cores() // max(1, workers))


def _limit_torch_threads(threads: int | None) -> None:
    """``torch.set_num_threads(threads)`` if torch is loaded in this process (never imports it)."""
    if threads is not None and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def _init_worker(
    data: dict[str, SuiteData],
    seed: int,
    threads: int | None = None,
    entry_points: Mapping[str, str] | None = None,
    agents: Mapping[str, Any] | None = None,
) -> None:
    """Set up a worker (or the main process, ``agents`` prebuilt, when ``workers == 1``)."""
    if threads is not None:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # read by torch when first imported
            os.environ[var] = str(threads)
    for name, entry_point in (entry_points or {}).items():  # user agents, under spawn
        if name not in AGENTS:
            AGENTS.register(name, entry_point)
    _WORKER.clear()
    _WORKER.update(data=data, seed=seed, threads=threads, agents=dict(agents or {}))
    _limit_torch_threads(threads)


def _init_pool_worker(parent_pid: int, *args: Any) -> None:
    """A pool worker's initializer: exit with the parent (:mod:`agents.harness.lifeline`), then
    :func:`_init_worker`."""
    die_with_parent(parent_pid)
    _init_worker(*args)


def worker_agent(spec: str) -> Any:
    """This process's agent for ``spec``, built on first use only (once per worker)."""
    agents = _WORKER["agents"]
    if spec not in agents:
        agents[spec] = build_agent(spec, _WORKER["seed"])
        _limit_torch_threads(_WORKER["threads"])
    return agents[spec]


def _run_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """Solve and judge one chunk with this process's agent (in a worker, or inline)."""
    return solve_chunk(worker_agent(chunk.agent), chunk, _WORKER["data"][chunk.suite])


def start_method(agents: Mapping[str, Any]) -> str | None:
    """``"spawn"`` if any agent asks for it (class attribute ``start_method``), else ``None``
    (the platform's default)."""
    wanted = {getattr(a, "start_method", None) for a in agents.values()}
    return "spawn" if "spawn" in wanted else None


def _execute(
    chunks: list[Chunk],
    data: dict[str, SuiteData],
    seed: int,
    workers: int,
    agents: Mapping[str, Any] | None = None,
) -> Iterator[list[dict]]:
    """Yield each chunk's rows as it finishes.

    Args:
        chunks: the work.
        data: every suite's tasks.
        seed: the run seed.
        workers: processes (1: inline, with ``agents`` if given).
        agents: prebuilt agents by spec (inline reuse; their ``start_method`` picks the pool's).
    """
    agents = dict(agents or {})
    if workers <= 1 or len(chunks) <= 1:
        _init_worker(data, seed, agents=agents)
        for chunk in chunks:
            yield _run_chunk(chunk)
        return
    method = start_method(agents)
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context(method) if method else None,
        initializer=_init_pool_worker,
        initargs=(os.getpid(), data, seed, threads_per_worker(workers), AGENTS.entry_points()),
    )
    pending, running = list(reversed(chunks)), set()
    try:
        while pending or running:
            while pending and len(running) < 4 * workers:  # a bounded queue: little lost on ^C
                running.add(pool.submit(_run_chunk, pending.pop()))
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                yield fut.result()
    except BaseException:  # Ctrl-C, SIGTERM (lifeline.sigterm_as_interrupt), a failed chunk
        stop_workers(pool)  # do not wait for the chunks in flight
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


BACKENDS = ("local", "ray")
"""Where chunks run: processes here, or Ray tasks (a local instance or a cluster)."""


def _execute_ray(
    chunks: list[Chunk],
    data: dict[str, SuiteData],
    seed: int,
    workers: int,
    address: str | None,
) -> Iterator[list[dict]]:
    """Yield each chunk's rows as its Ray task finishes (:func:`agents.harness.ray_backend.iter_chunks_ray`).

    Each Ray worker process runs ``_init_worker`` once (suites, seed, one torch thread, the
    registered agents' entry points), then ``_run_chunk`` per chunk: the same functions as the
    local pool, so the rows are the same. A local instance (``address=None``) gets ``workers`` CPUs.
    """
    from agents.harness.ray_backend import iter_chunks_ray

    if not chunks:
        return
    for _, rows in iter_chunks_ray(
        chunks,
        _run_chunk,
        address,
        init_fn=_init_worker,
        init_args=(data, seed, 1, AGENTS.entry_points()),
        num_cpus=workers,
    ):
        yield rows


# -- the run ------------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    """Versions of the packages that determine results."""
    import platform
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("mazebench", "numpy", "numba"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def make_config(
    agents: Mapping[str, Mapping[str, Any]],
    suites: list[Suite],
    ns: dict[str, int],
    seed: int,
    shard: tuple[int, int] | None,
    quick: bool,
) -> dict[str, Any]:
    """The ``config.json`` dict: what determines the rows, and the versions that produced them.

    Args:
        agents: ``{spec: agent_info(...)}`` for the requested agents.
    """
    return {
        "format": 1,
        "agents": list(agents),
        "agent_names": {spec: info["name"] for spec, info in agents.items()},
        "agent_info": {spec: dict(info) for spec, info in agents.items()},
        "baseline": BASELINE,
        "suites": [s.to_dict() for s in suites],
        "n": ns,
        "seed": seed,
        "shard": list(shard) if shard else None,
        "quick": quick,
        "versions": versions(),
    }


def _check_resumable(old: dict[str, Any], new: dict[str, Any], out_dir: Path) -> None:
    """A rerun into ``out_dir`` must produce the same rows as the first run did."""
    fields = [k for k in ("seed", "shard") if old.get(k) != new.get(k)]
    old_suites = {s["name"]: (s, old["n"].get(s["name"])) for s in old.get("suites", [])}
    for s in new["suites"]:
        if s["name"] in old_suites and old_suites[s["name"]] != (s, new["n"][s["name"]]):
            fields.append(f"suite {s['name']}")
    if fields:
        raise ValueError(
            f"{out_dir} holds a comparison with other settings ({', '.join(fields)} differ); "
            "use a new --out folder, or delete that folder to start again"
        )


def run_comparison(
    agents: Sequence[str],
    suites: Sequence[str | Suite],
    out_dir: str | Path,
    n: int | None = None,
    seed: int = 0,
    workers: int = 1,
    shard: tuple[int, int] | str | None = None,
    quick: bool = False,
    progress: bool = True,
    *,
    suites_file: str | Path | None = None,
    cache_dir: str | Path | None = None,
    chunk_size: int = CHUNK,
    report: bool = True,
    backend: str = "local",
    address: str | None = None,
) -> Path:
    """Run ``agents`` on ``suites`` and write the run folder (see the module docstring).

    Args:
        agents: agent specs (``"mcts:simulations=50"``).
        suites: suite or group names (see :mod:`agents.harness.suites`) or :class:`Suite` objects.
        out_dir: the run folder; an existing one with the same settings is resumed.
        n: tasks per suite (default: the suite's own ``n``, else 1000; 20 with ``quick``).
        seed: run seed: fixes the tasks and the agents' random streams.
        workers: processes; results do not depend on it.
        shard: ``(i, k)`` or ``"i/k"``: run only the tasks whose index is ``i`` mod ``k``.
        quick: small default ``n``.
        progress: show progress (a tqdm bar on a terminal, log lines otherwise).
        suites_file: YAML/JSON file of suite definitions (names from it can be used in
            ``suites``), or a dataset ``.npz`` / AOTP text file: one more suite made of the
            file's tasks (``n`` = min(requested, the file's), see :func:`resolve_run_suites`).
        cache_dir: dataset cache (``None``: generate in memory).
        chunk_size: tasks per unit of work (does not change results).
        report: render the report after the results.
        backend: ``"local"`` (processes on this machine) or ``"ray"`` (the chunks as Ray tasks,
            :mod:`agents.harness.ray_backend`); rows do not depend on it.
        address: the Ray cluster's address (``None``: a private local instance with
            ``workers`` CPUs); only with ``backend="ray"``.

    Returns:
        ``out_dir`` as a Path.
    """
    out_dir = Path(out_dir)
    resolved, user_data = resolve_run_suites(list(suites), suites_file)
    shard = parse_shard(shard)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if address is not None and backend != "ray":
        raise ValueError(f"address={address!r} needs backend='ray'")
    built = build_agents(agents, seed)
    if BASELINE not in built:
        built[BASELINE] = build_agent(BASELINE, seed)
    requested = list(dict.fromkeys(spec.strip() for spec in agents))
    info = {spec: agent_info(spec, built[spec]) for spec in requested}
    ns = {s.name: suite_n(s, n, quick) for s in resolved}
    config = make_config(info, resolved, ns, seed, shard, quick)
    out_dir.mkdir(parents=True, exist_ok=True)
    if (out_dir / "config.json").exists():
        _check_resumable(load_config(out_dir), config, out_dir)
    atomic_write_json(out_dir / "config.json", config)
    data = suite_data(resolved, ns, seed, cache_dir, user_data)
    chunks = plan_chunks(list(built), resolved, ns, shard, done_keys(out_dir), chunk_size)
    seconds = _run_chunks(
        chunks, data, seed, workers, out_dir, progress, built, backend=backend, address=address
    )
    if shard is None:
        run = {
            "backend": backend,
            "workers": workers,
            "solve_seconds": round(seconds, 3),
            "tasks_run": sum(len(c.indices) for c in chunks),
        }
        finalize(out_dir, data=data, report=report, run=run)
    return out_dir


def _run_chunks(
    chunks: list[Chunk],
    data: dict[str, SuiteData],
    seed: int,
    workers: int,
    out_dir: Path,
    show_progress: bool,
    agents: Mapping[str, Any] | None = None,
    *,
    backend: str = "local",
    address: str | None = None,
) -> float:
    """Run ``chunks``, appending their rows to the folder's predictions as they finish; returns
    the wall seconds. Progress: a tqdm bar on a terminal, a log line every 10 s otherwise; the
    time left is :class:`agents.harness.progress.CostEstimator`'s (cost per (agent, suite) and
    maze cell), fed the wall time between two finished chunks times ``workers``."""
    bar = estimator = None
    if show_progress and chunks:
        from agents.harness.progress import CostEstimator, Unit, progress

        def unit(agent: str, suite: str, tasks: int) -> Unit:
            rows_, cols_ = data[suite].suite.shape[:2]
            return Unit((agent, suite), tasks, int(rows_) * int(cols_))

        bar = progress(sum(len(c.indices) for c in chunks), "compare", "task")
        estimator = CostEstimator(
            (unit(c.agent, c.suite, len(c.indices)) for c in chunks), min(workers, len(chunks))
        )
    t0 = last = time.perf_counter()
    try:
        with PredictionWriter(out_dir) as writer:
            if backend == "ray":
                results = _execute_ray(chunks, data, seed, workers, address)
            else:
                results = _execute(chunks, data, seed, workers, agents)
            with contextlib.closing(results):  # an interrupt here still stops the workers
                for rows in results:
                    writer.write(rows)
                    if bar is not None and estimator is not None:
                        now, agent, suite = time.perf_counter(), rows[0]["agent"], rows[0]["suite"]
                        spent, last = (now - last) * estimator.workers, now
                        estimator.done(unit(agent, suite, len(rows)), spent)
                        bar.set_left(estimator.seconds_left())
                        bar.set_postfix_str(f"{agent} on {suite}", refresh=False)
                        bar.update(len(rows))
    finally:
        if bar is not None:
            bar.close()
        _WORKER.clear()
    return time.perf_counter() - t0


def finalize(
    out_dir: str | Path,
    data: dict[str, SuiteData] | None = None,
    report: bool = True,
    run: dict[str, Any] | None = None,
) -> Path:
    """Aggregate the folder's predictions into ``results.json`` and render the report.

    Args:
        out_dir: a complete run folder.
        data: the suites' tasks, if already built (else rebuilt from ``config.json``).
        report: render ``report.md``/``report.html``/``figures`` too.
        run: facts about this invocation (workers, seconds) recorded under ``"run"``; ``None``
            keeps those of the folder's previous ``results.json`` (``report --recompute``).
    """
    out_dir = Path(out_dir)
    config = load_config(out_dir)
    if data is None:
        data = config_suite_data(config)
    from agents.harness.report import compute_results

    datasets = {k: v.dataset for k, v in data.items()}
    previous = out_dir / "results.json"
    if run is None and previous.exists():  # a re-aggregation keeps the facts of the last run
        run = json.loads(previous.read_text(encoding="utf-8")).get("run")
    rows = iter_predictions(out_dir, decode=False)  # metrics only; trajectories on demand
    results = compute_results(config, rows, datasets, run=run)
    atomic_write_json(out_dir / "results.json", results)
    from agents.harness.answer import write_verdicts

    write_verdicts(out_dir, results)
    if report:
        from agents.harness.report import render_report

        render_report(out_dir, data=data)
    return out_dir / "results.json"


def merge(dirs: Sequence[str | Path], out: str | Path, report: bool = True) -> Path:
    """Join shard folders (same settings, different ``shard``) into one complete run in ``out``."""
    if not dirs:
        raise ValueError("merge needs at least one run folder")
    out = Path(out)
    configs = [load_config(Path(d)) for d in dirs]
    ignore = ("shard", "versions", "merged_from")
    base = {k: v for k, v in configs[0].items() if k not in ignore}
    for d, c in zip(dirs, configs, strict=True):
        other = {k: v for k, v in c.items() if k not in ignore}
        if other != base:
            diff = sorted(k for k in set(base) | set(other) if base.get(k) != other.get(k))
            raise ValueError(f"cannot merge {d}: its settings differ from {dirs[0]} in {diff}")
    out.mkdir(parents=True, exist_ok=True)
    config = {**configs[0], "shard": None, "merged_from": [str(d) for d in dirs]}
    atomic_write_json(out / "config.json", config)

    def rows() -> Iterator[dict[str, Any]]:
        seen: set[Key] = set()
        for d in dirs:
            for r in iter_predictions(Path(d), decode=False):
                key = (r["agent"], r["suite"], r["index"])
                if key not in seen:
                    seen.add(key)
                    yield r

    write_predictions(out, rows())
    finalize(out, report=report)
    return out

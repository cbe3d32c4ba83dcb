"""Run the runner's chunks as Ray tasks, on a local Ray instance or a cluster.

Ray is an optional extra (``pip install mazebench[ray]``); it is imported only when a function
here is called. The runner's unit of work is a chunk (one agent on consecutive tasks of one suite)
and its rows depend only on the chunk, never on where it runs (agents draw a private random stream
per task), so the rows of a Ray run equal those of a local run.

How it runs: the per-run state the chunk function needs (the suites' tasks, the run seed) goes
into Ray's object store once (``ray.put``); each Ray worker process calls ``init_fn(*init_args)``
the first time it meets this run (not once per chunk), then ``run_chunk_fn(chunk)``. At most
``max_in_flight`` chunks are submitted at a time, so an interrupted run loses little. Functions
are sent by reference: they must be importable on every node (install the same mazebench there).

A cluster: ``ray start --head`` on one machine (it prints the address), ``ray start
--address=HEAD:6379`` on the others, then pass ``address="HEAD:6379"`` (or ``"auto"`` on a node of
the cluster). ``address=None`` starts a private local instance for the call and stops it after.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_STATE: dict[str, Any] = {"key": None}
"""Per Ray worker process: which run's ``init_fn`` has been called here."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError(
            "the Ray backend needs ray: pip install 'mazebench[ray]' (or pip install ray)"
        ) from None
    return ray


def _task(
    run_chunk_fn: Callable[[Any], Any],
    chunk: Any,
    init_fn: Callable[..., Any] | None,
    key: str,
    boxed_args: list,
) -> Any:
    """One chunk in a Ray worker: initialize the worker for run ``key`` once, then run the chunk.

    ``boxed_args`` is ``[ObjectRef]``: wrapped in a list so Ray does not fetch the (large) shared
    arguments for every chunk, only when this worker initializes.
    """
    if init_fn is not None and _STATE["key"] != key:
        ray = _import_ray()
        init_fn(*ray.get(boxed_args[0]))
        _STATE["key"] = key
    return run_chunk_fn(chunk)


def iter_chunks_ray(
    chunks: Sequence[Any],
    run_chunk_fn: Callable[[Any], Any],
    address: str | None = None,
    *,
    init_fn: Callable[..., Any] | None = None,
    init_args: tuple = (),
    num_cpus: int | None = None,
    cpus_per_chunk: float = 1,
    max_in_flight: int | None = None,
    runtime_env: dict[str, Any] | None = None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(chunk position, run_chunk_fn(chunk))`` as each Ray task finishes.

    Args:
        chunks: the work; each item must pickle.
        run_chunk_fn: a module-level (importable) function of one chunk.
        address: a Ray cluster's address (``"HOST:6379"``, ``"auto"``, ``"ray://HOST:10001"``),
            or ``None`` for a local instance (started here and stopped at the end, unless Ray is
            already initialized in this process, which is then used as it is).
        init_fn: called as ``init_fn(*init_args)`` once per worker process before its first chunk
            (the runner's worker initializer).
        init_args: its arguments, shipped once through the object store.
        num_cpus: CPUs of the local instance (``None``: all); ignored with ``address``.
        cpus_per_chunk: Ray CPUs reserved by each task.
        max_in_flight: most tasks submitted at once (default: 2 x the cluster's CPUs, at least 2).
        runtime_env: passed to ``ray.init`` (e.g. ``{"working_dir": "."}`` for a cluster without
            the package installed).
    """
    ray = _import_ray()
    started = not ray.is_initialized()
    if started:
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": True}
        if address is None:
            kwargs["num_cpus"] = num_cpus
        if runtime_env is not None:
            kwargs["runtime_env"] = runtime_env
        previous = signal.getsignal(signal.SIGTERM)
        ray.init(address=address, **kwargs)
        if previous is not signal.SIG_DFL and previous is not None:
            # ray.init installs its own SIGTERM handler (a stack dump and exit); keep ours
            # (lifeline.sigterm_as_interrupt), so `kill PID` unwinds here and shuts Ray down
            signal.signal(signal.SIGTERM, previous)
    refs: dict[Any, int] = {}
    try:
        if max_in_flight is None:
            max_in_flight = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=cpus_per_chunk, max_retries=0)(_task)
        boxed = [ray.put(tuple(init_args))]
        key = uuid.uuid4().hex
        todo = list(enumerate(chunks))[::-1]
        while todo or refs:
            while todo and len(refs) < max_in_flight:
                i, chunk = todo.pop()
                refs[remote.remote(run_chunk_fn, chunk, init_fn, key, boxed)] = i
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                yield refs.pop(ref), ray.get(ref)
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def run_chunks_ray(
    chunks: Sequence[Any],
    run_chunk_fn: Callable[[Any], Sequence[Any]],
    address: str | None = None,
    **kwargs: Any,
) -> list[Any]:
    """Run every chunk as a Ray task; the records of all chunks, concatenated in chunk order.

    ``run_chunk_fn(chunk)`` returns a list of records (the runner's prediction rows); the result
    is what ``[r for c in chunks for r in run_chunk_fn(c)]`` gives locally. Keyword arguments as
    :func:`iter_chunks_ray`.
    """
    results: list[Any] = [None] * len(chunks)
    for i, records in iter_chunks_ray(chunks, run_chunk_fn, address, **kwargs):
        results[i] = records
    return [r for records in results for r in records]

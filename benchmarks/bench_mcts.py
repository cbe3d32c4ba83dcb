"""Benchmark: the batched ``mcts`` against DeepMind's mctx and against the old pure-Python search.

Anchor (the issue's setting): 64 dfs 10x10 tasks (random origin and target, dataset seed 0),
solved move by move with 100 simulations per move and at most 200 moves, on this CPU:

* mctx (``mctx.muzero_policy`` jitted, jax CPU): the maze as its ``recurrent_fn`` (a wall leaves
  the agent in place; reward 1 for entering the target, which ends the episode: discount 0;
  otherwise discount 0.95), uniform prior over open moves (no Dirichlet noise), value 0, the most
  visited root move. Useful simulations: 100 per task per move while the task is unfinished;
* ours, ``mcts:simulations=100,evaluate=zero`` (the same setting: value 0, no prior) and the
  default ``mcts:simulations=100`` (random rollouts), ``solve_batch`` on all 64 tasks; simulations
  counted are those actually run (cells with one open move are not searched);
* the old pure-Python search (``benchmarks/mcts_baseline.py``, the engine before batching) with
  rollouts, task by task.

Every solver runs ``--repeats`` times round-robin (so all see the same stretches of load; the
slow ones fewer times); the table gives the best wall time and the simulations per second.
``--scale`` adds larger batches and budgets; ``--curve`` the budget curve (exact vs simulations
on three suites) and writes it as Markdown to ``--curve-out``. Run it where mctx is installed
(``../shared/tools/peers-venv.sh`` builds .venv-peers)::

    PYTHONPATH=. .venv-peers/bin/python benchmarks/bench_mcts.py [--scale] [--curve] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from agents.search.mcts import MCTSAgent  # noqa: E402
from maze_env import Task  # noqa: E402
from maze_env.dataset import DatasetConfig, MazeDataset  # noqa: E402

Result = tuple[float, int, float]  # (wall seconds, simulations, cpu seconds)


def dfs_tasks(n: int, size: int = 10, seed: int = 0) -> list[Task]:
    return list(
        MazeDataset.from_config(DatasetConfig(generator="dfs", shape=(size, size), n=n, seed=seed))
    )


def timed(fn: Callable[[], int]) -> Result:
    t0, c0 = time.perf_counter(), time.process_time()
    sims = fn()
    return time.perf_counter() - t0, sims, time.process_time() - c0


def ours(tasks: Sequence[Task], spec: dict, max_moves: int) -> Callable[[], int]:
    agent = MCTSAgent(max_steps=max_moves, **spec)
    agent.solve_batch(tasks[:2])  # numba compile / cache load

    def run() -> int:
        return sum(t.extra["simulations"] for t in agent.solve_batch(tasks))

    return run


def old(tasks: Sequence[Task], simulations: int, max_moves: int) -> Callable[[], int]:
    from mcts_baseline import MCTSAgent as OldAgent

    agent = OldAgent(simulations=simulations, max_steps=max_moves)

    def run() -> int:
        return sum(agent.solve(t).extra["simulations"] for t in tasks)

    return run


def mctx_solver(
    tasks: Sequence[Task], simulations: int, max_moves: int
) -> Callable[[], int] | None:
    """mctx's muzero_policy solving ``tasks`` move by move; None when mctx is not installed."""
    try:
        import jax
        import jax.numpy as jnp
        import mctx
    except ImportError:
        return None
    n = len(tasks)
    rows, cols = tasks[0].maze.shape
    nbr = np.full((n, rows * cols, 4), -1, np.int32)
    for b, t in enumerate(tasks):
        moves = t.maze.open_moves().reshape(-1, 4)
        flat = np.arange(rows * cols)
        for a, d in enumerate((-cols, 1, cols, -1)):
            nbr[b, :, a] = np.where(moves[:, a], flat + d, -1)
    target = np.array([t.target[0] * cols + t.target[1] for t in tasks], np.int32)
    origin = np.array([t.origin[0] * cols + t.origin[1] for t in tasks], np.int32)
    params = (jnp.asarray(nbr), jnp.asarray(target))
    batch = jnp.arange(n)

    def logits_at(nbr, cells):  # uniform over open moves
        return jnp.where(nbr[batch, cells] >= 0, 0.0, -1e9).astype(jnp.float32)

    def recurrent_fn(params, rng_key, action, cells):
        nbr, target = params
        nxt = nbr[batch, cells, action]
        nxt = jnp.where(nxt >= 0, nxt, cells)
        done = cells == target
        enter = (nxt == target) & ~done
        out = mctx.RecurrentFnOutput(
            reward=enter.astype(jnp.float32),
            discount=jnp.where(enter | done, 0.0, 0.95).astype(jnp.float32),
            prior_logits=logits_at(nbr, nxt),
            value=jnp.zeros(n, jnp.float32),
        )
        return out, nxt

    @jax.jit
    def act(params, key, cells):
        nbr, _ = params
        root = mctx.RootFnOutput(
            prior_logits=logits_at(nbr, cells), value=jnp.zeros(n, jnp.float32), embedding=cells
        )
        invalid = nbr[batch, cells] < 0
        out = mctx.muzero_policy(params, key, root, recurrent_fn, num_simulations=simulations,
                                 invalid_actions=invalid, dirichlet_fraction=0.0)  # fmt: skip
        visits = jnp.where(invalid, -1, out.search_tree.summary().visit_counts)
        action = jnp.argmax(visits, axis=-1)
        return jnp.where(cells == params[1], cells, nbr[batch, cells, action])

    def run() -> int:
        cells, key, useful = jnp.asarray(origin), jax.random.PRNGKey(0), 0
        for _ in range(max_moves):
            active = int((np.asarray(cells) != target).sum())
            if active == 0:
                break
            useful += simulations * active
            key, sub = jax.random.split(key)
            cells = act(params, sub, cells)
        cells.block_until_ready()
        return useful

    act(params, jax.random.PRNGKey(1), jnp.asarray(origin)).block_until_ready()  # compile
    return run


def round_robin(
    solvers: dict[str, tuple[Callable[[], int], int]], repeats: int
) -> dict[str, list[Result]]:
    out: dict[str, list[Result]] = {name: [] for name in solvers}
    for r in range(repeats):
        for name, (fn, times) in solvers.items():
            if r < times:
                out[name].append(timed(fn))
    return out


def table(results: dict[str, list[Result]], ref: str | None, base: str | None) -> list[str]:
    lines = ["| solver | simulations | best wall s | its CPU s | simulations/s | vs mctx | vs old search |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    rate = {k: max(s / w for w, s, _ in v) for k, v in results.items()}
    for name, runs in results.items():
        w, s, cpu = min(runs)
        vs_ref = f"{rate[name] / rate[ref]:.1f}x" if ref in rate else "-"
        vs_old = f"{rate[name] / rate[base]:.0f}x" if base in rate else "-"
        lines.append(
            f"| {name} | {s:,} | {w:.3f} | {cpu:.3f} | {rate[name]:,.0f} | {vs_ref} | {vs_old} |"
        )
    return lines


def anchor(args: argparse.Namespace) -> None:
    tasks = dfs_tasks(args.n)
    solvers: dict[str, tuple[Callable[[], int], int]] = {}
    mctx_run = mctx_solver(tasks, args.simulations, args.max_moves)
    if mctx_run is not None:
        from importlib.metadata import version

        solvers[f"mctx {version('mctx')} muzero_policy (jax {version('jax')})"] = (mctx_run, 2)
    spec = dict(simulations=args.simulations)
    solvers[f"ours mcts:simulations={args.simulations},evaluate=zero"] = (ours(tasks, {**spec, "evaluate": "zero"}, args.max_moves), args.repeats)  # fmt: skip
    solvers[f"ours mcts:simulations={args.simulations} (rollouts)"] = (ours(tasks, spec, args.max_moves), args.repeats)  # fmt: skip
    for threads in args.threads:
        zero_t = {**spec, "evaluate": "zero", "threads": threads}
        solvers[f"ours mcts:simulations={args.simulations},evaluate=zero,threads={threads}"] = (
            ours(tasks, zero_t, args.max_moves), args.repeats)  # fmt: skip
        solvers[f"ours mcts:simulations={args.simulations},threads={threads} (rollouts)"] = (
            ours(tasks, {**spec, "threads": threads}, args.max_moves), args.repeats)  # fmt: skip
    solvers["old pure-Python mcts (rollouts)"] = (old(tasks, args.simulations, args.max_moves), 1)
    results = round_robin(solvers, args.repeats)
    names = list(results)
    print(f"\n### Anchor: {len(tasks)} dfs 10x10 tasks, {args.simulations} simulations per move, "
          f"at most {args.max_moves} moves\n")  # fmt: skip
    print("\n".join(table(results, names[0] if mctx_run else None, names[-1])))
    if mctx_run is not None:
        r = {k: max(s / w for w, s, _ in v) for k, v in results.items()}
        print(f"\nours evaluate=zero / mctx: {r[names[1]] / r[names[0]]:.1f}x (goal 20x); "
              f"ours rollouts / old: {r[names[2]] / r[names[-1]]:.0f}x (goal 100x)")  # fmt: skip


def scale(args: argparse.Namespace) -> None:
    print("\n### Larger batches and budgets (dfs 10x10, at most 200 moves; mctx capped at "
          f"{args.mctx_moves} moves where marked)\n")  # fmt: skip
    print("| solver | tasks | simulations per move | simulations | best wall s | simulations/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for n, sims in ((64, 1000), (256, 100), (1024, 100), (256, 1000)):
        tasks = dfs_tasks(n)
        solvers = {
            "ours evaluate=zero": (ours(tasks, dict(simulations=sims, evaluate="zero"), 200), 2),
            "ours rollouts": (ours(tasks, dict(simulations=sims), 200), 2),
        }
        if n <= 256 and n * sims <= 64_000:
            run = mctx_solver(tasks, sims, args.mctx_moves)
            if run is not None:
                solvers[f"mctx ({args.mctx_moves} moves)"] = (run, 1)
        for name, runs in round_robin(solvers, 2).items():
            w, s, _ = min(runs)
            print(
                f"| {name} | {n} | {sims} | {s:,} | {w:.3f} | {max(s / w for w, s, _ in runs):,.0f} |"
            )


def curve(args: argparse.Namespace) -> None:
    from agents.harness.metrics import judge_trajectory
    from agents.harness.suites import build_suites, builtin_suites
    from maze_env.solve import bfs_distances

    suites = [builtin_suites()[s] for s in ("in_distribution", "size_16", "open_field")]
    data = build_suites(suites, {s.name: args.curve_n for s in suites}, seed=0)
    budgets = (10, 30, 100, 300, 1000)
    rows = []
    for suite in suites:
        tasks = list(data[suite.name].dataset)
        shortest = [int(bfs_distances(t.maze, t.target)[t.origin]) for t in tasks]
        for sims in budgets:
            agent = MCTSAgent(simulations=sims)
            agent.solve_batch(tasks[:1])
            t0 = time.perf_counter()
            trajs = agent.solve_batch(tasks)
            wall = time.perf_counter() - t0
            judged = [judge_trajectory(t, tr) for t, tr in zip(tasks, trajs, strict=True)]
            exact = np.mean(
                [j.reached and len(j.path) - 1 == d for j, d in zip(judged, shortest, strict=True)]
            )
            reached = np.mean([j.reached for j in judged])
            n_sims = sum(tr.extra["simulations"] for tr in trajs)
            rows.append(f"| {suite.name} | {sims} | {exact:.1%} | {reached:.1%} | {wall:.2f} | "
                        f"{wall / len(tasks) * 1e3:.1f} | {n_sims / wall:,.0f} |")  # fmt: skip
            print(rows[-1], flush=True)
    header = ["| suite | simulations | exact | reached | wall s (batch) | ms/task | simulations/s |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]  # fmt: skip
    text = "\n".join(header + rows) + "\n"
    if args.curve_out:
        out = Path(args.curve_out)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=64, help="anchor tasks (default 64)")
    parser.add_argument("--simulations", type=int, default=100, help="per move (default 100)")
    parser.add_argument("--max-moves", type=int, default=200, help="per task (default 200)")
    parser.add_argument("--repeats", type=int, default=5, help="timings of our solvers (default 5)")
    parser.add_argument(
        "--threads", type=int, nargs="*", default=[2], help="also ours with these numba threads"
    )
    parser.add_argument("--scale", action="store_true", help="larger batches and budgets")
    parser.add_argument("--mctx-moves", type=int, default=40, help="mctx move cap in --scale")
    parser.add_argument("--curve", action="store_true", help="budget curve on three suites")
    parser.add_argument("--curve-n", type=int, default=100, help="tasks per suite (default 100)")
    parser.add_argument("--curve-out", default="", help="write the curve table (Markdown) here")
    parser.add_argument("--no-anchor", action="store_true", help="skip the anchor comparison")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 8 tasks, 2 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.repeats, args.max_moves, args.curve_n = 8, 2, 30, 5
    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.node()}), "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    if not args.no_anchor:
        anchor(args)
    if args.scale:
        scale(args)
    if args.curve:
        curve(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

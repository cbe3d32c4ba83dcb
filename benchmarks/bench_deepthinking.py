"""Exact vs iterations per maze size for a deep-thinking checkpoint, and its inference speed.

For each size, held-out dfs mazes (disjoint, per task, from the training set of that size when
there is one) go through the net once; the cell scores are read out at every requested iteration
count (``DTNet.iterate``), walked into paths (the agent's walker) and judged with the harness's
metrics (``exact``: reached the target along a shortest path). Also reported: the Bansal et al.
mask exact match (every open pixel right), where the walk stopped, and mazes/s (wall time of the
forward pass up to that iteration count plus the walks, on ``--threads`` threads).

The curve is the overthinking check: does ``exact`` hold when iterations grow past what is needed?

    python benchmarks/bench_deepthinking.py --ckpt checkpoints/deepthinking_w16 \
        --size 9:200:10,20,30,60,120,500 --size 32:100:100,200,400,800 --out runs/dt_bench
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

SEED_BASE = 70_000
"""Held-out maze seed for size S: ``SEED_BASE + S`` (training sets use seeds 105..109)."""


def held_out(size: int, n: int) -> Any:
    """``n`` dfs ``size x size`` tasks, none of them in a declared training set of that shape."""
    from agents.training_sets import TRAINING_SETS
    from maze_env.dataset import DatasetConfig, MazeDataset

    cfg = DatasetConfig(generator="dfs", shape=(size, size), n=n, seed=SEED_BASE + size)
    train = [
        MazeDataset.from_config(c)
        for c in TRAINING_SETS.values()
        if c.generator == "dfs" and tuple(c.shape) == (size, size) and not c.params
    ]
    return MazeDataset.from_config(cfg, exclude=train)


def run_size(net: Any, size: int, n: int, iters: list[int], batch: int) -> list[dict[str, Any]]:
    import torch

    from agents.base import Trajectory
    from agents.deepthinking.agent import walk_mask
    from agents.deepthinking.model import encode_grids, path_pixels
    from agents.harness.metrics import compute_metrics
    from maze_env.solve import batch_shortest_path_arrays

    ds = held_out(size, n)
    tasks = list(ds)
    conn = ds.mazes.connections
    x_all = encode_grids(conn, ds.origins, ds.targets)
    paths, lengths = batch_shortest_path_arrays(conn, ds.origins, ds.targets)
    y_all = path_pixels(paths, lengths, x_all.shape[2:])
    stats = {
        i: {"exact": 0, "mask_exact": 0, "reached": 0, "dead_end": 0, "loop": 0, "seconds": 0.0}
        for i in iters
    }
    for lo in range(0, n, batch):
        x = torch.from_numpy(x_all[lo : lo + batch])
        open_ = x[:, 0].numpy() == 0
        t0 = time.perf_counter()
        with torch.inference_mode():
            for i, logits in net.iterate(x, iters):
                t_net = time.perf_counter() - t0
                lg = logits.numpy()
                pred = lg > 0
                s = stats[i]
                s["mask_exact"] += int(
                    ((pred == y_all[lo : lo + batch]) | ~open_).all(axis=(1, 2)).sum()
                )
                t1 = time.perf_counter()
                for b in range(len(lg)):
                    task = tasks[lo + b]
                    cells, stop = walk_mask(
                        task.maze.open_moves(), lg[b, 1::2, 1::2], task.origin, task.target
                    )
                    m = compute_metrics(task, Trajectory.from_cells(cells))
                    s["exact"] += m.exact
                    s["reached"] += m.reached
                    s[stop] = s.get(stop, 0) + 1
                s["seconds"] += t_net + (time.perf_counter() - t1)
    rows = []
    for i in iters:
        s = stats[i]
        rows.append(
            {
                "size": size,
                "n": n,
                "n_iter": i,
                "exact": s["exact"] / n,
                "mask_exact": s["mask_exact"] / n,
                "reached": s["reached"] / n,
                "stopped_dead_end": s["dead_end"] / n,
                "stopped_loop": s["loop"] / n,
                "mazes_per_s": n / s["seconds"],
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def dead_end_rounds(conn: np.ndarray, origin: Any, target: Any) -> int:
    """Rounds of dead-end filling (every dead-end cell other than origin/target filled at once)
    until only the origin-target path is left: what a local rule needs, one cell a round."""
    up = np.zeros(conn.shape[1:], dtype=np.int32)
    up[1:, :] = conn[0, :-1, :]
    left = np.zeros(conn.shape[1:], dtype=np.int32)
    left[:, 1:] = conn[1, :, :-1]
    down, right = conn[0].astype(np.int32), conn[1].astype(np.int32)
    alive = np.ones(conn.shape[1:], dtype=bool)
    pinned = np.zeros_like(alive)
    pinned[tuple(origin)] = pinned[tuple(target)] = True
    rounds = 0
    while True:
        a = np.pad(alive, 1).astype(np.int32)
        degree = up * a[:-2, 1:-1] + down * a[2:, 1:-1] + left * a[1:-1, :-2] + right * a[1:-1, 2:]
        fill = alive & ~pinned & (degree <= 1)
        if not fill.any():
            return rounds
        alive &= ~fill
        rounds += 1


def reference_table(sizes: list[tuple[int, int]]) -> str:
    """Dead-end-filling rounds and path lengths on the held-out mazes of each ``(size, n)``."""
    lines = [
        "| size | n | dead-end rounds: mean | p95 | max | path moves: mean | max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for size, n in sizes:
        ds = held_out(size, n)
        conn = ds.mazes.connections
        r = [dead_end_rounds(conn[i], ds.origins[i], ds.targets[i]) for i in range(len(ds))]
        lengths = ds.path_lengths
        lines.append(
            f"| {size}x{size} | {n} | {np.mean(r):.0f} | {np.percentile(r, 95):.0f} | {max(r)} | "
            f"{lengths.mean():.0f} | {lengths.max()} |"
        )
    return "\n".join(lines) + "\n"


def parse_size(text: str) -> tuple[int, int, list[int]]:
    try:
        size, n, iters = text.split(":")
        return int(size), int(n), sorted({int(i) for i in iters.split(",") if i})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--size takes SIZE:N:IT,IT,... (e.g. 16:100:50,100,200), got {text!r}"
        ) from None


def to_markdown(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        f"`{command}`",
        "",
        "| size | n | iterations | exact | mask exact | reached | stopped: dead end | stopped: loop | mazes/s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']}x{r['size']} | {r['n']} | {r['n_iter']} | {r['exact']:.3f} | {r['mask_exact']:.3f} | "
            f"{r['reached']:.3f} | {r['stopped_dead_end']:.3f} | {r['stopped_loop']:.3f} | {r['mazes_per_s']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def fit_auto_rule(rows: list[dict[str, Any]], tolerance: float = 0.01) -> dict[str, Any]:
    """The ``n_iter="auto"`` rule ``max(min, ceil(per_cell * R * C))`` these rows support.

    For each size, the iterations needed are the fewest measured whose ``exact`` is within
    ``tolerance`` of that size's best; ``per_cell`` is the largest ratio needed / cells and ``min``
    the need at the smallest size.
    """
    needed = {}
    for size in sorted({r["size"] for r in rows}):
        rs = sorted((r for r in rows if r["size"] == size), key=lambda r: r["n_iter"])
        best = max(r["exact"] for r in rs)
        needed[size] = next(r["n_iter"] for r in rs if r["exact"] >= best - tolerance)
    per_cell = max(n / (s * s) for s, n in needed.items())
    return {"min": needed[min(needed)], "per_cell": round(per_cell, 4), "needed": needed}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--ckpt", help="checkpoint folder (model.safetensors)")
    p.add_argument("--size", type=parse_size, action="append", metavar="SIZE:N:IT,IT,...")
    p.add_argument(
        "--reference",
        type=parse_size,
        action="append",
        metavar="SIZE:N:",
        help="print the dead-end-filling rounds (a local rule's iterations) on the held-out mazes",
    )
    p.add_argument("--batch", type=int, default=25, help="mazes per forward pass")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", help="folder for bench.json and bench.md")
    p.add_argument(
        "--write-auto",
        action="store_true",
        help="store the fitted n_iter='auto' rule in the checkpoint's meta.json (n_iter_auto)",
    )
    args = p.parse_args(argv)
    if args.reference:
        print(reference_table([(size, n) for size, n, _ in args.reference]))
    if not args.size:
        return 0
    if not args.ckpt:
        p.error("--size needs --ckpt")
    import torch

    from agents.deepthinking.weights import load_weights

    torch.set_num_threads(args.threads)
    net = load_weights(Path(args.ckpt) / "model.safetensors")
    rows = []
    for size, n, iters in args.size:
        rows += run_size(net, size, n, iters, args.batch)
    command = "python benchmarks/bench_deepthinking.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    rule = fit_auto_rule(rows)
    print("fitted n_iter auto rule:", json.dumps(rule))
    if args.write_auto:
        from agents.checkpoint import read_meta, write_meta

        meta = read_meta(args.ckpt)
        meta["n_iter_auto"] = {"min": rule["min"], "per_cell": rule["per_cell"]}
        meta["n_iter_needed"] = {str(k): v for k, v in rule["needed"].items()}
        meta["n_iter_auto_command"] = command
        write_meta(args.ckpt, meta)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "bench.json").write_text(
            json.dumps({"command": command, "rows": rows, "auto_rule": rule}, indent=1)
        )
        (out / "bench.md").write_text(
            to_markdown(rows, command) + f"\nfitted n_iter auto rule: `{json.dumps(rule)}`\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

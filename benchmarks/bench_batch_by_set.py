"""Benchmark: mixed-size training batches, padded vs one training set a batch (``batch_by_set``).

The ``grid3to9`` preset trains on dfs 3x3 .. 9x9. Drawn across sets, a batch is padded to its
longest sequence, about a 9x9 maze's length; ``batch_by_set`` draws each batch from one set, so
a batch of 3x3 mazes is 3x3 long. Both see every task once an epoch. This runs the preset's
trainer for ``--steps`` steps each way, with the same model, data and threads, and prints the
training clocks the trainer records (evaluation excluded). Run with nothing else on the
machine; ``--cache-dir`` keeps the 280,000 training mazes between runs::

    .venv/bin/python benchmarks/bench_batch_by_set.py --steps 60 --cache-dir /tmp/tr_cache
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from train.transformer import TrainConfig, main  # noqa: E402


def run(by_set: bool, steps: int, cache_dir: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig.preset("grid3to9").replace(
            out_dir=out, batch_by_set=by_set, max_steps=steps, max_minutes=0.0,
            eval_every=10**6, eval_n=20, eval_sets=[{"generator": "dfs", "shape": [6, 6], "n": 20,
                                                      "seed": 1106}],
            progress=False, tensorboard=False,
        )  # fmt: skip
        record = main(cfg, cache_dir=cache_dir)
    return {"cpu_s": 60 * record["cpu_minutes"], "wall_s": 60 * record["wall_minutes"]}


def cli() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--cache-dir", default=None)
    a = p.parse_args()
    padded = run(False, a.steps, a.cache_dir)
    by_set = run(True, a.steps, a.cache_dir)
    print(json.dumps({"steps": a.steps, "padded": padded, "batch_by_set": by_set,
                      "speedup_wall": padded["wall_s"] / by_set["wall_s"],
                      "speedup_cpu": padded["cpu_s"] / by_set["cpu_s"]}, indent=1))  # fmt: skip


if __name__ == "__main__":
    cli()

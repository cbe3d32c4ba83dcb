"""Benchmark: the path transformer's training throughput and decoding speed on this machine.

Training: tokens/s of forward + backward + AdamW steps on batches of real 6x6 dfs tasks in the
``grid`` scheme, for fp32, bf16 autocast and ``torch.compile`` (each timed after warm-up steps),
at ``--threads`` threads.

Decoding: 1,000 held-out prompts decoded greedily (a) batched with the KV cache (generation
alone, and ``decode`` including parsing every output back into cells, at 256, 128 and 1,000 rows
a batch; each the median of 3 runs after a warm-up), (b) one task at a time
without a cache (the whole sequence re-run for every new token), on the same randomly
initialised model (the model's quality does not matter here: every prompt is decoded to the same
number of tokens, ``--new`` tokens, so both do the same work); then tasks/s of each decoding mode
with the cache. Run under the machine-wide lock::

    flock /tmp/train.lock .venv/bin/python benchmarks/bench_transformer.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.malloc import keep_freed_memory  # noqa: E402
from agents.transformer.decoding import Codec, _step, decode  # noqa: E402
from agents.transformer.model import GPT, GPTConfig  # noqa: E402
from maze_env.dataset import DatasetConfig, MazeDataset  # noqa: E402
from maze_env.solve import batch_shortest_path_arrays  # noqa: E402
from maze_env.tokens import Vocabulary, make_vocabulary  # noqa: E402
from train.transformer import loss_targets  # noqa: E402


def train_tokens_per_s(
    model: GPT, data: torch.Tensor, vocab: Vocabulary, steps: int, bf16: bool, compiled: bool
) -> float:
    fwd = torch.compile(model) if compiled else model
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    start, pad = vocab.id_of("<PATH_START>"), vocab.pad_id
    tokens, t0 = 0, 0.0
    for i in range(steps + 3):
        if i == 3:  # warm-up (and compilation) excluded
            tokens, t0 = 0, time.perf_counter()
        ids = data[(i * 64) % (len(data) - 64) :][:64]
        ids = ids[:, : int((ids != pad).sum(1).max())]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            _, loss = fwd(ids, loss_targets(ids, start, pad))
        opt.zero_grad()
        loss.backward()
        opt.step()
        tokens += ids.numel()
    return tokens / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and prompts")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--new", type=int, default=12, help="tokens generated per prompt")
    ap.add_argument(
        "--design",
        choices=("planner", "learned"),
        default="planner",
        help="planner: 8 layers, d_model 96, 2-D grid positions (the shipped presets); "
        "learned: 6 layers, d_model 128, learned positions (the first design)",
    )
    ap.add_argument(
        "--default-malloc",
        action="store_true",
        help="leave glibc's allocator as it is (default: agents.malloc.keep_freed_memory, as "
        "the mazebench command and the transformer agent do)",
    )
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not args.default_malloc:
        keep_freed_memory()
    vocab = make_vocabulary(16, "grid")
    ds = MazeDataset.from_config(
        DatasetConfig(shape=(6, 6), n=2000 if args.quick else 4000, seed=77)
    )
    paths = batch_shortest_path_arrays(ds.mazes, ds.origins, ds.targets)
    data = torch.from_numpy(
        vocab.encode_arrays(ds.mazes, ds.origins, ds.targets, paths, length=80).astype(np.int64)
    )
    if args.design == "planner":  # the shipped presets' shape (train.transformer._PLANNER)
        grid = {"max_shape": list(vocab.max_shape), "path": "moves"}
        cfg = GPTConfig(vocab_size=len(vocab), n_ctx=80, n_layer=8, n_head=4, d_model=96,
                        pos="grid", grid=grid)  # fmt: skip
    else:  # the first design's benchmark shape: learned positions, 6 layers, d_model 128
        cfg = GPTConfig(vocab_size=len(vocab), n_ctx=80, n_layer=6, n_head=4, d_model=128)
    out: dict[str, object] = {"threads": args.threads, "model": cfg.to_dict()}
    steps = 10 if args.quick else 30
    for label, bf16, compiled in (
        ("fp32", False, False),
        ("bf16", True, False),
        ("compiled", False, True),
    ):
        torch.manual_seed(0)
        try:
            out[f"train_tokens_per_s_{label}"] = round(
                train_tokens_per_s(GPT(cfg), data, vocab, steps, bf16, compiled)
            )
        except Exception as err:  # noqa: BLE001 - report, e.g. no compiler toolchain
            out[f"train_tokens_per_s_{label}"] = f"failed: {type(err).__name__}: {err}"[:200]
        print(json.dumps({k: v for k, v in out.items() if k.startswith("train")}), flush=True)
    torch.manual_seed(0)
    model = GPT(cfg).eval()
    codec = Codec(vocab)
    codec.end_id = -1  # never finished early: both ways generate exactly --new tokens per prompt
    n = 200 if args.quick else 1000
    tasks = [ds[i] for i in range(n)]
    prompts = codec.prompts(tasks)
    batch = torch.as_tensor(np.stack(prompts), dtype=torch.long)  # 6x6 dfs: one prompt length
    gen = torch.Generator().manual_seed(0)
    decode(model, codec, tasks, "greedy", max_new=args.new, batch_size=1000)  # warm-up

    def timed(fn: object, reps: int = 3) -> float:
        """Median seconds of ``reps`` calls (the machine's noise is ~10%)."""
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    with torch.no_grad():  # generation alone, as the loop below (no parsing)
        batched = timed(lambda: _step(model, codec, batch, tasks, "greedy", 1.0, gen, args.new))
    rows_s = {
        rows: timed(lambda r=rows: decode(model, codec, tasks, "greedy", max_new=args.new, batch_size=r))
        for rows in (256, 128, 1000)  # decode's default is 256 rows a batch
    }
    t0 = time.perf_counter()
    with torch.no_grad():
        for p in prompts:  # one at a time, no cache: the whole sequence every token
            seq = torch.as_tensor(p, dtype=torch.long)[None]
            for _ in range(args.new):
                nxt = model(seq)[0][:, -1].argmax(-1, keepdim=True)
                seq = torch.cat([seq, nxt], dim=1)
    single = time.perf_counter() - t0
    out.update(
        decode_prompts=n,
        new_tokens=args.new,
        one_at_a_time_no_cache_s=round(single, 3),
        batched_kv_all_rows_generation_only_s=round(batched, 3),
        **{f"decode_{rows}_rows_s": round(t, 3) for rows, t in rows_s.items()},
        speedup_generation_only=round(single / batched, 1),
        **{f"speedup_decode_{rows}_rows": round(single / t, 1) for rows, t in rows_s.items()},
    )
    codec = Codec(vocab)
    for mode in ("greedy", "constrained", "beam", "sample"):
        t0 = time.perf_counter()
        decode(model, codec, tasks[:200], mode, k=4, max_new=args.new, batch_size=500)
        out[f"tasks_per_s_{mode}"] = round(200 / (time.perf_counter() - t0), 1)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

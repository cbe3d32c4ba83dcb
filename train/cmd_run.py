"""``mazebench run``: the main job. Resolve (or train) the experiment's models, run every agent on
every suite, write the report, and print the headline table."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from train.experiment import (
    DEFAULT_EXPERIMENT,
    ExperimentConfig,
    model_folders,
    resolve_agents,
    seed_groups,
)

HEADLINE_SUITES = ("in_distribution", "size_10", "size_16", "size_32", "gen_wilson",
                   "loops_percolation", "open_field", "target_held_out")
"""Suites shown in the terminal's headline table (those present in the run)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="the main job: every agent (search and learned) on every suite, then the report",
        description="Run an experiment: resolve its models (the shipped checkpoints; a model "
        "whose checkpoint is missing is trained first with its preset, cached by config hash so "
        "a rerun never retrains), run every agent on every suite with the harness, write "
        "results.json, report.md and report.html, and print the headline table. Without "
        f"--config: the default experiment ({DEFAULT_EXPERIMENT.relative_to(Path(__file__).parent.parent)}).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  mazebench run                          # the default experiment -> runs/default\n"
        "  mazebench run --quick                  # a smoke run (fewer tasks, suites, agents)\n"
        "  mazebench run --config examples/size.yaml --out runs/size\n"
        "  mazebench run --config examples/memorize.yaml --backend ray   # train the seeds side by side\n",
    )
    p.add_argument("--config", metavar="FILE", help="experiment YAML/JSON (train/experiment.py)")
    p.add_argument("--quick", action="store_true", help="apply the experiment's quick overrides")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/NAME, runs/NAME-quick)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--n", type=int, default=None, help="tasks per suite (over the experiment's)")
    p.add_argument("--seed", type=int, default=None, help="run seed (over the experiment's)")
    p.add_argument(
        "--models-dir",
        default="runs/models",
        metavar="DIR",
        help="where models without a shipped checkpoint are trained and cached (default: runs/models)",
    )
    p.add_argument(
        "--no-train",
        action="store_true",
        help="fail instead of training a model whose checkpoint is missing",
    )
    from train.cmd_compare import add_backend_arguments

    add_backend_arguments(
        p,
        "local: train missing models one after another and run the comparison in worker "
        "processes here; ray: train them as Ray tasks side by side (each reserving its run's "
        "threads) and run the comparison's chunks as Ray tasks (results identical)",
        ". On a cluster, --models-dir must be on a file system every node sees",
    )
    p.add_argument("--cache-dir", default=None, metavar="DIR", help="dataset cache folder")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def headline(results: dict[str, Any], suites: tuple[str, ...] = HEADLINE_SUITES) -> str:
    """The exact-path rate of every agent on the headline suites, as a plain-text table."""
    from agents.harness.plots import agent_labels  # the report's short labels

    labels = agent_labels(results)
    present = [s["name"] for s in results["suites"]]
    cols = [s for s in suites if s in present] or present[:8]
    rows = []
    for a in results["agents"]:
        per = results["results"].get(a["spec"], {})
        cells = []
        for s in cols:
            exact = (per.get(s) or {}).get("exact") or {}
            mean = exact.get("mean")
            cells.append("  -  " if mean is None else f"{100 * mean:5.1f}")
        rows.append((labels[a["spec"]], cells))
    width = max(12, *(len(name) for name, _ in rows))
    short = [c.replace("loops_", "").replace("target_", "t_")[:9] for c in cols]
    lines = [f"{'exact %':<{width}} " + " ".join(f"{c:>9}" for c in short)]
    for name, cells in rows:
        lines.append(f"{name:<{width}} " + " ".join(f"{c:>9}" for c in cells))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import yaml

    from agents.harness.runner import cores, run_comparison
    from agents.harness.suites import DEFAULT_N

    if args.address is not None and args.backend != "ray":
        raise ValueError("--address needs --backend ray")
    config_file = args.config or DEFAULT_EXPERIMENT
    try:
        cfg = ExperimentConfig.load(config_file)
    except yaml.YAMLError as err:
        from train.config_args import yaml_error_text

        raise ValueError(f"{config_file}: not valid YAML: {yaml_error_text(err)}") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{config_file}: not UTF-8 text ({err})") from None
    except (TypeError, AttributeError) as err:  # a field of the wrong kind (a list for a mapping)
        raise ValueError(f"{config_file}: {err}") from None
    if args.quick:
        cfg = cfg.for_quick()
    out = Path(args.out or f"runs/{cfg.name}{'-quick' if args.quick else ''}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder; choose another --out")
    t0 = time.perf_counter()
    workers = args.workers or cores()
    folders = model_folders(
        cfg,
        args.models_dir,
        train=not args.no_train,
        progress=not args.no_progress,
        backend=args.backend,
        address=args.address,
        num_cpus=workers,
    )
    agents = resolve_agents(cfg.agents, folders)
    out.mkdir(parents=True, exist_ok=True)
    resolved = {
        "experiment": cfg.name,
        "config_file": str(args.config or DEFAULT_EXPERIMENT),
        "quick": bool(args.quick),
        "models": {k: [str(p) for p in v] for k, v in folders.items()},
        "agents": agents,
        "seed_groups": seed_groups(cfg.agents, folders),
        "suites": list(cfg.suites),
        "n": args.n if args.n is not None else cfg.n,
        "seed": args.seed if args.seed is not None else cfg.seed,
    }
    from agents.harness.run_folder import atomic_write_json

    suites: list[Any] = list(cfg.suites)
    n = resolved["n"]
    if cfg.suite_n and args.n is None:
        import dataclasses

        from agents.harness.suites import resolve_suites

        suites = [
            dataclasses.replace(s, n=int(cfg.suite_n.get(s.name, n or s.n or DEFAULT_N)))
            for s in resolve_suites(cfg.suites, cfg.suites_file)
        ]
        resolved["suite_n"] = {s.name: s.n for s in suites}
        n = None
    atomic_write_json(out / "experiment.json", resolved)
    run_comparison(
        agents,
        suites,
        out,
        n=n,
        seed=resolved["seed"],
        workers=workers,
        backend=args.backend,
        address=args.address,
        quick=bool(args.quick),
        progress=not args.no_progress,
        suites_file=cfg.suites_file,
        cache_dir=args.cache_dir,
    )
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    print(headline(results))
    print(f"\ndone in {time.perf_counter() - t0:.0f} s; report: {out / 'report.html'}")
    sys.stdout.flush()
    return 0

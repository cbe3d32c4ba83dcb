"""``mazebench compare``: run agents on suites of mazes and write a run folder with a report."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Run every agent on the same tasks of every suite, judge every path by the same rules, and write a
run folder: predictions.jsonl.gz (one row per agent x task; zcat shows it), results.json (rates with 95% Wilson
intervals per agent x suite, each suite's difficulty = random_fork's success rate, which is always
run), config.json (everything needed to rerun), report.md, report.html (self-contained) and
figures/. Results do not depend on --workers. Rerunning the same command into the same --out
resumes: finished rows are kept, the rest is run. Progress: a bar on a terminal, a line every 10 s
in a log file."""

EPILOG = """\
agents (--agents SPEC ...; parameters as name:key=value,key=value, values as JSON; register
your own with agents.register_agent("name", "package.module:factory")):
{agents}

suites and groups (--suites NAME ...; a group selects several suites):
{suites}

sharding a big comparison over machines:
  mazebench compare --agents bfs mcts --suites default --shard 0/2 --out runs/part0
  mazebench compare --agents bfs mcts --suites default --shard 1/2 --out runs/part1
  mazebench compare --merge runs/part0 runs/part1 --out runs/full
  Shard i/k runs the tasks whose index is i modulo k; it writes predictions and config only, and
  --merge joins the parts (same settings required) and writes results and the report.

user suites: --suites-file FILE.yaml (schema: agents/harness/suites.py), then name them in --suites;
  or your own mazes: --suites-file mazes.npz (MazeDataset.save) or --suites-file mazes.txt (one
  maze-dataset AOTP line per task; a "# shape: RxC" line fixes the grid). The suite is named after
  the file; --n takes the first n tasks (at most the file's).

a Ray cluster (pip install 'mazebench[ray]'):
  ray start --head                       # on the head node; prints its address
  ray start --address=HEAD:6379          # on every other node
  mazebench compare --backend ray --address HEAD:6379 --suites default --out runs/ray
  Without --address, --backend ray starts a local Ray instance with --workers CPUs.

examples:
  mazebench compare --quick --out runs/smoke
  mazebench compare --agents bfs astar random_fork mcts --suites default --out runs/search
  mazebench compare --agents bfs dfs --suites sizes loops --n 200 --workers 2 --out runs/sizes
  mazebench report runs/search"""


def default_agents() -> list[str]:
    from agents.harness.runner import DEFAULT_AGENTS

    return list(DEFAULT_AGENTS)


def agent_lines(width: int = 100) -> list[str]:
    """One entry per registered agent: name, summary, and its parameters with their defaults
    (from the factory's signature; importing a learned agent's module here is fine). An agent
    whose module cannot be imported shows its entry point and why."""
    import textwrap

    from agents.registry import AGENTS, AgentImportError, describe_parameters

    lines = []
    for name in sorted(AGENTS):
        try:
            factory = AGENTS.load(name)
        except AgentImportError as err:
            why = str(err.__cause__ or err).splitlines()[0]
            lines.append(f"  {name:<14} {AGENTS.entry_point(name)} (not importable: {why})")
            continue
        doc = (factory.__doc__ or "").strip().splitlines()
        summary = doc[0].replace("``", "") if doc else ""
        lines.append(f"  {name:<14} {summary}".rstrip())
        params = "parameters: " + describe_parameters(name)
        lines += textwrap.wrap(params, width, initial_indent=" " * 17, subsequent_indent=" " * 29)
    return lines


def _epilog() -> str:
    """The ``--help`` epilog, with the agents and suites registered right now."""
    import warnings

    from agents.harness.suites import SuiteRegistry

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        registry = SuiteRegistry.builtin()
    suite_lines = [f"  {s.name:<24} {s.description}" for s in registry.suites.values()]
    suite_lines += [
        f"  group {g:<18} {', '.join(v) if len(v) < 6 else f'{len(v)} suites'}"
        for g, v in registry.groups.items()
    ]
    return EPILOG.format(agents="\n".join(agent_lines()), suites="\n".join(suite_lines))


class _LazyEpilog:
    """Builds its epilog only when help is printed: listing every agent's parameters imports
    every agent's module (torch for the learned ones), which no other command should pay for.
    Mixed into whatever parser class the subparsers make (the CLI's one-line errors)."""

    epilog: str | None

    def format_help(self) -> str:
        if self.epilog is None:
            self.epilog = _epilog()
        return super().format_help()  # type: ignore[misc]


def _lazy_epilog_class(base: type) -> type:
    return type("_LazyEpilogParser", (_LazyEpilog, base), {})


def _check_folder(option: str, path: str | None) -> None:
    """``option``'s folder may be missing (it is made) but must not be a file."""
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise ValueError(f"{option} {path} is a file, not a folder; choose another {option}")


def add_backend_arguments(p: argparse.ArgumentParser, backend_help: str, extra: str = "") -> None:
    """``--backend {local,ray}`` and ``--address ADDR``, shared by ``compare`` and ``run``
    (``extra``: what the command adds to --address's help)."""
    p.add_argument("--backend", choices=("local", "ray"), default="local", help=backend_help)
    p.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="with --backend ray: the cluster's address (HOST:6379, or auto on a cluster node); "
        "default: a private local Ray instance with --workers CPUs" + extra,
    )


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``compare`` to the ``mazebench`` subcommands."""
    p = subparsers.add_parser(
        "compare",
        help="run agents on evaluation suites and write results and a report",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.__class__ = _lazy_epilog_class(type(p))  # subparsers.add_parser built the parser
    p.add_argument(
        "--agents",
        nargs="+",
        metavar="SPEC",
        help=f"agent specs (default: {' '.join(default_agents())})",
    )
    p.add_argument(
        "--suites",
        nargs="+",
        metavar="NAME",
        help="suite or group names (default: default, or quick with --quick)",
    )
    p.add_argument(
        "--suites-file",
        metavar="FILE",
        help="YAML/JSON file of extra suites and groups, or a suite of your own mazes: a dataset "
        ".npz (MazeDataset.save) or a text file of maze-dataset AOTP lines (one task per line); "
        "such a file's suite is run alone unless --suites names others too",
    )
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/compare__SEED__TIME)")
    p.add_argument(
        "--n",
        type=int,
        help="tasks per suite (default: the suite's own: 1000; 200 or 100 for size_24..size_64; "
        "20 with --quick)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="fixes the tasks and the agents' random choices (default 0)",
    )
    p.add_argument(
        "--workers", type=int, default=1, help="processes; results do not depend on it (default 1)"
    )
    p.add_argument(
        "--shard", metavar="I/K", help="run only tasks whose index is I mod K (see below)"
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run in seconds: n=20, the quick suites, cheap agent settings",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="DIR",
        help="join these shard folders into --out instead of running",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache generated datasets here (default: none, everything is regenerated)",
    )
    add_backend_arguments(
        p,
        "run the chunks in local processes or as Ray tasks (pip install 'mazebench[ray]'); "
        "results do not depend on it (default local)",
    )
    p.add_argument("--no-report", action="store_true", help="write results.json but no report")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run (or merge) a comparison from parsed arguments; returns the exit status."""
    from agents.harness.runner import QUICK_AGENTS, merge, run_comparison

    _check_folder("--out", args.out)
    _check_folder("--cache-dir", args.cache_dir)
    if args.merge:
        if not args.out:
            raise ValueError("--merge needs --out DIR: the folder to write the joined run into")
        out = merge(args.merge, args.out, report=not args.no_report)
        print(f"merged {len(args.merge)} run folders into {out}")
        return 0
    agents = args.agents or (list(QUICK_AGENTS) if args.quick else default_agents())
    from agents.harness.runner import is_definition_file

    user_file = args.suites_file is not None and not is_definition_file(args.suites_file)
    if args.address is not None and args.backend != "ray":
        raise ValueError("--address needs --backend ray")
    suites = args.suites or ([] if user_file else ["quick"] if args.quick else ["default"])
    out = Path(args.out or f"runs/compare__{args.seed}__{int(time.time())}")
    t0 = time.perf_counter()
    run_comparison(
        agents,
        suites,
        out,
        n=args.n,
        seed=args.seed,
        workers=args.workers,
        shard=args.shard,
        quick=args.quick,
        progress=not args.no_progress,
        suites_file=args.suites_file,
        cache_dir=args.cache_dir,
        report=not args.no_report,
        backend=args.backend,
        address=args.address,
    )
    seconds = time.perf_counter() - t0
    what = (
        "shard written; join the shards with --merge"
        if args.shard
        else "report: " + str(out / "report.html")
    )
    print(f"done in {seconds:.1f} s: {out} ({what})")
    return 0

"""``mazebench report``: re-render a run folder's report from its results.json."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DESCRIPTION = """\
Re-render report.md, report.html (self-contained: figures embedded) and figures/*.png of a run
folder written by `mazebench compare`, from its results.json (nothing is rerun; the explorer at
the end of report.html rebuilds the suites' mazes from config.json and reads the predictions). With
--recompute, results.json is first rebuilt from the predictions and config.json (e.g. after the
metrics changed, or after appending rows by hand). With --update-readme FILE, the verdict
matrix between FILE's `<!-- verdicts:begin ... -->` and `<!-- verdicts:end -->` lines is
rewritten from the folder's verdicts.json (the README's findings block: regenerate it from the
shipped default run)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report`` to the ``mazebench`` subcommands."""
    p = subparsers.add_parser(
        "report",
        help="re-render the report of a comparison run folder",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  mazebench report runs/search\n  mazebench report --recompute runs/search\n"
        "  mazebench report runs/default --update-readme README.md",
    )
    p.add_argument("dir", metavar="DIR", help="a run folder of `mazebench compare`")
    p.add_argument(
        "--recompute", action="store_true", help="rebuild results.json from the predictions first"
    )
    p.add_argument(
        "--update-readme",
        metavar="FILE",
        help="rewrite FILE's generated verdicts block from this run's verdicts.json",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Render (or recompute and render) the report; returns the exit status."""
    from agents.harness.report import render_report
    from agents.harness.run_folder import load_config
    from agents.harness.runner import config_suite_data, finalize

    check_run_folder(args.dir, results=not args.recompute)
    if args.update_readme:  # refuse a README without a block before anything is rewritten
        from agents.harness.matrix import BEGIN, END, readme_block_of

        if readme_block_of(args.update_readme) is None:
            raise ValueError(f"{args.update_readme}: no verdicts block ({BEGIN} ... {END})")
    data = None
    if args.recompute:  # the suites' tasks, built once for the results and the explorer
        data = config_suite_data(load_config(args.dir))
        finalize(args.dir, data=data, report=False)
    paths = render_report(args.dir, data=data)
    print(f"wrote {paths['md']} and {paths['html']} ({len(paths) - 2} figures)")
    if args.update_readme:
        from agents.harness.matrix import update_readme

        changed = update_readme(args.update_readme, Path(args.dir) / "verdicts.json")
        print(f"{args.update_readme}: verdicts block {'rewritten' if changed else 'unchanged'}")
    return 0


_RESULTS_KEYS = {"agents": list, "suites": list, "results": Mapping}
"""What every results.json holds (``agents.harness.report.compute_results``), and its type."""


def check_run_folder(folder: str | Path, results: bool = True) -> None:
    """Refuse, naming the file, a run folder whose ``config.json`` or ``results.json`` (when
    ``results``; with ``--recompute`` it is rebuilt, so it need only be JSON if present) is not
    what ``mazebench compare`` writes, before anything is rendered or rewritten."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such run folder (made by `mazebench compare`)")
    config = folder / "config.json"
    if config.exists():
        _read_mapping(config)
    path = folder / "results.json"
    if not path.exists():
        return  # render_report / finalize say what is missing
    data = _read_mapping(path)
    if not results:
        return
    for key, kind in _RESULTS_KEYS.items():
        if not isinstance(data.get(key), kind):
            found = "missing" if key not in data else f"a {type(data[key]).__name__}"
            raise ValueError(
                f"{path}: {key!r} is {found}, not a {kind.__name__.lower()}: not the results of "
                f"`mazebench compare`; rebuild it with `mazebench report --recompute {folder}`"
            )
    for key, field in (("agents", "spec"), ("suites", "name")):
        if not all(isinstance(x, Mapping) and field in x for x in data[key]):
            raise ValueError(
                f"{path}: every entry of {key!r} must be a mapping with {field!r}; rebuild it "
                f"with `mazebench report --recompute {folder}`"
            )


def _read_mapping(path: Path) -> dict[str, Any]:
    from maze_env.files import read_json_object

    return read_json_object(path)

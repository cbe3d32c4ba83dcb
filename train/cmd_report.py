"""``mazebench report``: re-render a run folder's report from its results.json."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = """\
Re-render report.md, report.html (self-contained: figures embedded) and figures/*.png of a run
folder written by `mazebench compare`, from its results.json (nothing is rerun; the explorer at
the end of report.html rebuilds the suites' mazes from config.json and reads the predictions). With
--recompute, results.json is first rebuilt from the predictions and config.json (e.g. after the
metrics changed, or after appending rows by hand)."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``report`` to the ``mazebench`` subcommands."""
    p = subparsers.add_parser(
        "report",
        help="re-render the report of a comparison run folder",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  mazebench report runs/search\n  mazebench report --recompute runs/search",
    )
    p.add_argument("dir", metavar="DIR", help="a run folder of `mazebench compare`")
    p.add_argument(
        "--recompute", action="store_true", help="rebuild results.json from the predictions first"
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Render (or recompute and render) the report; returns the exit status."""
    from agents.harness.report import render_report
    from agents.harness.run_folder import load_config
    from agents.harness.runner import config_suite_data, finalize

    data = None
    if args.recompute:  # the suites' tasks, built once for the results and the explorer
        data = config_suite_data(load_config(args.dir))
        finalize(args.dir, data=data, report=False)
    paths = render_report(args.dir, data=data)
    print(f"wrote {paths['md']} and {paths['html']} ({len(paths) - 2} figures)")
    return 0

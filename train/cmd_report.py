"""``mazebench report``: re-render a run folder's report from its results.json."""

from __future__ import annotations

import argparse
from typing import Any

DESCRIPTION = """\
Re-render report.md, report.html (self-contained: figures embedded) and figures/*.png of a run
folder written by `mazebench compare`, from its results.json alone (nothing is rerun). With
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
    from agents.harness.runner import finalize

    if args.recompute:
        finalize(args.dir, report=False)
    paths = render_report(args.dir)
    print(f"wrote {paths['md']} and {paths['html']} ({len(paths) - 2} figures)")
    return 0

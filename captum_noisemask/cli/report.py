"""``report``: an offline HTML page to browse a run's maps."""

from __future__ import annotations

import argparse
from pathlib import Path

from .command import Command

__all__ = ["REPORT", "add_report_option", "write_report_of"]


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run's --out directory")
    command.add_argument("--out", type=Path, help="report directory (default: RUN_DIR/report)")


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.run_dir.is_dir():
        parser.error(f"RUN_DIR {args.run_dir}: not a directory")


def add_report_option(parser: argparse.ArgumentParser) -> None:
    """``--report``: write the run's HTML report at the end."""
    parser.add_argument(
        "--report",
        action="store_true",
        help="also write OUT/report/index.html at the end (see the report subcommand)",
    )


def write_report_of(run_dir: Path, out: Path | None = None) -> None:
    """Writes a run's HTML report and says where."""
    from ..report import write_report

    page = write_report(run_dir, out)
    print(f"wrote {page} (open it in a browser; it needs no server and no network)")


REPORT = Command(
    "report",
    "write RUN_DIR/report/index.html: an offline page to browse a run's maps "
    "(explain-dataset) or its methods side by side (the lab's compare, reproduce)",
    _options,
    lambda args: write_report_of(args.run_dir, args.out),
    _check,
)

"""The ``noisemask-lab`` command line: one subcommand per registered command.

The paper's MNIST experiment (``reproduce``), ``compare``, every benchmark, a lab task's
``explain-dataset`` and the library's ``report`` (the pages ``compare`` and ``reproduce``
write are read by it).
"""

from __future__ import annotations

import argparse
import sys

from captum_noisemask.cli.command import Command, run_command_line
from captum_noisemask.cli.command import build_parser as build_command_line
from captum_noisemask.cli.report import REPORT

from .benchmarks import BENCHMARKS
from .dataset_commands import EXPLAIN_DATASET

__all__ = ["build_parser", "commands", "main"]


def commands() -> list[Command]:
    """Every subcommand: the registered benchmarks, then the dataset commands."""
    return [*BENCHMARKS, EXPLAIN_DATASET, REPORT]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``noisemask-lab`` and its subcommands."""
    return build_command_line(
        "noisemask-lab",
        "The lab of captum-noisemask: the paper's MNIST experiment, compare and the benchmarks.",
        commands(),
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    return run_command_line(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

"""The ``captum-noisemask`` command line: what you run on your own model.

- ``explain-dataset``: every example of your model's array, resumable (:mod:`.explain`);
- ``report``: an offline page to browse such a run (:mod:`.report`).

The experiments around the library (the paper's MNIST experiment, ``compare``, the
benchmarks) are the lab's command, ``noisemask-lab``, installed from the repository's
``lab`` folder. Each subcommand imports what it runs only when it runs.
"""

from __future__ import annotations

import argparse
import sys

from .command import Command, run_command_line
from .command import build_parser as build_command_line
from .explain import EXPLAIN_DATASET
from .report import REPORT

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands of ``captum-noisemask``.
COMMANDS: list[Command] = [EXPLAIN_DATASET, REPORT]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``captum-noisemask`` and its subcommands."""
    return build_command_line(
        "captum-noisemask",
        "Non-contributing pixels (Ikeno, Hara & Washio) as a Captum attribution: explain your "
        "own model's dataset and browse the maps.",
        COMMANDS,
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``captum-noisemask``; returns the process exit code."""
    return run_command_line(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())

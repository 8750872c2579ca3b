"""The ``captum-noisemask`` command line: one subcommand per registered command."""

from __future__ import annotations

import argparse
import sys

from .benchmarks import BENCHMARKS
from .command import Command
from .dataset_commands import EXPLAIN_DATASET, REPORT

__all__ = ["build_parser", "commands", "main"]


def commands() -> list[Command]:
    """Every subcommand: the registered benchmarks, then the commands over the library's
    dataset runner and report."""
    return [*BENCHMARKS, EXPLAIN_DATASET, REPORT]


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default where there is one (not for flags, nor for options without one)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``captum-noisemask`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="captum-noisemask",
        description="Non-contributing pixels (Ikeno, Hara & Washio) as a Captum attribution.",
    )
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in commands():
        sub = subcommands.add_parser(
            command.name, help=command.summary, formatter_class=_HelpWithDefaults
        )
        command.add_options(sub)
        sub.set_defaults(subcommand=command, subparser=sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    command: Command = args.subcommand
    command.check(args.subparser, args)  # its usage line goes with its errors
    try:
        command.run(args)
    except (ImportError, ValueError) as error:  # IDXError is a ValueError
        print(f"captum-noisemask: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

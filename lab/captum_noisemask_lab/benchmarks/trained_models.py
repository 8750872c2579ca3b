"""The trained classifiers the BatchNorm-picture, certificate and noise-deletion benchmarks
measure (their ``--task``), and the image regions they score maps on."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from captum_noisemask._utils.machine import machine_description

from ..tasks import PreparedTask, Task, prepare
from ..tasks.mnist import FASHION_MNIST, MNIST
from ..tasks.training import TrainingConfig

__all__ = [
    "TRAINED_MODELS",
    "add_model_options",
    "held_out",
    "merge_into",
    "object_regions",
    "prepare_model",
    "write_rows",
]

#: Fashion-MNIST's BatchNorm classifiers: 5 epochs over the first 10,000 training images.
_FASHION_BN = replace(FASHION_MNIST.training, epochs=5, max_examples=10_000)

#: Name (``--task``) -> the task and how its classifier is trained (cached weights).
TRAINED_MODELS: dict[str, tuple[Task, TrainingConfig]] = {
    "mnist": (MNIST, MNIST.training),
    "fashion-resnet": (FASHION_MNIST, replace(_FASHION_BN, architecture="resnet")),
    "fashion-mobilenet": (FASHION_MNIST, replace(_FASHION_BN, architecture="mobilenet")),
}


def prepare_model(name: str) -> PreparedTask:
    """The trained classifier and held-out images of one of :data:`TRAINED_MODELS`."""
    task, training = TRAINED_MODELS[name]
    return prepare(task, training=training)


def held_out(args: argparse.Namespace) -> tuple[PreparedTask, torch.Tensor, torch.Tensor]:
    """The ``--task``'s trained classifier and its first ``--images`` held-out images, labels."""
    setup = prepare_model(args.task)
    return setup, setup.test_set.images[: args.images], setup.test_set.labels[: args.images]


def write_rows(
    args: argparse.Namespace, command: str, setup: PreparedTask, rows: dict[str, Any]
) -> dict[str, Any]:
    """Merges ``rows`` into ``--out/<task>.json`` with what made them (the command, the
    images, the classifier's accuracy, the machine); returns what the file holds."""
    about = {
        "task": args.task,
        "images": args.images,
        "accuracy": setup.trained.accuracy,
        "machine": machine_description(),
        "command": f"noisemask-lab {command} --task {args.task} --images {args.images}",
    }
    return merge_into(args.out / f"{args.task}.json", rows, about)


def add_model_options(
    command: argparse.ArgumentParser, default: str, images: int, out: str
) -> None:
    """``--task``, ``--images``, ``--only`` and ``--out`` (results are merged by row name)."""
    command.add_argument(
        "--task", choices=list(TRAINED_MODELS), default=default, help="classifier measured"
    )
    command.add_argument("--images", type=int, default=images, help="first held-out images")
    command.add_argument(
        "--only", nargs="*", default=None, help="run these rows only; the file keeps the others"
    )
    command.add_argument("--out", type=Path, default=Path(out), help="output directory")


def object_regions(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The object (pixels > 0.5) and the far background (0, at least 2 pixels from any ink)."""
    ink = (images > 0).float()
    near = F.max_pool2d(ink, kernel_size=5, stride=1, padding=2) > 0
    return images > 0.5, (images == 0) & ~near


def merge_into(path: Path, rows: dict[str, Any], about: dict[str, Any]) -> dict[str, Any]:
    """Writes ``rows`` and ``about`` (as ``_about``) into the JSON at ``path``, keeping the rows
    of earlier runs that were not run now; returns what the file holds."""
    previous = json.loads(path.read_text()) if path.exists() else {}
    merged = {**previous, **rows, "_about": about}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=2) + "\n")
    return merged

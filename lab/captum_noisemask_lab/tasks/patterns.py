"""A localisation task with a known answer: a small pattern among distractor shapes.

Each ``size x size`` greyscale image holds one of four 8x8 *class patterns* at
a random place and ``n_distractors`` 8x8 *distractor shapes* elsewhere, all
drawn with the same stroke intensity on faint noise. The class is decided by
the pattern alone, so a classifier that solves the task uses the pattern's box
and a faithful map puts its mass there; :func:`~captum_noisemask.evaluation.pointing_game`
and :func:`~captum_noisemask.evaluation.top_k_in_box` read a map against the box.

:func:`pattern_task` is the task (data, held-out split, classifier, training);
:func:`pattern_split` gives its images with their boxes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import torch
from torch import Tensor

from captum_noisemask.labelled import LabelledImages

from .base import Task
from .training import TrainingConfig

__all__ = [
    "PATTERN_SIZE",
    "PatternTask",
    "make_pattern_task",
    "pattern_split",
    "pattern_task",
    "PATTERN_CLASSES",
    "PATTERN_TRAINING",
]

#: Side of every pattern and distractor shape, in pixels.
PATTERN_SIZE = 8

_CLASS_PATTERNS = (
    # plus
    "...##...",
    "...##...",
    "...##...",
    "########",
    "########",
    "...##...",
    "...##...",
    "...##...",
    # cross
    "##....##",
    ".##..##.",
    "..####..",
    "...##...",
    "...##...",
    "..####..",
    ".##..##.",
    "##....##",
    # ring
    "########",
    "########",
    "##....##",
    "##....##",
    "##....##",
    "##....##",
    "########",
    "########",
    # checker
    "##..##..",
    "##..##..",
    "..##..##",
    "..##..##",
    "##..##..",
    "##..##..",
    "..##..##",
    "..##..##",
)
_DISTRACTORS = (
    # two bars
    "########",
    "########",
    "........",
    "........",
    "........",
    "........",
    "########",
    "########",
    # corner
    "##......",
    "##......",
    "##......",
    "##......",
    "##......",
    "##......",
    "########",
    "########",
    # tee
    "########",
    "########",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    "...##...",
    # diagonal
    "##......",
    ".##.....",
    "..##....",
    "...##...",
    "....##..",
    ".....##.",
    "......##",
    ".......#",
)


def _shapes(rows: tuple[str, ...]) -> Tensor:
    grid = torch.tensor([[c == "#" for c in row] for row in rows], dtype=torch.float32)
    return grid.view(-1, PATTERN_SIZE, PATTERN_SIZE)


#: ``(4, 8, 8)`` class patterns (label = index) and distractor shapes.
CLASS_PATTERNS = _shapes(_CLASS_PATTERNS)
DISTRACTORS = _shapes(_DISTRACTORS)


@dataclass(frozen=True)
class PatternTask:
    """Images whose class is decided by one small pattern, and where that pattern is.

    Attributes:
        data (LabelledImages): ``(N, 1, size, size)`` images in [0, 1] and
                    their labels ``0 .. 3`` (the pattern drawn).
        boxes (Tensor): ``(N, 4)`` int64 ``(top, left, bottom, right)`` of the
                    pattern, bottom and right exclusive.
    """

    data: LabelledImages
    boxes: Tensor

    def __len__(self) -> int:
        return len(self.data)


def make_pattern_task(n: int, size: int = 64, n_distractors: int = 4, seed: int = 0) -> PatternTask:
    """``n`` images: a class pattern and ``n_distractors`` distractor shapes, none touching.

    Shapes sit on a coarse grid of free ``8 x 8`` slots with a one-pixel gap,
    drawn without replacement, so they never overlap; the distractor shapes
    are drawn independently of the label.

    Args:
        n (int): Number of images.
        size (int, optional): Image side (at least 32). Default: 64
        n_distractors (int, optional): Distractor shapes per image. Default: 4
        seed (int, optional): Seeds every draw. Default: 0

    Returns:
        *PatternTask*.

    Examples::

        >>> task = make_pattern_task(16, size=64)
        >>> task.data.images.shape, task.boxes[0]
        (torch.Size([16, 1, 64, 64]), tensor([...]))
    """
    if size < 32:
        raise ValueError(f"size must be at least 32 pixels, got {size}")
    slot = PATTERN_SIZE + 2
    per_side = size // slot
    if n_distractors < 0 or n_distractors + 1 > per_side**2:
        raise ValueError(
            f"n_distractors must be 0 .. {per_side**2 - 1} for size {size}, got {n_distractors}"
        )
    generator = torch.Generator().manual_seed(seed)
    images = 0.1 * torch.rand(n, 1, size, size, generator=generator)
    labels = torch.randint(len(CLASS_PATTERNS), (n,), generator=generator)
    boxes = torch.empty(n, 4, dtype=torch.long)
    slack = size - per_side * slot
    for i in range(n):
        slots = torch.randperm(per_side**2, generator=generator)[: n_distractors + 1]
        shapes = [CLASS_PATTERNS[labels[i]]]
        picks = torch.randint(len(DISTRACTORS), (n_distractors,), generator=generator)
        shapes += [DISTRACTORS[j] for j in picks]
        # A random sub-slot offset: the pattern's place is not tied to a grid.
        offset = torch.randint(0, 2 + slack, (2,), generator=generator)
        for k, (where, shape) in enumerate(zip(slots.tolist(), shapes, strict=True)):
            top = (where // per_side) * slot + int(offset[0])
            left = (where % per_side) * slot + int(offset[1])
            region = images[i, 0, top : top + PATTERN_SIZE, left : left + PATTERN_SIZE]
            region.copy_(torch.maximum(region, 0.9 * shape))
            if k == 0:
                boxes[i] = torch.tensor([top, left, top + PATTERN_SIZE, left + PATTERN_SIZE])
    return PatternTask(LabelledImages(images, labels), boxes)


#: The classes' names: the shape each class pattern draws.
PATTERN_CLASSES = ("plus", "cross", "ring", "checker")

#: How the pattern classifier is trained (Adam, 4 epochs of 64-image batches).
PATTERN_TRAINING = TrainingConfig(
    epochs=4,
    batch_size=64,
    lr=3e-3,
    architecture="pattern-cnn",
    n_classes=4,
    shuffle_stream="shared",
)


@functools.lru_cache(maxsize=2)
def pattern_split(
    size: int = 64, n_train: int = 4000, n_held_out: int = 200, seed: int = 0
) -> tuple[PatternTask, PatternTask]:
    """The task's training and held-out images with their boxes (seeds ``seed``, ``seed + 1``).

    Cached (the last two splits), so the task's data and the boxes a benchmark scores are the
    same tensors; do not modify them in place.
    """
    return (
        make_pattern_task(n_train, size, seed=seed),
        make_pattern_task(n_held_out, size, seed=seed + 1),
    )


def pattern_task(
    size: int = 64, n_train: int = 4000, n_held_out: int = 200, seed: int = 0, epochs: int = 4
) -> Task:
    """The pattern task of one image size as a :class:`~captum_noisemask_lab.tasks.base.Task`.

    Args:
        size (int, optional): Image side (at least 32). Default: 64
        n_train (int, optional): Training images. Default: 4000
        n_held_out (int, optional): Held-out images. Default: 200
        seed (int, optional): Seeds the data and the training. Default: 0
        epochs (int, optional): Training epochs. Default: 4
    """

    def split() -> tuple[LabelledImages, LabelledImages]:
        train, held_out = pattern_split(size, n_train, n_held_out, seed)
        return train.data, held_out.data

    return Task(
        name="patterns",
        title=f"Pattern task ({size}x{size})",
        summary=f"generated {size}x{size} images of a class pattern among distractor shapes",
        class_names=PATTERN_CLASSES,
        training=replace(PATTERN_TRAINING, seed=seed, epochs=epochs),
        builtin=split,
        builtin_source=(
            f"{n_train:,} generated {size}x{size} pattern images (seed {seed}), "
            f"{n_held_out:,} held out (seed {seed + 1})"
        ),
    )

"""A localisation task with a known answer: a small pattern among distractor shapes.

Each ``size x size`` greyscale image holds one of four 8x8 *class patterns* at
a random place and ``n_distractors`` 8x8 *distractor shapes* elsewhere, all
drawn with the same stroke intensity on faint noise. The class is decided by
the pattern alone, so a classifier that solves the task uses the pattern's box
and a faithful map puts its mass there. Two scores read a map against the box:

- :func:`pointing_game`: does the map's maximum fall inside the box;
- :func:`top_k_in_box`: the share of the map's ``k`` highest pixels inside it.

Both count ties fairly (the expected score of breaking them at random), so a
constant map scores the box's share of the image, not 0 or 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..labelled import LabelledImages

__all__ = [
    "PATTERN_SIZE",
    "PatternTask",
    "make_pattern_task",
    "box_masks",
    "pointing_game",
    "top_k_in_box",
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


def box_masks(boxes: Tensor, height: int, width: int) -> Tensor:
    """``(N, height, width)`` bool, True inside each ``(top, left, bottom, right)`` box."""
    rows = torch.arange(height)[None, :, None]
    cols = torch.arange(width)[None, None, :]
    top, left, bottom, right = (boxes[:, j, None, None] for j in range(4))
    return (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)


def _relevance(maps: Tensor) -> Tensor:
    """``(N, H, W)`` from ``(N, C, H, W)`` or ``(N, H, W)`` maps, summed over channels."""
    if maps.dim() == 4:
        return maps.detach().sum(1).float().cpu()
    if maps.dim() == 3:
        return maps.detach().float().cpu()
    raise ValueError(f"maps must be (N, C, H, W) or (N, H, W), got shape {tuple(maps.shape)}")


def pointing_game(maps: Tensor, boxes: Tensor) -> Tensor:
    """Per example: 1 if the map's maximum lies in the box, 0 if not; ties shared fairly.

    With ``m`` pixels tied at the maximum, ``j`` of them in the box, the score
    is ``j / m``: the chance that a random choice among the tied pixels hits.

    Args:
        maps (Tensor): ``(N, C, H, W)`` (summed over channels) or ``(N, H, W)``;
                    larger means more relevant.
        boxes (Tensor): ``(N, 4)`` ``(top, left, bottom, right)``, exclusive ends.

    Returns:
        *Tensor* ``(N,)`` in [0, 1].
    """
    relevance = _relevance(maps)
    inside = box_masks(boxes, *relevance.shape[1:])
    flat, inside = relevance.flatten(1), inside.flatten(1)
    at_max = flat == flat.max(1, keepdim=True).values
    return (at_max & inside).sum(1) / at_max.sum(1)


def top_k_in_box(maps: Tensor, boxes: Tensor, k: int | None = None) -> Tensor:
    """Per example: the share of the map's ``k`` highest pixels that lie in the box.

    Pixels above the ``k``-th highest value count fully; the pixels tied at it
    fill the remaining places in proportion (the expectation of a random
    tie-break).

    Args:
        maps (Tensor): ``(N, C, H, W)`` (summed over channels) or ``(N, H, W)``.
        boxes (Tensor): ``(N, 4)`` ``(top, left, bottom, right)``, exclusive ends.
        k (int, optional): How many pixels. Default: the box's area (64 for an
                    8 x 8 pattern), so a perfect map scores 1.

    Returns:
        *Tensor* ``(N,)`` in [0, 1].
    """
    relevance = _relevance(maps)
    inside = box_masks(boxes, *relevance.shape[1:]).flatten(1)
    flat = relevance.flatten(1)
    if k is None:
        k = int(inside[0].sum())
    if not 0 < k <= flat.shape[1]:
        raise ValueError(f"k must be 1 .. {flat.shape[1]}, got {k}")
    kth = flat.topk(k, dim=1).values[:, -1:]
    above, tied = flat > kth, flat == kth
    places_left = k - above.sum(1)
    hits = (above & inside).sum(1) + places_left * (tied & inside).sum(1) / tied.sum(1)
    return hits / k

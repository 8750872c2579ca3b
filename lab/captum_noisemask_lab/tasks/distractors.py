"""Digits with a pasted distractor: a task whose truly used pixels are known by construction.

Each image is a test digit with a second, label-independent digit pasted to
its right (``28 x 56``). A classifier trained on such images can only learn
to ignore the right half, so the left digit's stroke pixels are *used* and the
distractor's stroke pixels are *ignored*. Both are ink of the same kind, so a
map cannot tell them apart by intensity alone: it has to reflect the model
(:func:`~captum_noisemask.evaluation.roc_auc_per_example` scores it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from captum_noisemask.labelled import LabelledImages

from .mnist import STROKE_LEVEL

__all__ = ["DistractorDigits", "paste_distractors"]


@dataclass(frozen=True)
class DistractorDigits:
    """Images with a distractor to their right, and which pixels are known to matter.

    Attributes:
        digits (LabelledImages): ``(N, 1, 28, 56)`` images with the left digit's labels.
        used (Tensor): ``(N, 1, 28, 56)`` bool, the left digit's stroke pixels.
        ignored (Tensor): ``(N, 1, 28, 56)`` bool, the distractor's stroke pixels.
    """

    digits: LabelledImages
    used: Tensor
    ignored: Tensor


def paste_distractors(
    digits: LabelledImages, pool: LabelledImages, seed: int = 0
) -> DistractorDigits:
    """Places a random digit of ``pool`` to the right of each digit of ``digits``.

    The distractor is drawn independently of the label, so it carries no
    information about it.

    Args:
        digits (LabelledImages): ``(N, 1, 28, 28)`` digits whose labels are kept.
        pool (LabelledImages): Where distractors come from.
        seed (int, optional): Seeds the draw. Default: 0

    Returns:
        *DistractorDigits*.
    """
    generator = torch.Generator().manual_seed(seed)
    pick = torch.randint(len(pool), (len(digits),), generator=generator)
    distractors = pool.images[pick]
    images = torch.cat([digits.images, distractors], dim=-1)
    blank = torch.zeros_like(digits.images, dtype=torch.bool)
    used = torch.cat([digits.images > STROKE_LEVEL, blank], dim=-1)
    ignored = torch.cat([blank, distractors > STROKE_LEVEL], dim=-1)
    return DistractorDigits(LabelledImages(images, digits.labels), used, ignored)

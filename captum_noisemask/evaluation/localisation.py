"""Ground-truth localisation: a task whose truly used pixels are known by construction.

Each image is a test digit with a second, label-independent digit pasted to
its right (``28 x 56``). A classifier trained on such images can only learn
to ignore the right half, so the left digit's stroke pixels are *used* and the
distractor's stroke pixels are *ignored*. Both are ink of the same kind, so a
map cannot tell them apart by intensity alone: it has to reflect the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ..labelled import LabelledImages
from ._ranks import average_ranks

__all__ = ["DistractorDigits", "paste_distractors", "roc_auc_per_example"]

#: Stroke pixels are those brighter than this.
STROKE_LEVEL = 0.5


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


def roc_auc_per_example(scores: Tensor, used: Tensor, ignored: Tensor) -> Tensor:
    """Area under the ROC curve separating ``used`` from ``ignored`` pixels, per example.

    The probability that a random used pixel scores higher than a random
    ignored one (ties count one half): 1 is perfect, 0.5 is chance. Pixels in
    neither set do not count.

    Args:
        scores (Tensor): ``(B, ...)`` maps; larger = more relevant.
        used (Tensor): Bool, shaped like ``scores``.
        ignored (Tensor): Bool, shaped like ``scores``.

    Returns:
        *Tensor* ``(B,)``; NaN where either set is empty.

    Examples::

        >>> import torch
        >>> from captum_noisemask.evaluation import roc_auc_per_example
        >>> used = torch.tensor([[True, True, False, False]])
        >>> roc_auc_per_example(torch.tensor([[0.9, 0.8, 0.1, 0.2]]), used, ~used)
        tensor([1.], dtype=torch.float64)
    """
    rows = []
    flat = scores.detach().flatten(1).cpu().double().numpy()
    for row, pos, neg in zip(flat, used.flatten(1).cpu(), ignored.flatten(1).cpu(), strict=True):
        rows.append(_auc(row[pos.numpy()], row[neg.numpy()]))
    return torch.tensor(rows, dtype=torch.float64)


def _auc(positive: np.ndarray, negative: np.ndarray) -> float:
    if positive.size == 0 or negative.size == 0:
        return float("nan")
    # Mann-Whitney U from average ranks of the pooled scores.
    ranks = average_ranks(np.concatenate([positive, negative]))
    u = ranks[: positive.size].sum() - positive.size * (positive.size + 1) / 2.0
    return float(u / (positive.size * negative.size))

"""Localisation scores: a map read against pixels known to matter.

- :func:`roc_auc_per_example`: how well a map separates pixels known to be used
  from pixels known to be ignored (e.g. a digit and a pasted distractor digit);
- :func:`pointing_game`: does the map's maximum fall inside a known box;
- :func:`top_k_in_box`: the share of the map's ``k`` highest pixels inside it.

The box scores count ties fairly (the expected score of breaking them at random),
so a constant map scores the box's share of the image, not 0 or 1.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ._ranks import average_ranks

__all__ = ["box_masks", "pointing_game", "roc_auc_per_example", "top_k_in_box"]


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

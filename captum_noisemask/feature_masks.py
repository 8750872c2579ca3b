"""Feature masks for :meth:`NoiseMaskAttribution.attribute`'s ``feature_mask``."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["grid_feature_mask"]


def grid_feature_mask(
    height: int, width: int, cell: int | tuple[int, int], device: torch.device | str = "cpu"
) -> Tensor:
    """Group ids of a grid of ``cell``-sized squares over an image, row by row.

    One noise level per cell instead of per pixel: on a 224 x 224 image a
    cell of 8 leaves 784 levels to learn instead of 50,176. Cells at the
    right and bottom edges are cut to fit.

    Args:
        height (int): Image height.
        width (int): Image width.
        cell (int or tuple[int, int]): Cell height and width (one int: square).
        device (torch.device or str, optional): Where the mask lives.
                    Default: "cpu"

    Returns:
        *Tensor* of shape ``(1, 1, height, width)``, int64 ids ``0 .. G - 1``,
        broadcastable to a ``(B, C, height, width)`` batch.

    Examples::

        >>> from captum_noisemask import grid_feature_mask
        >>> grid_feature_mask(4, 6, 2)[0, 0].tolist()
        [[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2], [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]]
    """
    cell_h, cell_w = (cell, cell) if isinstance(cell, int) else cell
    for name, value in (("height", height), ("width", width), ("cell", cell_h), ("cell", cell_w)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    rows = torch.arange(height, device=device) // cell_h
    cols = torch.arange(width, device=device) // cell_w
    n_cols = (width + cell_w - 1) // cell_w
    return (rows[:, None] * n_cols + cols[None, :]).view(1, 1, height, width)

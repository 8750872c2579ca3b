"""How the learned noise levels map onto the inputs: one per position, or one per feature group.

The optimiser updates *parameters*; a layout turns them into per-input maps
``w`` (broadcastable to the inputs) and turns each noise draw's gradient with
respect to the noisy inputs into a gradient with respect to the parameters.

- :class:`PerPosition`: a parameter per value of each map (the default: one
  level per pixel shared over channels for images, per element otherwise).
- :class:`FeatureGroups`: Captum's ``feature_mask`` convention, one level per
  group id and per example, shared by every element of the group, across
  inputs too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["LevelLayout", "PerPosition", "FeatureGroups", "map_shape"]


def map_shape(example_batch: Tensor) -> tuple[int, ...]:
    """Shape of the default noise-level map of a batch.

    Images ``(B, C, H, W)`` give ``(B, 1, H, W)``: one level per pixel, shared
    by its channels (the paper); videos and volumes ``(B, C, T, H, W)`` likewise
    ``(B, 1, T, H, W)``. Every other shape keeps its own: one level per
    element, so a ``(B, T, D)`` sequence gets a level per token and dimension.
    """
    if example_batch.dim() in (4, 5):
        return (example_batch.shape[0], 1, *example_batch.shape[2:])
    return tuple(example_batch.shape)


class PerPosition:
    """One parameter per value of each map.

    Args:
        shapes (Sequence[tuple[int, ...]]): Each map's shape ``(B, ...)``,
                    broadcastable to its input.
    """

    def __init__(self, shapes: Sequence[tuple[int, ...]]) -> None:
        self.shapes = [tuple(s) for s in shapes]

    def initial(self, value: float, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, ...]:
        """The starting parameters, every level ``value``."""
        return tuple(torch.full(s, value, dtype=dtype, device=device) for s in self.shapes)

    def maps(self, params: tuple[Tensor, ...], examples: slice) -> tuple[Tensor, ...]:
        """The maps of ``examples``, one per input."""
        return tuple(w[examples] for w in params)

    def per_draw(self, element_grads: tuple[Tensor, ...], examples: slice) -> tuple[Tensor, ...]:
        """Each draw's parameter gradient ``(n, b, ...)`` from its input gradients."""
        return tuple(
            g.sum_to_size(g.shape[0], g.shape[1], *shape[1:])
            for g, shape in zip(element_grads, self.shapes, strict=True)
        )

    def mean_gradient(self) -> float:
        """``d mean(w) / d param``: every map value of an example counts once."""
        return 1.0 / sum(math.prod(s[1:]) for s in self.shapes)


class FeatureGroups:
    """One parameter per feature group and example (Captum's ``feature_mask``).

    Args:
        masks (Sequence[Tensor]): Per input, integer group ids ``(1 or B, ...)``
                    broadcastable to the input, relabelled ``0 .. G - 1``;
                    an id shared by two inputs is one feature.
        batch_size (int): ``B``.
    """

    def __init__(self, masks: Sequence[Tensor], batch_size: int) -> None:
        self.masks = list(masks)
        self.batch_size = batch_size
        self.n_groups = int(max(int(m.max()) for m in self.masks)) + 1
        #: Per example (or shared: first dimension 1), how many map values each group covers.
        self.counts = torch.zeros(
            max(m.shape[0] for m in self.masks), self.n_groups, device=self.masks[0].device
        )
        for m in self.masks:
            ids = m.flatten(1).expand(self.counts.shape[0], -1)
            self.counts.scatter_add_(1, ids, torch.ones(ids.shape, device=m.device))

    def initial(self, value: float, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, ...]:
        return (torch.full((self.batch_size, self.n_groups), value, dtype=dtype, device=device),)

    def maps(self, params: tuple[Tensor, ...], examples: slice) -> tuple[Tensor, ...]:
        levels = params[0][examples]
        return tuple(
            levels.gather(1, self._ids(m, examples, levels.shape[0])).view(
                levels.shape[0], *m.shape[1:]
            )
            for m in self.masks
        )

    def per_draw(self, element_grads: tuple[Tensor, ...], examples: slice) -> tuple[Tensor, ...]:
        n, b = element_grads[0].shape[:2]
        total = element_grads[0].new_zeros(n, b, self.n_groups)
        for g, m in zip(element_grads, self.masks, strict=True):
            per_element = g.sum_to_size(n, b, *m.shape[1:]).flatten(2)
            ids = self._ids(m, examples, b).unsqueeze(0).expand(n, -1, -1)
            total.scatter_add_(2, ids, per_element)
        return (total,)

    def mean_gradient(self) -> Tensor:
        """Each group weighs as many map values as it covers."""
        return self.counts / self.counts.sum(1, keepdim=True)

    def _ids(self, mask: Tensor, examples: slice, b: int) -> Tensor:
        ids = mask.flatten(1)
        return ids[examples] if ids.shape[0] > 1 else ids.expand(b, -1)


LevelLayout = PerPosition | FeatureGroups

"""An order inside the contributing region: the evidence under the map's own noise.

The optimum of ``E(w)`` is near-binary: it says *which* positions contribute (``w < 0.5``), but
the levels inside that region are no better than chance at saying *which contribute most*
(pixel deletion and top-k localisation rank them so). This module orders them by their
**evidence**: the explained output's gradient times the input, averaged over noisy draws at
the learnt levels (the perturbations the map tolerates), summed over the values one level
covers. Positive evidence supports the explained output (the ``target``, or the clean decision
when every output is held), so removing it lowers that output first. On image-like maps
(``(B, 1, H, W)``, ``(B, 1, T, H, W)``) a position's evidence also counts its neighbourhood's
(:func:`with_neighbourhood`): gradients of max-pooled and ReLU networks are speckled, and the
neighbourhood's evidence says which speckles belong to one object.

The order is written into the levels themselves, so the map keeps a single meaning and the
certificate reads what is returned: inside the region the levels become
``CONTRIBUTING_BAND * (1 - rank)``, the strongest evidence at 0 and the weakest at
:data:`CONTRIBUTING_BAND` (rank in [0, 1] among the region's levels, ties broken by the learnt
levels). Outside the region nothing changes, so the picture (level > 0.5: non-contributing)
is the optimiser's. The band is low: the region's levels mostly go *down* (a certificate of the
ordered map holds more often than of the map as learnt; ``noisemask-lab bench-bn-picture``
measures both), at the price of the tolerated-noise reading inside the region, which the
problem's ``order="levels"`` keeps (the paper's problem does).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from .levels import LevelLayout

__all__ = [
    "CONTRIBUTING_BAND",
    "KEPT_ORDER",
    "NEIGHBOURHOOD_SIGMA",
    "NEIGHBOURHOOD_WEIGHT",
    "EvidenceOrder",
    "evidence_order",
    "with_neighbourhood",
]

#: The levels of the contributing region once ordered: ``[0, CONTRIBUTING_BAND]``.
CONTRIBUTING_BAND = 0.1
#: After a guarantee's calibration set some of the region's levels to 0, they are lifted to
#: ``KEPT_ORDER * (1 - rank)``: a thousandth of full noise at most, enough to keep the order.
KEPT_ORDER = 1e-3
#: The neighbourhood of an image-like map's position: a Gaussian of this many positions' width
#: (its kernel truncated at two widths), and the weight of the neighbourhood's mean evidence
#: next to the position's own. Chosen on the 64x64 pattern task's first 16 images from widths
#: 1-3 and weights 1-9 (top-64 in the box 0.39 -> 0.72; held-out images 16-31: 0.40 -> 0.70)
#: at the least cost to pixel deletion (MNIST, Fashion BN-ResNet and MobileNet within 4%);
#: ``noisemask-lab bench-localisation-variants`` and ``bench-bn-picture`` measure it.
NEIGHBOURHOOD_SIGMA = 2.0
NEIGHBOURHOOD_WEIGHT = 3.0


@dataclass(frozen=True)
class EvidenceOrder:
    """Where the contributing region was, and each position's rank in it, in map space.

    Attributes:
        region (tuple[Tensor, ...]): Per map, the positions whose learnt level was below 0.5.
        rank (tuple[Tensor, ...]): Per map, the position's rank in its example's region, in
                    [0, 1] (1: the strongest evidence); 0 outside the region.
    """

    region: tuple[Tensor, ...]
    rank: tuple[Tensor, ...]

    def ordered(self, maps: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """The region's levels replaced by ``CONTRIBUTING_BAND * (1 - rank)``."""
        return tuple(
            torch.where(region, CONTRIBUTING_BAND * (1 - rank), w)
            for w, region, rank in zip(maps, self.region, self.rank, strict=True)
        )

    def kept(self, maps: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """Lowered ``maps`` (a calibration's) with the region's levels at least
        ``KEPT_ORDER * (1 - rank)``, so that levels lowered to 0 keep their order.

        An example the calibration left with no noise at all (no level can hold the
        bound) keeps none: the least a map can claim."""
        noisy = torch.cat([w.flatten(1) for w in maps], 1).amax(1) > 0
        return tuple(
            torch.where(
                region & noisy.view(-1, *[1] * (w.dim() - 1)),
                torch.maximum(w, KEPT_ORDER * (1 - rank)),
                w,
            )
            for w, region, rank in zip(maps, self.region, self.rank, strict=True)
        )


def with_neighbourhood(evidence: Tensor) -> Tensor:
    """A position's evidence plus :data:`NEIGHBOURHOOD_WEIGHT` times its neighbourhood's mean.

    The mean is Gaussian-weighted (:data:`NEIGHBOURHOOD_SIGMA`) over the last two dimensions
    of an image-like map (``(B, 1, H, W)`` or ``(B, 1, T, H, W)``: the shapes of
    :func:`~captum_noisemask.core.levels.map_shape`), and normalised by the kernel's mass
    inside the map, so that borders are not penalised. Any other shape (tokens, tabular
    features, feature-mask groups) has no neighbourhood and is returned unchanged.

    Args:
        evidence (Tensor): One map's evidence.

    Returns:
        *Tensor* shaped like ``evidence``.

    Examples::

        >>> import torch
        >>> from captum_noisemask.core.evidence import with_neighbourhood
        >>> lone, crowded = torch.zeros(1, 1, 9, 9), torch.zeros(1, 1, 9, 9)
        >>> lone[0, 0, 4, 4] = 1.0  # an isolated speckle ...
        >>> crowded[0, 0, 3:6, 3:6] = 0.9  # ... against a patch of slightly weaker evidence
        >>> bool(with_neighbourhood(crowded)[0, 0, 4, 4] > with_neighbourhood(lone)[0, 0, 4, 4])
        True
    """
    if evidence.dim() not in (4, 5):
        return evidence
    radius = int(2 * NEIGHBOURHOOD_SIGMA)
    offsets = torch.arange(-radius, radius + 1, dtype=evidence.dtype, device=evidence.device)
    kernel = torch.exp(-(offsets**2) / (2 * NEIGHBOURHOOD_SIGMA**2))
    kernel = kernel / kernel.sum()
    planes = evidence.reshape(-1, 1, *evidence.shape[-2:])

    def blur(x: Tensor) -> Tensor:
        x = F.conv2d(x, kernel.view(1, 1, 1, -1), padding=(0, radius))
        return F.conv2d(x, kernel.view(1, 1, -1, 1), padding=(radius, 0))

    mean = blur(planes) / blur(torch.ones_like(planes[:1]))
    return evidence + NEIGHBOURHOOD_WEIGHT * mean.view_as(evidence)


def evidence_order(
    params: tuple[Tensor, ...], evidence: tuple[Tensor, ...], layout: LevelLayout
) -> EvidenceOrder:
    """Ranks every example's contributing levels by their evidence.

    Args:
        params (tuple[Tensor, ...]): The learnt levels, the layout's parameters ``(B, ...)``.
        evidence (tuple[Tensor, ...]): Per parameter, its evidence (same shapes), as
                    :meth:`~captum_noisemask.core.optimisation.NoisyNetwork.evidence` measures it.
        layout (LevelLayout): How parameters become maps.

    Returns:
        *EvidenceOrder*: the region and the ranks, in map space.

    Examples::

        >>> import torch
        >>> from captum_noisemask.core.evidence import evidence_order
        >>> from captum_noisemask.core.levels import PerPosition
        >>> w = torch.tensor([[0.0, 0.3, 0.9, 0.1]])
        >>> evidence = torch.tensor([[1.0, 5.0, 9.0, -2.0]])
        >>> order = evidence_order((w,), (evidence,), PerPosition([(1, 4)]))
        >>> [round(v, 3) for v in order.ordered((w,))[0][0].tolist()]
        [0.05, 0.0, 0.9, 0.1]
    """
    flat_levels = torch.cat([p.detach().flatten(1) for p in params], 1)
    flat_evidence = torch.cat([with_neighbourhood(e.detach()).flatten(1) for e in evidence], 1)
    region = flat_levels < 0.5
    # Strongest evidence last; among equal evidence the lower learnt level ranks higher.
    by_level = torch.argsort(-flat_levels, dim=1, stable=True)
    evidence_sorted = torch.where(region, flat_evidence, -torch.inf).gather(1, by_level)
    order = by_level.gather(1, torch.argsort(evidence_sorted, dim=1, stable=True))
    position = torch.empty_like(order).scatter_(
        1, order, torch.arange(order.shape[1], device=order.device).expand_as(order)
    )
    outside = (~region).sum(1, keepdim=True)
    inside = region.sum(1, keepdim=True)
    rank = ((position - outside).to(flat_levels) / (inside - 1).clamp_min(1)).clamp(0, 1)
    rank = torch.where(inside == 1, torch.ones_like(rank), rank)  # a lone position is first
    rank = torch.where(region, rank, torch.zeros_like(rank))
    sizes = [p[0].numel() for p in params]
    ranks = tuple(r.view_as(p) for r, p in zip(rank.split(sizes, 1), params, strict=True))
    regions = tuple(r.view_as(p) for r, p in zip(region.split(sizes, 1), params, strict=True))
    everyone = slice(None)
    region_values = tuple(r.to(p) for r, p in zip(regions, params, strict=True))
    return EvidenceOrder(
        region=tuple(m > 0.5 for m in layout.maps(region_values, everyone)),
        rank=layout.maps(ranks, everyone),
    )

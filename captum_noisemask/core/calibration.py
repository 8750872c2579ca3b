"""A map that keeps its promise: lower the levels until a certificate bound holds.

After the optimisation, every example's map ``w`` is scaled by the largest
factor ``t`` in [0, 1] (found by bisection) for which fresh, independent
draws at ``t * w`` keep every held output within the tolerance with a
Clopper-Pearson lower bound of at least a calibration target. Scaling keeps
the map's ranking. The target is stricter than the guarantee itself, half way
from it to 1, so that a *fresh* certificate (new draws) meets the guarantee
too, not only the draws the factor was chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .levels import PerPosition
from .problem import CleanPass
from .statistics import clopper_pearson_lower

__all__ = ["CALIBRATION_DRAWS", "BISECTION_STEPS", "Calibration", "calibrate_levels"]

#: Independent draws per example behind each tried factor.
CALIBRATION_DRAWS = 400
#: Halvings of the factor's interval after the map itself failed (precision 1/32).
BISECTION_STEPS = 5


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate_levels`.

    Attributes:
        maps (tuple[Tensor, ...]): The scaled levels.
        factor (Tensor): Per example, the factor ``t`` applied.
        feasible (Tensor): Per example, whether the bound holds at some ``t``
                    (False: not even ``t = 0``, no noise at all, meets it).
        full_noise_holds (Tensor): Per example, whether full noise on every
                    position meets it (then nothing can contribute); measured
                    only when some example's map holds as learnt, else False.
    """

    maps: tuple[Tensor, ...]
    factor: Tensor
    feasible: Tensor
    full_noise_holds: Tensor


def calibrate_levels(
    clean_pass: CleanPass, maps: tuple[Tensor, ...], guarantee: float, confidence: float
) -> Calibration:
    """Scales each example's levels down until the masked network's bound holds.

    Args:
        clean_pass (CleanPass): The explained problem's clean pass.
        maps (tuple[Tensor, ...]): Learnt levels, ``(B, ...)`` per input.
        guarantee (float): The share of draws to certify, in (0, 1).
        confidence (float): Of the Clopper-Pearson bound.

    Returns:
        *Calibration*.
    """
    target = 1.0 - (1.0 - guarantee) / 2
    layout = PerPosition([tuple(w.shape) for w in maps])
    network = clean_pass.network(layout, CALIBRATION_DRAWS, masked=True, forward_only=True)
    batch = clean_pass.batch_size

    def holds(factor: Tensor) -> Tensor:
        levels = tuple(w * factor.view(-1, *[1] * (w.dim() - 1)).to(w) for w in maps)
        successes = network.outcomes(levels).within.sum(0)
        return clopper_pearson_lower(successes, CALIBRATION_DRAWS, confidence).cpu() >= target

    device = maps[0].device
    ones = torch.ones(batch, dtype=torch.float64)
    low, high = torch.zeros_like(ones), ones.clone()
    at_map = holds(ones.to(device))
    low = torch.where(at_map, ones, low)
    for _ in range(BISECTION_STEPS):
        open_ = ~at_map
        if not bool(open_.any()):
            break
        mid = (low + high) / 2
        ok = holds(torch.where(open_, mid, low).to(device))
        low = torch.where(open_ & ok, mid, low)
        high = torch.where(open_ & ~ok, mid, high)
    feasible = at_map | (low > 0)
    if not bool(feasible.all()):  # only then is "no noise at all" worth a check
        feasible |= holds(torch.zeros_like(ones).to(device))
    # Full noise is at least the map's levels everywhere: where the map already fails, full
    # noise fails too on any model whose outputs move more with more noise, so the check (400
    # draws per example) runs only when some map holds as learnt.
    nowhere = torch.zeros(batch, dtype=torch.bool)
    full = holds_full_noise(clean_pass, target, confidence) if bool(at_map.any()) else nowhere
    scaled = tuple(w * low.view(-1, *[1] * (w.dim() - 1)).to(w) for w in maps)
    return Calibration(scaled, low, feasible, full)


def holds_full_noise(clean_pass: CleanPass, target: float, confidence: float) -> Tensor:
    """Per example: full noise everywhere keeps the held outputs within the tolerance."""
    network = clean_pass.network(
        clean_pass.per_position(), CALIBRATION_DRAWS, masked=True, forward_only=True
    )
    successes = network.outcomes(clean_pass.full_noise()).within.sum(0)
    return clopper_pearson_lower(successes, CALIBRATION_DRAWS, confidence).cpu() >= target

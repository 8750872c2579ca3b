"""A map that keeps its promise: lower the levels until a certificate bound holds.

After the optimisation, every example's map ``w`` is lowered along a one-parameter family
``lowered(w, s)`` to the largest ``s`` in [0, 2] (found by bisection) for which fresh,
independent draws at those levels keep every held output within the tolerance with a
Clopper-Pearson lower bound of at least a calibration target. The family takes noise away
from the *most* relevant positions first, so the positions the map calls least relevant keep
their full noise as long as possible and the picture survives (scaling every level by one
factor, the obvious family, turns a position the model ignores from ``w = 1`` into
``w = 0.5``, "contributing"):

- ``s`` in [1, 2], ``t = s - 1``: ``clamp((w - (1 - t)) / t, 0, 1)``, a ramp that lowers the
  levels below ``1 - t`` to 0 and stretches the rest; ``s = 2`` is the map itself, and as
  ``t`` falls only the positions at ``w = 1`` keep their noise;
- ``s`` in [0, 1]: ``s`` on the positions at ``w = 1``, 0 elsewhere; ``s = 0`` is no noise.

Every member lies below the map (levels only go down) and rises with ``s`` at every position,
so the bisection finds the boundary of a monotone question. The target is stricter than the
guarantee itself, half way from it to 1, so that a *fresh* certificate (new draws) meets the
guarantee too, not only the draws ``s`` was chosen on.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .levels import PerPosition
from .problem import CleanPass
from .sequential import sequential_bound

__all__ = ["CALIBRATION_DRAWS", "BISECTION_STEPS", "Calibration", "calibrate_levels", "lowered"]

#: Independent draws per example behind each tried member of the family.
CALIBRATION_DRAWS = 400
#: Halvings of ``s``'s interval [0, 2] after the map itself failed (precision 1/32).
BISECTION_STEPS = 6
#: ``s`` of the map itself.
AS_LEARNT = 2.0


@dataclass(frozen=True)
class Calibration:
    """Result of :func:`calibrate_levels`.

    Attributes:
        maps (tuple[Tensor, ...]): The lowered levels.
        strength (Tensor): Per example, the family's ``s`` applied (2: the map as learnt).
        feasible (Tensor): Per example, whether the bound holds at some ``s``
                    (False: not even ``s = 0``, no noise at all, meets it).
        full_noise_holds (Tensor): Per example, whether full noise on every
                    position meets it (then nothing can contribute); measured
                    only when some example's map holds as learnt, else False.
    """

    maps: tuple[Tensor, ...]
    strength: Tensor
    feasible: Tensor
    full_noise_holds: Tensor


def lowered(w: Tensor, strength: Tensor) -> Tensor:
    """The family's member ``s = strength`` (one per example, ``(B,)``) of levels ``w``.

    Examples::

        >>> import torch
        >>> from captum_noisemask.core.calibration import lowered
        >>> w = torch.tensor([[0.2, 0.6, 1.0]])
        >>> for s in (2.0, 1.5, 0.5):  # the map, the ramp, the full-noise positions only
        ...     print([round(v, 3) for v in lowered(w, torch.tensor([s]))[0].tolist()])
        [0.2, 0.6, 1.0]
        [0.0, 0.2, 1.0]
        [0.0, 0.0, 0.5]
    """
    s = strength.view(-1, *[1] * (w.dim() - 1)).to(w)
    t = (s - 1).clamp(0, 1)
    ramp = ((w - (1 - t)) / t.clamp_min(torch.finfo(w.dtype).tiny)).clamp(0, 1)
    full = (w >= 1).to(w) * s.clamp(max=1)
    return torch.where(s > 1, ramp, full)


def calibrate_levels(
    clean_pass: CleanPass, maps: tuple[Tensor, ...], guarantee: float, confidence: float
) -> Calibration:
    """Lowers each example's levels (:func:`lowered`) until the masked network's bound holds.

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
    batch = clean_pass.batch_size

    def holds(strength: Tensor) -> Tensor:
        levels = tuple(lowered(w, strength) for w in maps)
        return _bound_holds(clean_pass, layout, levels, target, confidence)

    device = maps[0].device
    full = torch.full((batch,), AS_LEARNT, dtype=torch.float64)
    low, high = torch.zeros_like(full), full.clone()
    at_map = holds(full.to(device))
    low = torch.where(at_map, full, low)
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
        feasible |= holds(torch.zeros_like(full).to(device))
    # Full noise is at least the map's levels everywhere: where the map already fails, full
    # noise fails too on any model whose outputs move more with more noise, so the check (400
    # draws per example) runs only when some map holds as learnt.
    nowhere = torch.zeros(batch, dtype=torch.bool)
    noise_everywhere = (
        holds_full_noise(clean_pass, target, confidence) if bool(at_map.any()) else nowhere
    )
    chosen = tuple(lowered(w, low.to(device)) for w in maps)
    return Calibration(chosen, low, feasible, noise_everywhere)


def holds_full_noise(clean_pass: CleanPass, target: float, confidence: float) -> Tensor:
    """Per example: full noise everywhere keeps the held outputs within the tolerance."""
    return _bound_holds(
        clean_pass, clean_pass.per_position(), clean_pass.full_noise(), target, confidence
    )


def _bound_holds(
    clean_pass: CleanPass,
    layout: PerPosition,
    levels: tuple[Tensor, ...],
    target: float,
    confidence: float,
) -> Tensor:
    """Per example: the masked network's bound at ``levels`` reaches ``target``, on at most
    :data:`CALIBRATION_DRAWS` fresh draws, each example stopping once that is settled."""

    def draw_within(n: int, open_: Tensor) -> Tensor:
        network = clean_pass.network(layout, n, masked=True, forward_only=True)
        return network.outcomes(levels, open_.to(levels[0].device)).within.sum(0)

    bound = sequential_bound(
        draw_within, clean_pass.batch_size, CALIBRATION_DRAWS, target, confidence
    )
    return bound.lower >= target

"""Noise deletion: the question a NoiseMask map answers, asked of every method.

A map ranks positions; put the method's own noise, ``U[-1, 1]`` at full
strength, on the ``k`` positions it ranks *least* relevant, run the caller's
unmodified model, and count the draws whose held outputs all stay within the
tolerance *and* whose decision (top-1 output) is kept. A good map frees many
positions before the outputs move: the curve over ``k`` stays high for long.
Its area summarises it, and the *certified fraction* is the largest share of
positions whose noise keeps the outputs with a Clopper-Pearson lower bound of
at least ``level``.

The tolerance, its unit, the noise and the output transform are a
:class:`~captum_noisemask.NoiseMaskProblem`'s (its mask units are not used:
the question is asked of the plain model). The default is the library's
problem, 0.4 x each example's response to full noise (measured here on the
plain model), so the question is the same for every method and every model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ..core.levels import PerPosition, map_shape
from ..core.problem import NoiseMaskProblem
from ..core.statistics import clopper_pearson_lower
from .pixel_flipping import rank_features

__all__ = ["NoiseDeletionCurve", "noise_deletion_curve"]


@dataclass(frozen=True)
class NoiseDeletionCurve:
    """Share of draws that keep the outputs, against the fraction of positions noised.

    Attributes:
        fractions (Tensor): ``(K,)`` fractions of positions under full noise, 0 to 1.
        kept (Tensor): ``(B, K)`` share of draws with every held output within
                    the tolerance and the decision kept.
        kept_lower (Tensor): ``(B, K)`` its one-sided Clopper-Pearson lower bound.
        level (float): The bound the certified fraction asks for.
    """

    fractions: Tensor
    kept: Tensor
    kept_lower: Tensor
    level: float

    def area(self) -> Tensor:
        """``(B,)`` trapezoidal area under each example's curve (higher is better)."""
        return torch.trapezoid(self.kept, self.fractions, dim=1)

    def certified_fraction(self) -> Tensor:
        """``(B,)`` the largest fraction up to which every point's bound is >= ``level``."""
        holds = (self.kept_lower >= self.level).cumprod(dim=1).bool()
        index = holds.sum(1) - 1  # the last point of the run that holds from the start
        fractions = self.fractions.to(self.kept.device)
        return torch.where(
            index >= 0, fractions[index.clamp_min(0)], torch.zeros_like(index).to(fractions)
        )


def noise_deletion_curve(
    forward_func: Callable[..., Tensor],
    inputs: Tensor,
    attributions: Tensor,
    target: object = None,
    *,
    problem: NoiseMaskProblem | None = None,
    n_steps: int = 20,
    n_draws: int = 100,
    confidence: float = 0.95,
    level: float = 0.95,
    seed: int = 0,
    internal_batch_size: int | None = 4096,
) -> NoiseDeletionCurve:
    """Full noise on the least relevant positions first; does the model keep its outputs?

    Args:
        forward_func (Callable): The model (unmodified: no mask units).
        inputs (Tensor): ``(B, ...)`` examples.
        attributions (Tensor): Maps shaped like ``inputs``; larger = more relevant.
                    Images are ranked per pixel (summed over channels).
        target (optional): Held outputs in Captum's target forms; ``None``
                    holds them all. Default: None
        problem (NoiseMaskProblem, optional): The tolerance and its unit, the
                    noise scale and the output transform; its mask rule and
                    thresholds are ignored (the plain model is asked).
                    ``None``: ``NoiseMaskProblem()``. Default: None
        n_steps (int, optional): Curve points after 0. Default: 20
        n_draws (int, optional): Independent draws per example and point. Default: 100
        confidence (float, optional): Of the lower bounds. Default: 0.95
        level (float, optional): What the certified fraction asks of them. Default: 0.95
        seed (int, optional): Seeds tie-breaking and the draws. Default: 0
        internal_batch_size (int, optional): Most rows per forward pass.
                    Default: 4096

    Returns:
        *NoiseDeletionCurve*.

    Examples::

        >>> import torch
        >>> from captum_noisemask.evaluation import noise_deletion_curve
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> x = torch.rand(3, 1, 2, 2)
        >>> curve = noise_deletion_curve(model, x, x, n_steps=4, n_draws=20)
        >>> curve.kept.shape, curve.area().shape
        (torch.Size([3, 5]), torch.Size([3]))
    """
    # No mask units, so no rule's reference pass either: the plain model is asked.
    plain = (problem or NoiseMaskProblem()).replace(mask_rule="paper", thresholds={})
    generator = torch.Generator().manual_seed(seed)
    clean_pass = plain.prepare(
        forward_func, None, {}, (inputs,), target, None, None, generator, internal_batch_size
    )
    shape = map_shape(inputs)
    order = rank_features(attributions, generator)  # most relevant first
    n_positions = order.shape[1]
    fractions = torch.linspace(0.0, 1.0, n_steps + 1, dtype=torch.float64)
    network = clean_pass.network(PerPosition([shape]), n_draws, masked=False)
    kept = []
    for fraction in fractions.tolist():
        k = round(fraction * n_positions)
        levels = torch.zeros(inputs.shape[0], n_positions, dtype=inputs.dtype)
        if k:
            levels.scatter_(1, order[:, n_positions - k :].cpu(), 1.0)  # the k least relevant
        outcomes = network.outcomes((levels.view(shape).to(inputs.device),))
        kept.append((outcomes.within & outcomes.decision_kept).sum(0))
    successes = torch.stack(kept, dim=1)
    return NoiseDeletionCurve(
        fractions,
        successes.to(torch.float64) / n_draws,
        clopper_pearson_lower(successes, n_draws, confidence),
        level,
    )

"""Pixel flipping: delete (or insert) features in the order a map ranks them.

A map ranks the features of each example; the curve records the model's
target probability as a growing fraction of them is removed (deletion) or
restored (insertion). Two removal operators are offered because they answer
different questions: on MNIST the zero baseline *is* the background, so
zero-deletion of background pixels changes nothing, while uniform noise
changes every pixel it touches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor

__all__ = [
    "Removal",
    "PerturbationCurve",
    "rank_features",
    "removal_values",
    "deletion_curve",
    "insertion_curve",
]

#: ``"baseline"`` puts a constant in place of a removed feature; ``"uniform"`` puts
#: noise drawn uniformly from ``value_range`` (one fixed draw per example, shared
#: by every method and every fraction, so curves differ only by the ranking).
Removal = Literal["baseline", "uniform"]


@dataclass(frozen=True)
class PerturbationCurve:
    """Target probability against the fraction of features removed or inserted.

    Attributes:
        fractions (Tensor): ``(K,)`` fractions from 0 to 1.
        probabilities (Tensor): ``(B, K)`` target probability per example.
    """

    fractions: Tensor
    probabilities: Tensor

    def area(self) -> Tensor:
        """``(B,)`` trapezoidal area under each example's curve (fractions span [0, 1])."""
        return torch.trapezoid(self.probabilities, self.fractions, dim=1)


def rank_features(attributions: Tensor, generator: torch.Generator) -> Tensor:
    """Per-example feature order, most relevant first, ties broken at random.

    A feature is a pixel: a ``(B, C, H, W)`` map is summed over channels
    first, so all channels of a pixel go together. Other shapes rank every
    element. Ties (frequent in near-binary maps) are broken by a random
    permutation drawn from ``generator``, so the order is reproducible under a
    seed and does not favour any image position.

    Returns:
        *Tensor* ``(B, F)`` of feature indices into the flattened pixel grid.
    """
    scores = _pixel_scores(attributions)
    shuffle = torch.stack(
        [torch.randperm(scores.shape[1], generator=generator) for _ in range(scores.shape[0])]
    ).to(scores.device)
    shuffled = scores.gather(1, shuffle)
    order = shuffled.argsort(dim=1, descending=True, stable=True)
    return shuffle.gather(1, order)


def removal_values(
    inputs: Tensor,
    removal: Removal,
    baseline: float,
    value_range: tuple[float, float],
    generator: torch.Generator,
) -> Tensor:
    """What a removed feature becomes, as a tensor shaped like ``inputs``."""
    if removal == "baseline":
        return torch.full_like(inputs, baseline)
    if removal == "uniform":
        low, high = value_range
        noise = torch.rand(inputs.shape, generator=generator, dtype=inputs.dtype)
        return (low + (high - low) * noise).to(inputs.device)
    raise ValueError(f"removal must be 'baseline' or 'uniform', got {removal!r}")


def deletion_curve(
    forward_func: Callable[[Tensor], Tensor],
    inputs: Tensor,
    attributions: Tensor,
    target: int | Tensor,
    order: Literal["morf", "lerf"] = "morf",
    removal: Removal = "baseline",
    n_steps: int = 20,
    baseline: float = 0.0,
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
) -> PerturbationCurve:
    """Deletes features most-relevant-first (MoRF) or least-relevant-first (LeRF).

    Args:
        forward_func (Callable): Returns logits ``(B, n_classes)``; the curve
                    reports their softmax at ``target``.
        inputs (Tensor): ``(B, ...)`` examples.
        attributions (Tensor): Maps shaped like ``inputs``; larger = more relevant.
        target (int or Tensor): Class of every example, or ``(B,)`` one per example.
        order (str, optional): ``"morf"`` (a good map drops the probability
                    fast: low area is good) or ``"lerf"`` (a good map keeps it:
                    high area is good). Default: ``"morf"``
        removal (str, optional): ``"baseline"`` or ``"uniform"``; see :data:`Removal`.
                    Default: ``"baseline"``
        n_steps (int, optional): Curve points after 0 (fractions 0, 1/n, ..., 1).
                    Default: 20
        baseline (float, optional): The constant of ``"baseline"`` removal. Default: 0.0
        value_range (tuple[float, float], optional): Range of ``"uniform"`` noise.
                    Default: (0.0, 1.0)
        seed (int, optional): Seeds tie-breaking and noise. Default: 0

    Returns:
        *PerturbationCurve*.

    Examples::

        >>> import torch
        >>> from captum_noisemask.evaluation import deletion_curve
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2))
        >>> x = torch.rand(3, 1, 2, 2)
        >>> curve = deletion_curve(model, x, x, torch.tensor([0, 1, 0]), n_steps=4)
        >>> curve.probabilities.shape
        torch.Size([3, 5])
    """
    if order not in ("morf", "lerf"):
        raise ValueError(f"order must be 'morf' or 'lerf', got {order!r}")
    settings = _CurveSettings(removal, n_steps, baseline, value_range, seed)
    return _curve(forward_func, inputs, attributions, target, settings, order, insert=False)


def insertion_curve(
    forward_func: Callable[[Tensor], Tensor],
    inputs: Tensor,
    attributions: Tensor,
    target: int | Tensor,
    removal: Removal = "baseline",
    n_steps: int = 20,
    baseline: float = 0.0,
    value_range: tuple[float, float] = (0.0, 1.0),
    seed: int = 0,
) -> PerturbationCurve:
    """Starts from the fully removed input and restores features most relevant first.

    A good map brings the target probability back quickly: high area is good.
    Arguments are those of :func:`deletion_curve` (without ``order``).

    Returns:
        *PerturbationCurve*.
    """
    settings = _CurveSettings(removal, n_steps, baseline, value_range, seed)
    return _curve(forward_func, inputs, attributions, target, settings, "morf", insert=True)


@dataclass(frozen=True)
class _CurveSettings:
    removal: Removal
    n_steps: int
    baseline: float
    value_range: tuple[float, float]
    seed: int


def _curve(
    forward_func: Callable[[Tensor], Tensor],
    inputs: Tensor,
    attributions: Tensor,
    target: int | Tensor,
    settings: _CurveSettings,
    order: str,
    insert: bool,
) -> PerturbationCurve:
    if attributions.shape != inputs.shape:
        raise ValueError(
            f"attributions {tuple(attributions.shape)} must have the inputs' shape "
            f"{tuple(inputs.shape)}"
        )
    target = torch.as_tensor(target, device=inputs.device).reshape(-1)
    if target.numel() == 1:
        target = target.expand(inputs.shape[0])
    if target.numel() != inputs.shape[0]:
        raise ValueError(
            f"target must be one class or one per example ({inputs.shape[0]}), "
            f"got {target.numel()} values"
        )
    if settings.n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {settings.n_steps}")
    generator = torch.Generator().manual_seed(settings.seed)
    # Noise first: its draw depends only on the input shape, so every method gets the same.
    replacement = removal_values(
        inputs, settings.removal, settings.baseline, settings.value_range, generator
    )
    ranking = rank_features(attributions.detach(), generator)
    if order == "lerf":
        ranking = ranking.flip(1)
    n_features = ranking.shape[1]
    # position[b, f] = where feature f comes in example b's order.
    position = torch.empty_like(ranking).scatter_(
        1, ranking, torch.arange(n_features, device=ranking.device).expand_as(ranking)
    )
    fractions = torch.linspace(0.0, 1.0, settings.n_steps + 1)
    probabilities = []
    with torch.no_grad():
        for fraction in fractions:
            chosen = position < int(round(float(fraction) * n_features))
            chosen = _broadcast_pixels(chosen, inputs)
            if insert:
                perturbed = torch.where(chosen, inputs, replacement)
            else:
                perturbed = torch.where(chosen, replacement, inputs)
            logits = forward_func(perturbed)
            probabilities.append(logits.softmax(1).gather(1, target.view(-1, 1))[:, 0])
    return PerturbationCurve(fractions, torch.stack(probabilities, 1).cpu())


def _pixel_scores(attributions: Tensor) -> Tensor:
    """``(B, F)`` scores: channel sums per pixel for images, elements otherwise."""
    if attributions.dim() == 4:
        return attributions.sum(1).flatten(1)
    return attributions.flatten(1)


def _broadcast_pixels(chosen: Tensor, inputs: Tensor) -> Tensor:
    """Reshapes a ``(B, F)`` feature selection onto ``inputs`` (all channels of a pixel)."""
    if inputs.dim() == 4:
        batch, _, height, width = inputs.shape
        return chosen.view(batch, 1, height, width).expand_as(inputs)
    return chosen.view(inputs.shape)

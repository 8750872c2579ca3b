"""Captum's ``infidelity`` and ``sensitivity_max``, seeded and batched for any method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from captum.metrics import infidelity, sensitivity_max
from torch import Tensor

__all__ = ["INFIDELITY_PERTURBATIONS", "infidelity_score", "max_sensitivity"]

#: The perturbations of :func:`infidelity_score` (Yeh et al., 2019, section 5).
INFIDELITY_PERTURBATIONS = ("noisy_baseline", "square_removal")


def infidelity_score(
    forward_func: Callable[..., Tensor],
    inputs: Tensor,
    attributions: Tensor,
    target: Tensor,
    perturbation: str = "noisy_baseline",
    n_perturb_samples: int = 100,
    seed: int = 0,
    noise_std: float = 0.2,
    largest_square: int = 10,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> Tensor:
    r"""Infidelity (Yeh et al., 2019) with the two perturbations of their MNIST experiments.

    :math:`\mathbb{E}_I[(\beta I^\top \Phi - (f(x) - f(x - I)))^2]` on the target
    logit, through Captum's ``infidelity`` with ``normalize=True``: :math:`\beta`
    is each map's least-squares optimal scale, as in the paper, so maps with
    arbitrary units (NoiseMask's lie in [0, 1]) are compared fairly. Lower is
    better. The perturbations:

    - ``"noisy_baseline"``: :math:`x - I` is a noisy black image,
      :math:`\mathrm{clip}(l + \sigma (h - l) z, l, h)` with
      :math:`z \sim \mathcal{N}(0, 1)` per pixel and ``value_range`` :math:`(l, h)`;
      :math:`I` is the difference to the input (the paper's "noisy baseline").
    - ``"square_removal"``: a square of side uniform in ``1..largest_square`` at
      a uniform position is set to :math:`l`; :math:`I` is the square's 0/1
      indicator (the paper's "square removal" with binary :math:`I`). The paper
      enumerates every square; this samples ``n_perturb_samples`` of them.

    Args:
        forward_func (Callable): The model.
        inputs (Tensor): ``(B, C, H, W)`` images in ``value_range``.
        attributions (Tensor): Maps shaped like ``inputs``.
        target (Tensor): ``(B,)`` classes.
        perturbation (str, optional): ``"noisy_baseline"`` or ``"square_removal"``.
                    Default: ``"noisy_baseline"``
        n_perturb_samples (int, optional): Perturbations per example. Default: 100
        seed (int, optional): Seeds the perturbations. Default: 0
        noise_std (float, optional): :math:`\sigma` of the noisy baseline, as a
                    fraction of the value range. Default: 0.2 (the paper's)
        largest_square (int, optional): Largest square side. Default: 10 (the
                    paper's for MNIST)
        value_range (tuple, optional): ``(low, high)`` of the inputs; ``low`` is
                    the removal value. Default: ``(0.0, 1.0)``

    Returns:
        *Tensor* ``(B,)``.
    """
    if perturbation not in INFIDELITY_PERTURBATIONS:
        raise ValueError(
            f"perturbation must be one of {INFIDELITY_PERTURBATIONS}, got {perturbation!r}"
        )
    if inputs.dim() != 4:
        raise ValueError(f"inputs must be (B, C, H, W) images, got shape {tuple(inputs.shape)}")
    low, high = value_range
    generator = torch.Generator().manual_seed(seed)

    def noisy_baseline(batch: Tensor) -> tuple[Tensor, Tensor]:
        z = torch.randn(batch.shape, generator=generator).to(batch)
        perturbed = (low + noise_std * (high - low) * z).clamp(low, high)
        return batch - perturbed, perturbed

    def square_removal(batch: Tensor) -> tuple[Tensor, Tensor]:
        rows, _, height, width = batch.shape
        side = torch.randint(1, largest_square + 1, (rows,), generator=generator)
        top = (torch.rand(rows, generator=generator) * (height - side + 1)).long()
        left = (torch.rand(rows, generator=generator) * (width - side + 1)).long()
        ys, xs = torch.arange(height), torch.arange(width)
        inside_rows = (ys >= top[:, None]) & (ys < (top + side)[:, None])
        inside_cols = (xs >= left[:, None]) & (xs < (left + side)[:, None])
        square = (inside_rows[:, :, None] & inside_cols[:, None, :])[:, None].to(batch)
        square = square.expand_as(batch)
        return square, batch * (1 - square) + low * square

    perturb = noisy_baseline if perturbation == "noisy_baseline" else square_removal
    with torch.no_grad():
        return infidelity(
            forward_func,
            perturb,
            inputs,
            attributions.detach(),
            target=target,
            n_perturb_samples=n_perturb_samples,
            normalize=True,
        ).cpu()


def max_sensitivity(
    explanation_func: Callable[..., Tensor],
    inputs: Tensor,
    target: Tensor,
    radius: float = 0.02,
    n_perturb_samples: int = 5,
    seed: int = 0,
    chunk_size: int | None = None,
    explanation_kwargs: dict[str, Any] | None = None,
) -> Tensor:
    """Captum's ``sensitivity_max``: the largest relative change of the map under small noise.

    Each example is perturbed ``n_perturb_samples`` times uniformly within
    ``radius`` (L-infinity); the score is the largest
    ``||map(x + d) - map(x)|| / ||map(x)||``. Lower is better (a stable map).

    Args:
        explanation_func (Callable): An ``attribute`` method.
        inputs (Tensor): ``(B, ...)`` examples.
        target (Tensor): ``(B,)`` classes.
        radius (float, optional): Perturbation radius. Default: 0.02
        n_perturb_samples (int, optional): Perturbations per example. Default: 5
        seed (int, optional): Seeds the perturbations. Default: 0
        chunk_size (int, optional): Examples per ``explanation_func`` call.
                    Default: all at once
        explanation_kwargs (dict, optional): More arguments of
                    ``explanation_func`` (e.g. NoiseMask's own ``seed``).

    Returns:
        *Tensor* ``(B,)``.
    """

    def perturb(batch: Tensor, perturb_radius: float) -> Tensor:
        noise = torch.rand(batch.shape, generator=generator).to(batch)
        return batch + (2 * noise - 1) * perturb_radius

    generator = torch.Generator().manual_seed(seed)
    size = chunk_size or inputs.shape[0]
    scores = [
        sensitivity_max(
            explanation_func,
            inputs[start : start + size],
            perturb_func=perturb,
            perturb_radius=radius,
            n_perturb_samples=n_perturb_samples,
            # Captum then explains one perturbation of the whole chunk per call (the last
            # chunk may be shorter: Captum warns when this exceeds chunk x samples).
            max_examples_per_batch=len(inputs[start : start + size]),
            target=target[start : start + size],
            **(explanation_kwargs or {}),
        )
        for start in range(0, inputs.shape[0], size)
    ]
    return torch.cat(scores).detach().cpu()

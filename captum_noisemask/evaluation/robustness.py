"""Captum's ``infidelity`` and ``sensitivity_max``, seeded and batched for any method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from captum.metrics import infidelity, sensitivity_max
from torch import Tensor

__all__ = ["infidelity_score", "max_sensitivity"]


def infidelity_score(
    forward_func: Callable[..., Tensor],
    inputs: Tensor,
    attributions: Tensor,
    target: Tensor,
    noise_std: float = 0.1,
    n_perturb_samples: int = 10,
    seed: int = 0,
) -> Tensor:
    r"""Captum's infidelity under Gaussian perturbations, with the map's scale fitted.

    :math:`\mathbb{E}_I[(I^\top \Phi - (f(x) - f(x - I)))^2]` with
    :math:`I \sim \mathcal{N}(0, \sigma^2)`, on the target logit. ``normalize=True``
    rescales each map by its least-squares optimal factor first, so methods
    whose maps have arbitrary units (NoiseMask's lie in [0, 1]) are compared
    fairly. Lower is better.

    Args:
        forward_func (Callable): The model.
        inputs (Tensor): ``(B, ...)`` examples.
        attributions (Tensor): Maps shaped like ``inputs``.
        target (Tensor): ``(B,)`` classes.
        noise_std (float, optional): :math:`\sigma`. Default: 0.1
        n_perturb_samples (int, optional): Perturbations per example. Default: 10
        seed (int, optional): Seeds the perturbations. Default: 0

    Returns:
        *Tensor* ``(B,)``.
    """

    def perturb(batch: Tensor) -> tuple[Tensor, Tensor]:
        noise = torch.randn(batch.shape, generator=generator).to(batch) * noise_std
        return noise, batch - noise

    generator = torch.Generator().manual_seed(seed)
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

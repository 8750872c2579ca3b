"""The perturbation: uniform noise ``U ~ Uniform[-scale, scale]`` scaled by ``w``."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["UniformNoise"]


class UniformNoise:
    r"""Draws the noise of the noisy passes.

    One draw is shared by every example of a batch (common random numbers):
    examples are independent optimisation problems, so sharing is
    statistically harmless, and it makes an example's result independent of
    which other examples share its batch.

    Args:
        shapes (Sequence[torch.Size]): Shape of one example of each input.
        scales (Sequence[float or Tensor]): Half-width of the uniform noise per
                    input: a number, or a tensor broadcastable to one example
                    (e.g. ``(C, 1, 1)``, one half-width per channel).
        dtype (torch.dtype): Floating point type of the draws.
        device (torch.device): Device of the draws.
        antithetic (bool): Return draws in pairs ``(U, -U)``.
        seed (int or torch.Generator, optional): Seed of a private generator,
                    or the generator itself; ``None`` uses torch's global one.
    """

    def __init__(
        self,
        shapes: Sequence[torch.Size],
        scales: Sequence[float | Tensor],
        dtype: torch.dtype,
        device: torch.device,
        antithetic: bool,
        seed: int | torch.Generator | None,
    ) -> None:
        self.shapes = list(shapes)
        self.scales = list(scales)
        self.dtype = dtype
        self.device = device
        self.antithetic = antithetic
        if isinstance(seed, torch.Generator):
            self.generator: torch.Generator | None = seed
        elif seed is None:
            self.generator = None
        else:
            self.generator = torch.Generator(device=device).manual_seed(seed)

    def draw(self, n_samples: int) -> tuple[Tensor, ...]:
        """Returns, per input, ``n_samples`` draws of shape ``(n_samples, 1, *shape)``."""
        n_fresh = (n_samples + 1) // 2 if self.antithetic else n_samples
        draws = []
        for shape, scale in zip(self.shapes, self.scales, strict=True):
            u = torch.rand(
                (n_fresh, 1, *shape),
                generator=self.generator,
                dtype=self.dtype,
                device=self.device,
            )
            if isinstance(scale, Tensor):
                u = u.mul_(2.0).sub_(1.0).mul_(scale.to(u))
            else:
                u = u.mul_(2.0 * scale).sub_(scale)
            if self.antithetic:
                u = torch.cat((u, -u))[:n_samples]
            draws.append(u)
        return tuple(draws)

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
        scales (Sequence[float]): Half-width of the uniform noise per input.
        dtype (torch.dtype): Floating point type of the draws.
        device (torch.device): Device of the draws.
        antithetic (bool): Return draws in pairs ``(U, -U)``.
        seed (int, optional): Seed of a private generator; ``None`` uses
                    torch's global generator.
    """

    def __init__(
        self,
        shapes: Sequence[torch.Size],
        scales: Sequence[float],
        dtype: torch.dtype,
        device: torch.device,
        antithetic: bool,
        seed: int | None,
    ) -> None:
        self.shapes = list(shapes)
        self.scales = list(scales)
        self.dtype = dtype
        self.device = device
        self.antithetic = antithetic
        self.generator = None if seed is None else torch.Generator(device=device).manual_seed(seed)

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
            u = u.mul_(2.0 * scale).sub_(scale)
            if self.antithetic:
                u = torch.cat((u, -u))[:n_samples]
            draws.append(u)
        return tuple(draws)

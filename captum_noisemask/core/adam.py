"""Adam on the noise levels, projected onto [0, 1] after every step.

The update is the textbook one (Kingma & Ba, with ``torch.optim.Adam``'s
defaults), written out so that the second-moment input can be chosen:
plain Adam feeds it the square of the step's gradient; a preset that emulates
a longer run feeds it what that run's gradient would have squared to (see
:meth:`captum_noisemask.Preset.emulated`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["ProjectedAdam"]


class ProjectedAdam:
    r"""Adam whose parameters stay in [0, 1].

    Args:
        params (tuple[Tensor, ...]): Tensors updated in place.
        betas (tuple[float, float]): Decay of the first and second moment
                    estimates.
        eps (float, optional): Added to the root of the second moment.
                    Default: 1e-8
    """

    def __init__(self, params: tuple[Tensor, ...], betas: tuple[float, float], eps: float = 1e-8):
        self.params = params
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.first = [torch.zeros_like(p) for p in params]
        self.second = [torch.zeros_like(p) for p in params]
        self.n_steps = 0

    @torch.no_grad()
    def step(self, grads: tuple[Tensor, ...], squares: tuple[Tensor, ...], lr: float) -> None:
        """One Adam step, then projection onto [0, 1].

        Args:
            grads (tuple[Tensor, ...]): Gradient estimate per parameter.
            squares (tuple[Tensor, ...]): What the second moment averages:
                        ``grad ** 2`` for plain Adam.
            lr (float): Learning rate of this step.
        """
        self.n_steps += 1
        correction1 = 1.0 - self.beta1**self.n_steps
        root_correction2 = math.sqrt(1.0 - self.beta2**self.n_steps)
        for p, g, q, m, v in zip(self.params, grads, squares, self.first, self.second, strict=True):
            m.lerp_(g, 1.0 - self.beta1)
            v.mul_(self.beta2).add_(q, alpha=1.0 - self.beta2)
            denominator = (v.sqrt() / root_correction2).add_(self.eps)
            p.addcdiv_(m, denominator, value=-lr / correction1).clamp_(0.0, 1.0)

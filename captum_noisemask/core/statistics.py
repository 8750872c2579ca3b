"""Exact binomial confidence bounds for shares of noise draws."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["clopper_pearson_lower"]

_BISECTION_STEPS = 60


def clopper_pearson_lower(successes: Tensor, trials: int, confidence: float) -> Tensor:
    r"""One-sided Clopper-Pearson lower bound on a success probability.

    The largest ``p`` with ``P(X >= k | n, p) <= 1 - confidence``: if the true
    share were below it, seeing ``k`` or more successes in ``n`` independent
    trials would happen less often than ``1 - confidence``. ``k = 0`` gives 0,
    ``k = n`` gives ``(1 - confidence) ** (1 / n)``. Solved by bisection on the
    exact binomial tail (in float64, through ``lgamma``), so no SciPy is needed.

    Args:
        successes (Tensor): Integer counts ``k``, any shape.
        trials (int): ``n``, the same for every count.
        confidence (float): In (0, 1).

    Returns:
        *Tensor* of float64 bounds in [0, 1), shaped like ``successes``.

    Examples::

        >>> import torch
        >>> from captum_noisemask.core.statistics import clopper_pearson_lower
        >>> bound = clopper_pearson_lower(torch.tensor([0, 10]), 10, 0.95)
        >>> [round(float(b), 4) for b in bound]
        [0.0, 0.7411]
    """
    k = successes.detach().to(torch.float64).cpu()
    alpha = 1.0 - confidence
    low = torch.zeros_like(k)
    high = torch.ones_like(k)
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        too_high = _upper_tail(k, trials, mid) > alpha  # k or more is still likely at mid
        high = torch.where(too_high, mid, high)
        low = torch.where(too_high, low, mid)
    return torch.where(k > 0, low, torch.zeros_like(k)).to(successes.device)


def _upper_tail(k: Tensor, n: int, p: Tensor) -> Tensor:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``, element-wise over ``k`` and ``p``."""
    i = torch.arange(n + 1, dtype=torch.float64)
    log_choose = torch.lgamma(torch.tensor(n + 1.0, dtype=torch.float64)) - (
        torch.lgamma(i + 1) + torch.lgamma(n - i + 1)
    )
    p = p.clamp(1e-300, 1 - 1e-16).unsqueeze(-1)
    log_pmf = log_choose + i * p.log() + (n - i) * torch.log1p(-p)
    pmf = torch.where(i >= k.unsqueeze(-1), log_pmf.exp(), torch.zeros_like(log_pmf))
    return pmf.sum(-1)

"""Exact binomial confidence bounds for shares of noise draws."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["clopper_pearson_lower", "clopper_pearson_upper"]

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
    counts = successes.detach().to(torch.float64).cpu()
    # One bisection per distinct count: a batch of certificates holds few of them.
    k, inverse = torch.unique(counts, return_inverse=True)
    alpha = 1.0 - confidence
    low = torch.zeros_like(k)
    high = torch.ones_like(k)
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        too_high = _upper_tail(k, trials, mid) > alpha  # k or more is still likely at mid
        high = torch.where(too_high, mid, high)
        low = torch.where(too_high, low, mid)
    bounds = torch.where(k > 0, low, torch.zeros_like(k))
    return bounds[inverse].view(counts.shape).to(successes.device)


def clopper_pearson_upper(successes: Tensor, trials: int, confidence: float) -> Tensor:
    """One-sided Clopper-Pearson upper bound: ``1 -`` the lower bound on the failures' share.

    Examples::

        >>> import torch
        >>> from captum_noisemask.core.statistics import clopper_pearson_upper
        >>> [round(float(b), 4) for b in clopper_pearson_upper(torch.tensor([0, 10]), 10, 0.95)]
        [0.2589, 1.0]
    """
    failures = trials - successes.detach().to(torch.int64)
    return 1.0 - clopper_pearson_lower(failures, trials, confidence)


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

"""How every benchmark table summarises a per-example score."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["summarise"]


def summarise(values: Tensor) -> dict[str, float]:
    """Mean and the half-width of its 95% confidence interval (normal approximation).

    NaN values (rank correlations of constant maps) are left out of the mean
    and counted in ``"undefined"``.

    Returns:
        *dict* with ``"mean"``, ``"ci95"``, ``"n"`` (finite values) and ``"undefined"``.
    """
    finite = values[torch.isfinite(values)].double()
    n = int(finite.numel())
    mean = float(finite.mean()) if n else math.nan
    half = 1.96 * float(finite.std()) / math.sqrt(n) if n > 1 else math.nan
    return {"mean": mean, "ci95": half, "n": n, "undefined": int(values.numel()) - n}

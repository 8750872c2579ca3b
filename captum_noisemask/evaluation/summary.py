"""How every benchmark table summarises a per-example score."""

from __future__ import annotations

import math

import torch
from torch import Tensor

__all__ = ["summarise", "format_summary"]


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


def format_summary(summary: dict[str, float], digits: int = 3) -> str:
    """A :func:`summarise` result as the tables print it: ``mean ± ci95``."""
    return f"{summary['mean']:.{digits}f} ± {summary['ci95']:.{digits}f}"

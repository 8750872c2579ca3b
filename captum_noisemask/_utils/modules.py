"""Finding the ``nn.Module`` behind a Captum attribution."""

from __future__ import annotations

from torch import nn

__all__ = ["model_of"]


def model_of(attribution: object) -> nn.Module:
    """The ``nn.Module`` a Captum attribution runs (seen through wrappers like NoiseTunnel)."""
    candidate = attribution
    while not isinstance(candidate, nn.Module):
        inner = getattr(candidate, "attribution_method", None) or getattr(
            candidate, "forward_func", None
        )
        if inner is None or inner is candidate:
            raise TypeError(f"cannot find the nn.Module that {type(attribution).__name__} runs")
        candidate = inner
    return candidate

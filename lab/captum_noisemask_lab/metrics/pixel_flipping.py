"""Pixel flipping: the target probability as the top (MoRF) or bottom (LeRF) pixels go."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from captum_noisemask.evaluation import PerturbationCurve, Removal, deletion_curve

from .base import Column, Metric, MetricInputs, MetricScores

__all__ = ["CURVES", "METRIC", "curve"]

Order = Literal["morf", "lerf"]

#: (metric key, curve kind, removal operator, higher is better).
CURVES: list[tuple[str, Order, Removal, bool]] = [
    ("morf_baseline", "morf", "baseline", False),
    ("morf_uniform", "morf", "uniform", False),
    ("lerf_baseline", "lerf", "baseline", True),
    ("lerf_uniform", "lerf", "uniform", True),
]
_TITLES = {
    "morf_baseline": "MoRF ↓ zero",
    "morf_uniform": "MoRF ↓ noise",
    "lerf_baseline": "LeRF ↑ zero",
    "lerf_uniform": "LeRF ↑ noise",
}


def curve(
    model: nn.Module,
    images: Tensor,
    maps: Tensor,
    labels: Tensor,
    kind: Order,
    removal: Removal,
    n_steps: int,
    seed: int,
) -> PerturbationCurve:
    """One of :data:`CURVES`, as ``compare`` draws it."""
    return deletion_curve(
        model, images, maps, labels, order=kind, seed=seed, removal=removal, n_steps=n_steps
    )


def _score(inputs: MetricInputs) -> MetricScores:
    per_image: dict[str, Tensor] = {}
    curves: dict[str, list[float]] = {}
    for key, kind, removal, _ in CURVES:
        drawn = curve(
            inputs.model,
            inputs.images,
            inputs.maps,
            inputs.labels,
            kind,
            removal,
            inputs.config.curve_steps,
            inputs.config.seed,
        )
        per_image[key] = drawn.area()
        curves[key] = drawn.probabilities.mean(0).tolist()
    curves["fractions"] = drawn.fractions.tolist()
    return MetricScores(per_image, curves)


METRIC = Metric(
    "pixel flipping",
    tuple(Column(key, _TITLES[key], "pixel_flipping", readme=True) for key, *_ in CURVES),
    _score,
)

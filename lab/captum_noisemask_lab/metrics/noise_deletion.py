"""Noise deletion: the map's own question (full noise on the least relevant positions)."""

from __future__ import annotations

from captum_noisemask.evaluation import noise_deletion_curve

from .base import Column, Metric, MetricInputs, MetricScores

__all__ = ["METRIC"]


def _score(inputs: MetricInputs) -> MetricScores:
    noise = noise_deletion_curve(
        inputs.model,
        inputs.images,
        inputs.maps,
        inputs.labels,
        n_steps=inputs.config.curve_steps,
        seed=inputs.config.seed,
    )
    return MetricScores(
        {"noise_deletion": noise.area(), "noise_certified_fraction": noise.certified_fraction()},
        {"noise_deletion": noise.kept.mean(0).tolist()},
    )


METRIC = Metric(
    "noise deletion",
    (
        Column("noise_deletion", "noise deletion ↑", readme=True),
        Column("noise_certified_fraction", "certified fraction ↑"),
    ),
    _score,
)

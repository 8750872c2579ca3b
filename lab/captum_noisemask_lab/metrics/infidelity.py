"""Infidelity (Captum's ``infidelity``) under two perturbations."""

from __future__ import annotations

from captum_noisemask.evaluation import INFIDELITY_PERTURBATIONS, infidelity_score

from .base import Column, Metric, MetricInputs, MetricScores

__all__ = ["METRIC"]


def _score(inputs: MetricInputs) -> MetricScores:
    return MetricScores(
        {
            f"infidelity_{perturbation}": infidelity_score(
                inputs.model,
                inputs.images,
                inputs.maps,
                inputs.labels,
                perturbation,
                seed=inputs.config.seed,
            )
            for perturbation in INFIDELITY_PERTURBATIONS
        }
    )


METRIC = Metric(
    "infidelity",
    tuple(
        Column(f"infidelity_{p}", f"infidelity ↓ {p.replace('_', ' ')}")
        for p in INFIDELITY_PERTURBATIONS
    ),
    _score,
)

"""Max-sensitivity (Captum's ``sensitivity_max``): how much a map moves under small input noise."""

from __future__ import annotations

from typing import Any

import torch

from captum_noisemask.evaluation import max_sensitivity

from .base import Column, Metric, MetricInputs, MetricScores

__all__ = ["METRIC", "fresh_noise"]


def fresh_noise(kwargs: dict[str, Any], seed: int) -> dict[str, Any]:
    """``kwargs`` with an int ``seed`` turned into one generator that every call advances.

    Max-sensitivity compares a map with the maps of perturbed inputs. A fixed
    seed would give every call the same noise, which no other stochastic
    method gets (SmoothGrad draws afresh): the comparison would flatter it.
    """
    if not isinstance(kwargs.get("seed"), int):
        return kwargs
    return {**kwargs, "seed": torch.Generator().manual_seed(seed)}


def _score(inputs: MetricInputs) -> MetricScores:
    config = inputs.config
    few = slice(0, config.n_sensitivity)
    scores = max_sensitivity(
        inputs.method.attribution.attribute,
        inputs.images[few],
        inputs.labels[few],
        n_perturb_samples=config.sensitivity_samples,
        seed=config.seed,
        chunk_size=config.chunk_size,
        explanation_kwargs=fresh_noise(inputs.method.kwargs, config.seed),
    )
    return MetricScores({"max_sensitivity": scores})


METRIC = Metric("max-sensitivity", (Column("max_sensitivity", "max-sensitivity ↓"),), _score)

"""Metrics that measure any Captum attribution the same way, NoiseMask included.

Every metric takes maps (or an ``attribute`` method) and a model, works on a
batch, and is deterministic under its ``seed``:

- pixel flipping (:func:`deletion_curve` MoRF / LeRF, :func:`insertion_curve`)
  with a baseline or a uniform-noise removal operator;
- infidelity (Yeh et al.'s noisy-baseline and square-removal perturbations) and
  max-sensitivity, through Captum (:func:`infidelity_score`,
  :func:`max_sensitivity`);
- the cascading model-randomisation sanity check (:func:`cascading_randomisation`);
- ground-truth localisation on digits with a pasted distractor
  (:func:`paste_distractors`, :func:`roc_auc_per_example`);
- cost: time, model evaluations and peak memory per map (:func:`measure_cost`);
- ROAR: retrain without the top-ranked pixels (:func:`roar`).

``captum-noisemask compare`` runs them all (see :mod:`captum_noisemask.benchmark.compare`).
"""

from .._utils.modules import model_of
from .cost import Cost, measure_cost
from .localisation import DistractorDigits, paste_distractors, roc_auc_per_example
from .pixel_flipping import (
    PerturbationCurve,
    Removal,
    deletion_curve,
    insertion_curve,
    rank_features,
    removal_values,
)
from .randomisation import RandomisationResult, cascading_randomisation, spearman_per_example
from .roar import ROAR_FRACTIONS, remove_top_fraction, roar
from .robustness import INFIDELITY_PERTURBATIONS, infidelity_score, max_sensitivity

__all__ = [
    "Cost",
    "ROAR_FRACTIONS",
    "DistractorDigits",
    "PerturbationCurve",
    "RandomisationResult",
    "Removal",
    "cascading_randomisation",
    "deletion_curve",
    "INFIDELITY_PERTURBATIONS",
    "infidelity_score",
    "insertion_curve",
    "max_sensitivity",
    "measure_cost",
    "model_of",
    "paste_distractors",
    "rank_features",
    "removal_values",
    "remove_top_fraction",
    "roar",
    "roc_auc_per_example",
    "spearman_per_example",
]

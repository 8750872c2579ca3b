"""Metrics that measure any Captum attribution the same way, NoiseMask included.

Every metric takes maps (or an ``attribute`` method) and a model, works on a
batch, and is deterministic under its ``seed``:

- pixel flipping (:func:`deletion_curve` MoRF / LeRF, :func:`insertion_curve`)
  with a baseline or a uniform-noise removal operator;
- infidelity (Yeh et al.'s noisy-baseline and square-removal perturbations) and
  max-sensitivity, through Captum (:func:`infidelity_score`,
  :func:`max_sensitivity`);
- the cascading model-randomisation sanity check (:func:`cascading_randomisation`);
- localisation against pixels known to matter: the ROC AUC of used against ignored
  pixels (:func:`roc_auc_per_example`), the pointing game and the share of the
  top-k pixels in a known box (:func:`pointing_game`, :func:`top_k_in_box`);
- noise deletion, the question a NoiseMask map answers asked of every method: full
  noise on the least relevant positions first, share of draws that keep the outputs
  within the tolerance and the decision (:func:`noise_deletion_curve`);
- cost: time, model evaluations and peak memory per map (:func:`measure_cost`);
- ROAR: retrain without the top-ranked pixels (:func:`roar`).

They import nothing of the lab. ``noisemask-lab compare`` runs them all on MNIST
(:mod:`captum_noisemask_lab.benchmarks.compare`; the tasks with known answers they
score, digits with a pasted distractor and a pattern among distractor shapes, are in
:mod:`captum_noisemask_lab.tasks`); ``noisemask-lab bench-localisation`` runs the
pattern task (:mod:`captum_noisemask_lab.benchmarks.localisation`).
Every table summarises a per-example score with :func:`summarise` and prints it with
:func:`format_summary`.
"""

from .._utils.modules import model_of
from .cost import Cost, measure_cost
from .localisation import box_masks, pointing_game, roc_auc_per_example, top_k_in_box
from .noise_deletion import NoiseDeletionCurve, noise_deletion_curve
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
from .summary import format_summary, summarise

__all__ = [
    "Cost",
    "box_masks",
    "ROAR_FRACTIONS",
    "NoiseDeletionCurve",
    "noise_deletion_curve",
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
    "pointing_game",
    "rank_features",
    "removal_values",
    "remove_top_fraction",
    "roar",
    "roc_auc_per_example",
    "spearman_per_example",
    "summarise",
    "format_summary",
    "top_k_in_box",
]

"""Named optimisation schedules: the paper's and faster ones.

A preset is a schedule only (:class:`~captum_noisemask.core.schedule.Preset`):
draws, steps, learning rates. What is explained, the tolerance and the mask rule,
is the explainer's :class:`~captum_noisemask.NoiseMaskProblem`. ``"paper"`` and
``"faithful"`` run the paper's optimisation and belong with the paper's problem
(``NoiseMaskProblem.paper()``); ``"fast"`` and ``"coarse"`` were tuned on the
default problem (``NoiseMaskProblem()``), which is what an explainer built without
a problem solves.
"""

from __future__ import annotations

from .core.problem import NoiseMaskProblem
from .core.schedule import Preset

__all__ = [
    "Preset",
    "PRESETS",
    "PAPER",
    "FAITHFUL",
    "FAST",
    "COARSE",
    "resolve_preset",
    "paired_problem",
]

#: Ikeno, Hara & Washio's MNIST settings: N = 100 draws, 15,000 Adam steps at a
#: constant learning rate of 1e-4, starting from w = 0.
PAPER = Preset(n_samples=100, n_steps=15_000, lr=1e-4)

#: The default: 100x fewer steps than the paper with a cosine-annealed learning
#: rate and antithetic noise, tuned on the default problem (``NoiseMaskProblem()``). The
#: learning rates add up to about 1.9, close to the paper's 15,000 x 1e-4 = 1.5: Adam
#: moves w by at most ~lr per step, and pixels still in transit at the paper's last
#: step end where that budget leaves them.
#: Agreement with PAPER is measured by ``noisemask-lab bench-speed`` (docs/performance.rst).
FAST = Preset(
    n_samples=16,
    n_steps=150,
    lr=0.02,
    lr_final=0.005,
    antithetic=True,
)

#: The paper's Adam trajectory in 400 steps of 128 antithetic draws (see
#: :meth:`Preset.emulated`): 1/29 of the paper's cost, and on the paper's problem its maps
#: match the paper preset's at IoU >= 0.95
#: (``noisemask-lab bench-speed --sections agreement``).
FAITHFUL = PAPER.emulated(n_samples=128, n_steps=400)

#: For big images explained on a coarse ``feature_mask`` grid (a few hundred levels, e.g.
#: :func:`~captum_noisemask.grid_feature_mask` with 16-pixel cells on 224 x 224): 4 antithetic
#: draws x 100 steps, 1/6 of FAST's passes. A level pools the noise of a whole cell, so its
#: gradient is far less noisy than a pixel's and fewer draws suffice; the learning rates add up
#: to about FAST's 1.9. Of the 400-pass schedules tried (8 x 50, 16 x 25, 4 x 100 at several
#: rates; ResNet-18, 112 x 112, 8-pixel cells), this one agreed best with FAST on the same grid.
#: Cost and agreement at 224 x 224: ``noisemask-lab bench-speed --sections big-images``.
COARSE = Preset(
    n_samples=4,
    n_steps=100,
    lr=0.03,
    lr_final=0.0075,
    antithetic=True,
)

PRESETS: dict[str, Preset] = {"paper": PAPER, "faithful": FAITHFUL, "fast": FAST, "coarse": COARSE}


def resolve_preset(preset: str | Preset) -> Preset:
    """Returns the :class:`Preset` named by ``preset`` (or ``preset`` itself).

    Raises:
        ValueError: ``preset`` is a string that names no preset.
        TypeError: ``preset`` is neither a string nor a :class:`Preset`.
    """
    if isinstance(preset, Preset):
        return preset
    if not isinstance(preset, str):
        raise TypeError(
            f"preset must be one of {sorted(PRESETS)} or a Preset instance, "
            f"got {type(preset).__name__}"
        )
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; accepted: {sorted(PRESETS)}")
    return PRESETS[preset]


def paired_problem(preset: str | Preset) -> NoiseMaskProblem:
    """The problem a preset was made for: the paper's for its two schedules, else the default.

    ``"paper"`` and ``"faithful"`` run the paper's optimisation, so they pair with the paper's
    problem; ``"fast"``, ``"coarse"`` and custom schedules with the library's. For a command
    that takes a preset name and must choose the explainer's problem too.

    Examples::

        >>> from captum_noisemask.presets import paired_problem
        >>> paired_problem("faithful").mask_rule, paired_problem("fast").mask_rule
        ('paper', 'reference')
    """
    schedule = resolve_preset(preset)
    return NoiseMaskProblem.paper() if schedule in (PAPER, FAITHFUL) else NoiseMaskProblem()

"""Optimisation presets: the paper's settings and a fast default.

A preset is data, not a branch in the loop: every field is an ordinary
argument of :meth:`NoiseMaskAttribution.attribute`, and explicit keyword
arguments override the preset's values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .core.mask_units import MaskRule

__all__ = ["Preset", "PRESETS", "PAPER", "FAITHFUL", "FAST", "COARSE", "resolve_preset"]


@dataclass(frozen=True)
class Preset:
    r"""Settings of the noise-level optimisation.

    Args:
        n_samples (int): Noise draws ``N`` per Adam step.
        n_steps (int): Maximum number of Adam steps.
        lr (float): Adam learning rate at the first step.
        tolerance (float): Per-output tolerance ``a`` of the hinge
                    ``max(|y_k - y'_k| - a, 0)``, in the units of the
                    (transformed) model outputs.
        lr_final (float, optional): Learning rate reached at the last step
                    along a cosine schedule; ``None`` keeps ``lr`` constant.
                    Default: None
        antithetic (bool, optional): Draw the noise in pairs ``(U, -U)``,
                    which cancels the first-order (linear) part of the
                    output change between the two draws and so lowers the
                    variance of the gradient. Default: False
        init (float, optional): Starting value of every noise level ``w``.
                    ``0`` is the trivially feasible map (no noise). Default: 0.0
        betas (tuple[float, float], optional): Adam's decay rates of the
                    first and second moment estimates.
                    Default: (0.9, 0.999)
        emulated_samples (int, optional): Feed Adam's second moment as if
                    every step's gradient were the mean of this many
                    independent draws (set by :meth:`emulated`); ``None`` is
                    plain Adam. Default: None
        mask_rule (str, optional): The default mask rule, ``"paper"`` or
                    ``"reference"`` (see
                    :mod:`~captum_noisemask.core.mask_units`). Default: "paper"
        response_tolerance (float, optional): When set, the default tolerance
                    is this fraction of each example's response to full noise
                    (``response_tolerance`` of
                    :meth:`~captum_noisemask.NoiseMaskAttribution.attribute`)
                    instead of ``tolerance`` output units. Default: None
    """

    n_samples: int
    n_steps: int
    lr: float
    tolerance: float
    lr_final: float | None = None
    antithetic: bool = False
    init: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    emulated_samples: int | None = None
    mask_rule: MaskRule = "paper"
    response_tolerance: float | None = None

    def emulated(self, n_samples: int, n_steps: int) -> Preset:
        r"""A preset that follows this one's Adam trajectory in ``n_steps`` steps.

        Adam moves each value by about ``lr`` per step, so ``s = self.n_steps
        / n_steps`` times fewer steps need ``s`` times the learning rate, and
        the moment estimates must forget ``s`` times faster per step to keep
        the same memory along the way: ``beta ** s``. What remains is the
        gradient noise: the second moment of this preset sees gradients
        averaged over ``self.n_samples`` independent draws, the emulation
        averages antithetic pairs, so it is fed the square of its own
        (low-variance) gradient plus the one-draw variance over
        ``self.n_samples`` (see :func:`~captum_noisemask.core.optimisation.optimise_noise_levels`).

        Args:
            n_samples (int): Noise draws per step of the emulation.
            n_steps (int): Steps of the emulation.

        Returns:
            *Preset*: antithetic, constant learning rate ``lr * s``, betas
            ``beta ** s``.

        Raises:
            ValueError: this preset has a learning-rate schedule or emulates
                        another run itself.

        Examples::

            >>> from captum_noisemask import PAPER
            >>> faithful = PAPER.emulated(n_samples=128, n_steps=400)
            >>> round(faithful.lr, 6), round(faithful.betas[1], 4)
            (0.00375, 0.9632)
        """
        if self.lr_final is not None or self.emulated_samples is not None:
            raise ValueError(
                "only a plain Adam preset with a constant learning rate can be emulated"
            )
        scale = self.n_steps / n_steps
        beta1, beta2 = self.betas
        return Preset(
            n_samples=n_samples,
            n_steps=n_steps,
            lr=self.lr * scale,
            tolerance=self.tolerance,
            antithetic=True,
            init=self.init,
            betas=(beta1**scale, beta2**scale),
            emulated_samples=self.n_samples,
            mask_rule=self.mask_rule,
            response_tolerance=self.response_tolerance,
        )

    def replace(self, **overrides: Any) -> Preset:
        """Returns a copy with the given fields replaced (``None`` clears an optional field).

        Examples::

            >>> from captum_noisemask import FAST
            >>> FAST.replace(lr_final=None).lr_final is None
            True
        """
        return dataclasses.replace(self, **overrides)

    def with_lr(self, lr: float) -> Preset:
        """Returns a copy whose learning-rate schedule is scaled to start at ``lr``.

        The whole schedule scales, so an annealed rate still falls:
        ``lr_final`` becomes ``lr_final * lr / self.lr``.

        Examples::

            >>> from captum_noisemask import FAST
            >>> slow = FAST.with_lr(0.002)
            >>> slow.lr, round(slow.lr_final, 6)
            (0.002, 0.0005)
        """
        final = None if self.lr_final is None else self.lr_final * lr / self.lr
        return dataclasses.replace(self, lr=lr, lr_final=final)


#: The tolerance on raw logits shared by both presets; see docs/method.rst for
#: why logits and not probabilities.
DEFAULT_TOLERANCE = 1.0
#: The non-paper presets' tolerance, as a fraction of the model's response to full noise.
DEFAULT_RESPONSE_TOLERANCE = 0.4

#: Ikeno, Hara & Washio's MNIST settings: N = 100 draws, 15,000 Adam steps at a
#: constant learning rate of 1e-4, starting from w = 0.
PAPER = Preset(n_samples=100, n_steps=15_000, lr=1e-4, tolerance=DEFAULT_TOLERANCE)

#: The default: 100x fewer steps than the paper with a cosine-annealed learning
#: rate and antithetic noise, and the problem that holds on BatchNorm networks: the
#: reference mask rule and a tolerance of 0.4 x each example's response to full
#: noise (the paper's 1.0 logit on its CNN; ``captum-noisemask bench-bn-picture`` measures
#: the choice on Fashion-MNIST ResNet/MobileNet and on MNIST, docs/method.rst). The
#: learning rates add up to about 1.9, close to the paper's 15,000 x 1e-4 = 1.5: Adam
#: moves w by at most ~lr per step, and pixels still in transit at the paper's last
#: step end where that budget leaves them.
#: Agreement with PAPER is measured by ``captum-noisemask bench-speed`` (docs/performance.rst).
FAST = Preset(
    n_samples=16,
    n_steps=150,
    lr=0.02,
    lr_final=0.005,
    tolerance=DEFAULT_TOLERANCE,
    antithetic=True,
    mask_rule="reference",
    response_tolerance=DEFAULT_RESPONSE_TOLERANCE,
)

#: The paper's Adam trajectory, on the paper's problem, in 400 steps of 128 antithetic
#: draws (see :meth:`Preset.emulated`): 1/29 of the paper's cost, and its maps match the
#: paper preset's at IoU >= 0.95 (``captum-noisemask bench-speed --sections agreement``).
FAITHFUL = PAPER.emulated(n_samples=128, n_steps=400)

#: For big images explained on a coarse ``feature_mask`` grid (a few hundred levels, e.g.
#: :func:`~captum_noisemask.grid_feature_mask` with 16-pixel cells on 224 x 224): 4 antithetic
#: draws x 100 steps, 1/6 of FAST's passes. A level pools the noise of a whole cell, so its
#: gradient is far less noisy than a pixel's and fewer draws suffice; the learning rates add up
#: to about FAST's 1.9. Of the 400-pass schedules tried (8 x 50, 16 x 25, 4 x 100 at several
#: rates; ResNet-18, 112 x 112, 8-pixel cells), this one agreed best with FAST on the same grid.
#: Cost and agreement at 224 x 224: ``captum-noisemask bench-speed --sections big-images``.
COARSE = Preset(
    n_samples=4,
    n_steps=100,
    lr=0.03,
    lr_final=0.0075,
    tolerance=DEFAULT_TOLERANCE,
    antithetic=True,
    mask_rule="reference",
    response_tolerance=DEFAULT_RESPONSE_TOLERANCE,
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

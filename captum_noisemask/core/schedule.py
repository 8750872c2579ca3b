"""The optimisation's schedule: draws, steps, learning rates (a :class:`Preset`).

A schedule says *how* the noise levels are found, never *what* is explained:
the tolerance, the mask rule and the held outputs are the problem's
(:class:`~captum_noisemask.NoiseMaskProblem`). Named schedules live in
:mod:`captum_noisemask.presets`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .._utils import validation as check

__all__ = ["Preset"]


@dataclass(frozen=True)
class Preset:
    r"""A schedule of the noise-level optimisation, checked when built.

    Args:
        n_samples (int): Noise draws ``N`` per Adam step.
        n_steps (int): Number of Adam steps.
        lr (float): Adam learning rate at the first step.
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

    Raises:
        ValueError: a count that is not positive, a learning rate that is
                    not positive, betas outside [0, 1), ``init`` outside [0, 1].
        TypeError: a value of the wrong type.

    Examples::

        >>> from captum_noisemask import FAST, Preset
        >>> FAST.n_samples, FAST.n_steps
        (16, 150)
        >>> Preset(n_samples=0, n_steps=10, lr=0.01)
        Traceback (most recent call last):
        ...
        ValueError: n_samples must be a positive int, got 0
    """

    n_samples: int
    n_steps: int
    lr: float
    lr_final: float | None = None
    antithetic: bool = False
    init: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    emulated_samples: int | None = None

    def __post_init__(self) -> None:
        check.check_positive_int("n_samples", self.n_samples)
        check.check_positive_int("n_steps", self.n_steps)
        check.check_number("lr", self.lr, 0.0, inclusive=False)
        if self.lr_final is not None:
            check.check_number("lr_final", self.lr_final, 0.0, inclusive=False)
        check.check_flag("antithetic", self.antithetic)
        check.check_number("init", self.init, 0.0, inclusive=True)
        if self.init > 1:
            raise ValueError(f"init must be a noise level in [0, 1], got {self.init}")
        check.check_betas(self.betas)
        check.check_positive_int("emulated_samples", self.emulated_samples, allow_none=True)

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
            antithetic=True,
            init=self.init,
            betas=(beta1**scale, beta2**scale),
            emulated_samples=self.n_samples,
        )

    def replace(self, **overrides: Any) -> Preset:
        """Returns a checked copy with the given fields replaced (``None`` clears an optional one).

        Examples::

            >>> from captum_noisemask import FAST
            >>> FAST.replace(n_steps=20).n_steps
            20
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
        check.check_number("lr", lr, 0.0, inclusive=False)
        final = None if self.lr_final is None else self.lr_final * lr / self.lr
        return dataclasses.replace(self, lr=lr, lr_final=final)

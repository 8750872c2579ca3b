"""The loop: Adam on the noise levels ``w``, projected into [0, 1] after each step.

Reads like the paper's equation: per step, draw ``N`` noises, measure how far
the noisy outputs leave the tolerance band (the hinge), take its gradient
with respect to ``w`` only (never the model's parameters), add the gradient
of ``-mean(w)``, step, project.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from ._compat import progress
from .mask_units import MaskUnits
from .noise import UniformNoise
from .objective import OutputConstraint
from .presets import Preset

__all__ = ["NoisyForward", "NoiseLevels", "optimise_noise_levels", "map_shape"]


def map_shape(example_batch: Tensor) -> tuple[int, ...]:
    """Shape of the noise-level map of a batch: channels (dim 1) share a value.

    ``(B, C, *spatial)`` gives ``(B, 1, *spatial)``; ``(B, D)`` and ``(B,)``
    keep their shape (each feature has its own level).
    """
    if example_batch.dim() >= 3:
        return (example_batch.shape[0], 1, *example_batch.shape[2:])
    return tuple(example_batch.shape)


@dataclass
class NoisyForward:
    r"""Evaluates the hinge term of the objective on noisy copies of the inputs.

    Args:
        forward_func (Callable): The model.
        inputs (tuple[Tensor, ...]): Clean inputs, each ``(B, ...)``.
        additional_forward_args (tuple, optional): Extra model arguments;
                    tensors with a leading batch dimension follow their rows.
        constraint (OutputConstraint): Which outputs, which tolerance.
        clean (Tensor): Selected clean outputs ``(B, K')``.
        mask_units (MaskUnits): Applied during every noisy pass.
        noise (UniformNoise): Source of the draws.
        n_samples (int): Draws ``N`` per evaluation.
        internal_batch_size (int, optional): Bound on the rows of one
                    forward pass; ``None`` sends all ``N * B`` rows at once.
    """

    forward_func: Callable[..., Tensor]
    inputs: tuple[Tensor, ...]
    additional_forward_args: tuple[object, ...] | None
    constraint: OutputConstraint
    clean: Tensor
    mask_units: MaskUnits
    noise: UniformNoise
    n_samples: int
    internal_batch_size: int | None
    n_rows_evaluated: int = 0

    def evaluate(
        self, levels: tuple[Tensor, ...], with_grad: bool
    ) -> tuple[Tensor, tuple[Tensor, ...] | None]:
        """The hinge per example, ``(1/N) sum_n sum_k max(|y_k - y'_k| - a, 0)``.

        With ``with_grad``, also its gradient with respect to ``levels``,
        taken chunk by chunk with ``torch.autograd.grad``: at most one
        chunk's graph is alive (memory stays flat as ``N`` grows) and no
        ``.grad`` of the model's parameters is ever written.
        """
        total = self.clean.new_zeros(self.clean.shape[0])
        grads = [torch.zeros_like(w) for w in levels] if with_grad else None
        for draws, examples in self._chunks():
            with torch.set_grad_enabled(with_grad):
                violation = self._violation(levels, draws, examples)
            if grads is not None:
                chunk_grads = torch.autograd.grad(violation.sum() / self.n_samples, levels)
                for grad, chunk_grad in zip(grads, chunk_grads, strict=True):
                    grad.add_(chunk_grad)
            n_examples = examples.stop - examples.start
            total[examples] += violation.detach().unflatten(0, (-1, n_examples)).sum(0)
        return total / self.n_samples, None if grads is None else tuple(grads)

    def _chunks(self) -> Iterator[tuple[tuple[Tensor, ...], slice]]:
        """Yields ``(noise draws, examples)``; draws do not depend on ``B``."""
        batch = self.clean.shape[0]
        if self.internal_batch_size is None:
            per_chunk, examples_per_chunk = self.n_samples, batch
        else:
            per_chunk = min(self.n_samples, self.internal_batch_size)
            if self.noise.antithetic:
                per_chunk = max(2, per_chunk - per_chunk % 2)
            examples_per_chunk = max(1, self.internal_batch_size // per_chunk)
        for start in range(0, self.n_samples, per_chunk):
            draws = self.noise.draw(min(per_chunk, self.n_samples - start))
            for first in range(0, batch, examples_per_chunk):
                yield draws, slice(first, min(first + examples_per_chunk, batch))

    def _violation(
        self, levels: tuple[Tensor, ...], draws: tuple[Tensor, ...], examples: slice
    ) -> Tensor:
        n_draws = draws[0].shape[0]
        noisy = tuple(
            (x[examples] + u * w[examples]).flatten(0, 1)
            for x, u, w in zip(self.inputs, draws, levels, strict=True)
        )
        args = _rows_of(self.additional_forward_args, examples, n_draws, self.clean.shape[0])
        with self.mask_units.for_examples(examples), self.mask_units.active():
            output = self.forward_func(*noisy, *args)
        self.n_rows_evaluated += noisy[0].shape[0]
        selected = self.constraint.select(output, examples, n_draws)
        return self.constraint.violation(self.clean[examples], selected)


@dataclass
class NoiseLevels:
    """Result of :func:`optimise_noise_levels`.

    Attributes:
        maps (tuple[Tensor, ...]): Noise levels ``w`` in [0, 1], one map per
                    input, shape :func:`map_shape` of the input.
        n_rows_evaluated (int): Noisy rows sent through the model.
    """

    maps: tuple[Tensor, ...]
    n_rows_evaluated: int


def optimise_noise_levels(
    problem: NoisyForward, settings: Preset, show_progress: bool = False
) -> NoiseLevels:
    r"""Minimises ``E(w) = hinge(w) - mean(w)`` with Adam, projecting onto [0, 1].

    Every example is its own problem: the loss is a sum over examples and
    Adam acts element-wise, so no example's map depends on another's.

    Args:
        problem (NoisyForward): The hinge term, ready to evaluate.
        settings (Preset): Steps, learning rates, start value.
        show_progress (bool, optional): Show a progress bar. Default: False

    Returns:
        *NoiseLevels*: the maps and the number of model rows evaluated.
    """
    levels = tuple(
        torch.full(map_shape(x), settings.init, dtype=x.dtype, device=x.device).requires_grad_()
        for x in problem.inputs
    )
    # d(-mean(w))/dw: every value of an example's maps (all inputs together) counts once.
    mean_grad = 1.0 / sum(math.prod(w.shape[1:]) for w in levels)
    # One fused kernel per step on CUDA, where per-step launch overhead dominates small models.
    fused = all(w.is_cuda for w in levels)
    optimiser = torch.optim.Adam(levels, lr=settings.lr, fused=fused or None)
    steps = range(settings.n_steps)
    bar = progress(steps, desc="NoiseMask", total=settings.n_steps) if show_progress else steps
    for step in bar:
        optimiser.param_groups[0]["lr"] = _learning_rate(settings, step)
        _, grads = problem.evaluate(levels, with_grad=True)
        assert grads is not None
        for w, grad in zip(levels, grads, strict=True):
            w.grad = grad.sub_(mean_grad)
        optimiser.step()
        with torch.no_grad():
            for w in levels:
                w.clamp_(0.0, 1.0)
    return NoiseLevels(tuple(w.detach() for w in levels), problem.n_rows_evaluated)


def _learning_rate(settings: Preset, step: int) -> float:
    """Constant, or cosine-annealed from ``lr`` to ``lr_final``."""
    if settings.lr_final is None or settings.n_steps == 1:
        return settings.lr
    progress_ = step / (settings.n_steps - 1)
    return settings.lr_final + 0.5 * (settings.lr - settings.lr_final) * (
        1.0 + math.cos(math.pi * progress_)
    )


def _rows_of(
    args: tuple[object, ...] | None, examples: slice, n_draws: int, batch: int
) -> tuple[object, ...]:
    """Additional forward args for the noisy rows (batch tensors repeat per draw)."""
    if args is None:
        return ()
    return tuple(
        a[examples].repeat(n_draws, *([1] * (a.dim() - 1)))
        if isinstance(a, Tensor) and a.dim() > 0 and a.shape[0] == batch
        else a
        for a in args
    )

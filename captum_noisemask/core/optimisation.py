"""The loop: Adam on the noise levels ``w``, projected into [0, 1] after each step.

Reads like the paper's equation: per step, draw ``N`` noises, measure how far
the noisy outputs leave the tolerance band (the hinge), take its gradient
with respect to ``w`` only (never the model's parameters), add the gradient
of ``-mean(w)``, step, project.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import Tensor

from .._utils.compat import progress
from .adam import ProjectedAdam
from .levels import LevelLayout
from .mask_units import MaskUnits
from .noise import UniformNoise
from .objective import OutputConstraint
from .schedule import Preset

__all__ = [
    "NoisyNetwork",
    "DrawOutcomes",
    "HingeEstimate",
    "NoiseLevels",
    "optimise_noise_levels",
    "optimise_along_tolerances",
    "CONTINUATION_STEPS",
]

#: Each later point of a tolerance path runs this fraction of the preset's steps,
#: starting from the previous point's levels.
CONTINUATION_STEPS = 1 / 3


@dataclass
class NoisyNetwork:
    r"""The masked (or plain) network on noisy copies of the inputs: hinge terms and outcomes.

    Args:
        forward_func (Callable): The model.
        inputs (tuple[Tensor, ...]): Clean inputs, each ``(B, ...)``.
        additional_forward_args (tuple, optional): Extra model arguments;
                    tensors with a leading batch dimension follow their rows.
        constraint (OutputConstraint): Which outputs, which tolerance.
        clean (Tensor): Selected clean outputs ``(B, K')``.
        mask_units (MaskUnits): Applied during every noisy pass.
        noise (UniformNoise): Source of the draws.
        layout (LevelLayout): How the optimised parameters become maps.
        n_samples (int): Draws ``N`` per evaluation.
        internal_batch_size (int, optional): Bound on the rows of one
                    forward pass; ``None`` sends all ``N * B`` rows at once.
        clean_decision (Tensor, optional): Per example, the top-1 output of the
                    clean pass the network is held to (for :meth:`outcomes`).
    """

    forward_func: Callable[..., Tensor]
    inputs: tuple[Tensor, ...]
    additional_forward_args: tuple[object, ...] | None
    constraint: OutputConstraint
    clean: Tensor
    mask_units: MaskUnits
    noise: UniformNoise
    layout: LevelLayout
    n_samples: int
    internal_batch_size: int | None
    clean_decision: Tensor | None = None
    n_rows_evaluated: int = 0

    def __post_init__(self) -> None:
        if self.clean_decision is None:
            self.clean_decision = self.clean.new_zeros(self.clean.shape[0], dtype=torch.long)

    def evaluate(
        self, params: tuple[Tensor, ...], with_grad: bool, with_variance: bool = False
    ) -> HingeEstimate:
        """The hinge per example, ``(1/N) sum_n sum_k max(|y_k - y'_k| - a, 0)``.

        With ``with_grad``, also its gradient with respect to ``params`` (the
        layout's parameters, see :mod:`~captum_noisemask.core.levels`); with
        ``with_variance`` too, the variance over the draws of each draw's own
        gradient. Both come from the gradient with respect to the noisy rows
        (``d/dw`` of draw ``n`` is ``U_n`` times it), taken chunk by chunk with
        ``torch.autograd.grad``: at most one chunk's graph is alive (memory
        stays flat as ``N`` grows) and no ``.grad`` of the model's parameters
        is ever written.
        """
        total = self.clean.new_zeros(self.clean.shape[0])
        grad_sums = [torch.zeros_like(p) for p in params] if with_grad else []
        square_sums = [torch.zeros_like(p) for p in params] if with_variance else []
        for _, draws, examples in self._chunks():
            levels = self.layout.maps(params, examples)
            noisy = self._noisy_rows(levels, draws, examples, requires_grad=with_grad)
            with torch.set_grad_enabled(with_grad):
                violation = self._violation(noisy, draws[0].shape[0], examples)
            n_examples = examples.stop - examples.start
            total[examples] += violation.detach().unflatten(0, (-1, n_examples)).sum(0)
            if not with_grad:
                continue
            row_grads = torch.autograd.grad(violation.sum(), noisy)
            element_grads = tuple(
                u * row_grad.unflatten(0, (-1, n_examples))
                for u, row_grad in zip(draws, row_grads, strict=True)
            )
            for i, per_draw in enumerate(self.layout.per_draw(element_grads, examples)):
                grad_sums[i][examples] += per_draw.sum(0)
                if with_variance:
                    square_sums[i][examples] += per_draw.square().sum(0)
        n = self.n_samples
        gradient = tuple(s / n for s in grad_sums) if with_grad else None
        variance = (
            tuple(
                (q - n * g.square()).clamp_min_(0.0) / max(n - 1, 1)
                for q, g in zip(square_sums, gradient, strict=True)
            )
            if with_variance and gradient is not None
            else None
        )
        return HingeEstimate(total / n, gradient, variance)

    def evidence(self, params: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """Per parameter, the explained output's gradient times the input, over ``N`` draws.

        One evaluation's draws at the levels ``params``, through this network (``attribute``
        asks the caller's plain model): the mean of ``d y / d x`` at each noisy row times the
        clean input, summed over the values one parameter covers (see
        :mod:`~captum_noisemask.core.evidence`). ``y`` is the held output when one is held
        (a ``target``), else the clean decision's.
        """
        assert self.clean_decision is not None  # set in __post_init__
        sums = [torch.zeros_like(p) for p in params]
        for _, draws, examples in self._chunks():
            levels = self.layout.maps(params, examples)
            noisy = self._noisy_rows(levels, draws, examples, requires_grad=True)
            n_draws, n_examples = draws[0].shape[0], examples.stop - examples.start
            with torch.enable_grad():
                output = self._forward_rows(noisy, n_draws, examples)
                held = self.constraint.select(output, examples, n_draws)
                explained = (
                    held[:, 0]
                    if held.shape[1] == 1
                    else output.reshape(output.shape[0], -1).gather(
                        1, self.clean_decision[examples].repeat(n_draws)[:, None]
                    )[:, 0]
                )
            row_grads = torch.autograd.grad(explained.sum(), noisy)
            element = tuple(
                g.unflatten(0, (-1, n_examples)) * x[examples]
                for g, x in zip(row_grads, self.inputs, strict=True)
            )
            for i, per_draw in enumerate(self.layout.per_draw(element, examples)):
                sums[i][examples] += per_draw.sum(0)
        return tuple(s / self.n_samples for s in sums)

    def _chunks(
        self, runs: list[slice] | None = None
    ) -> Iterator[tuple[int, tuple[Tensor, ...], slice]]:
        """Yields ``(first draw's index, noise draws, examples)`` over the example ``runs``
        (all examples by default); draws do not depend on ``B``."""
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
            for run in [slice(0, batch)] if runs is None else runs:
                for first in range(run.start, run.stop, examples_per_chunk):
                    yield start, draws, slice(first, min(first + examples_per_chunk, run.stop))

    def outcomes(self, params: tuple[Tensor, ...], examples: Tensor | None = None) -> DrawOutcomes:
        """Per draw and example: held outputs within the tolerance, decision kept, change.

        Forward passes only, under ``torch.no_grad``, chunked like :meth:`evaluate`.
        ``examples`` (bool, ``(B,)``) runs only those examples' rows (a sequential
        certificate's open ones); the others' entries are False and 0.
        """
        n_batch = self.clean.shape[0]
        assert self.clean_decision is not None  # set in __post_init__
        device = self.clean.device
        within = torch.zeros(self.n_samples, n_batch, dtype=torch.bool, device=device)
        kept = torch.zeros_like(within)
        changes = torch.zeros(self.n_samples, n_batch, dtype=self.clean.dtype, device=device)
        with torch.no_grad():
            for first_draw, draws, chunk in self._chunks(_runs(examples, n_batch)):
                levels = self.layout.maps(params, chunk)
                noisy = self._noisy_rows(levels, draws, chunk, requires_grad=False)
                n_draws = draws[0].shape[0]
                output = self._forward_rows(noisy, n_draws, chunk)
                selected = self.constraint.select(output, chunk, n_draws)
                change = self.constraint.change(self.clean[chunk], selected, chunk)
                rows = (n_draws, chunk.stop - chunk.start)
                drawn = slice(first_draw, first_draw + n_draws)
                within[drawn, chunk] = (change <= self.constraint.tolerance).all(-1).view(rows)
                kept[drawn, chunk] = _decision(output).view(rows) == self.clean_decision[chunk]
                changes[drawn, chunk] = change.mean(-1).view(rows)
        return DrawOutcomes(within, kept, changes)

    def _noisy_rows(
        self,
        levels: tuple[Tensor, ...],
        draws: tuple[Tensor, ...],
        examples: slice,
        requires_grad: bool,
    ) -> tuple[Tensor, ...]:
        """``x + U * w`` for every draw and example, sample-major ``(n * b, ...)``.

        Made under ``no_grad`` and detached from any view, so that the leaves
        the gradient is taken against own their storage.
        """
        with torch.no_grad():
            noisy = tuple(
                (x[examples] + u * w).flatten(0, 1).detach()
                for x, u, w in zip(self.inputs, draws, levels, strict=True)
            )
        return tuple(r.requires_grad_() for r in noisy) if requires_grad else noisy

    def _forward_rows(self, noisy: tuple[Tensor, ...], n_draws: int, examples: slice) -> Tensor:
        """The transformed model output on noisy rows, mask units on.

        With gradients on, the model gets copies of the leaves, so a model that
        writes into its input leaves them (and their gradient) intact.
        """
        args = _rows_of(self.additional_forward_args, examples, n_draws, self.clean.shape[0])
        rows = tuple(r.clone() for r in noisy) if torch.is_grad_enabled() else noisy
        with self.mask_units.for_examples(examples), self.mask_units.active():
            output = self.forward_func(*rows, *args)
        self.n_rows_evaluated += noisy[0].shape[0]
        return self.constraint.transform(output, noisy[0].shape[0])

    def _violation(self, noisy: tuple[Tensor, ...], n_draws: int, examples: slice) -> Tensor:
        output = self._forward_rows(noisy, n_draws, examples)
        selected = self.constraint.select(output, examples, n_draws)
        return self.constraint.violation(self.clean[examples], selected, examples)


@dataclass
class DrawOutcomes:
    """What fresh draws did, from :meth:`NoisyNetwork.outcomes`; each ``(n_draws, B)``.

    Attributes:
        within (Tensor): Every held output stayed within the tolerance (bool).
        decision_kept (Tensor): The top-1 output is the clean one's (bool).
        mean_change (Tensor): Mean ``|y_k - y'_k|`` over the held outputs, in
                    the constraint's units.
    """

    within: Tensor
    decision_kept: Tensor
    mean_change: Tensor


def _decision(output: Tensor) -> Tensor:
    """Per row, the top-1 output (flattened), or the sign of a single output."""
    flat = output.reshape(output.shape[0], -1)
    if flat.shape[1] == 1:
        return (flat[:, 0] > 0).long()
    return flat.argmax(1)


@dataclass
class HingeEstimate:
    """Monte Carlo estimate of the hinge term, from :meth:`NoisyNetwork.evaluate`.

    Attributes:
        hinge (Tensor): Per example, ``(B,)``.
        gradient (tuple[Tensor, ...] or None): Its gradient with respect to
                    each map (mean of the draws' gradients).
        draw_variance (tuple[Tensor, ...] or None): Per map value, the variance
                    over the draws of one draw's gradient.
    """

    hinge: Tensor
    gradient: tuple[Tensor, ...] | None
    draw_variance: tuple[Tensor, ...] | None


@dataclass
class NoiseLevels:
    """Result of :func:`optimise_noise_levels`.

    Attributes:
        maps (tuple[Tensor, ...]): Noise levels ``w`` in [0, 1], one map per
                    input, broadcastable to it.
        n_rows_evaluated (int): Noisy rows sent through the model.
        params (tuple[Tensor, ...]): The layout's parameters the maps come
                    from (where a continuation starts, and what the evidence order ranks).
    """

    maps: tuple[Tensor, ...]
    n_rows_evaluated: int
    params: tuple[Tensor, ...]


def optimise_noise_levels(
    network: NoisyNetwork,
    schedule: Preset,
    show_progress: bool = False,
    initial: tuple[Tensor, ...] | None = None,
    reward_exponent: float = 1.0,
) -> NoiseLevels:
    r"""Minimises ``E(w) = hinge(w) - reward(w)`` with Adam, projecting onto [0, 1].

    The reward is the paper's ``mean(w)`` for ``reward_exponent`` ``k = 1``; for ``k > 1`` its
    slope at each level is ``max(1, k (1 - w)^(k - 1))`` (divided by the number of levels).

    Every example is its own problem: the loss is a sum over examples and
    Adam acts element-wise, so no example's map depends on another's.

    With ``schedule.emulated_samples`` set, Adam's second moment is fed
    ``g ** 2 + s2 / emulated_samples`` instead of ``g ** 2`` (``g`` the
    step's gradient, ``s2`` the variance of one draw's gradient): the
    expected square of a gradient averaged over that many independent draws,
    which is what the second moment of the emulated run sees.

    Args:
        network (NoisyNetwork): The hinge term, ready to evaluate.
        schedule (Preset): Steps, learning rates, betas, start value.
        show_progress (bool, optional): Show a progress bar. Default: False
        initial (tuple[Tensor, ...], optional): Parameters to start from
                    (copied) instead of ``schedule.init`` everywhere.
        reward_exponent (float, optional): ``k`` of the reward for noise
                    (the problem's ``reward_exponent``). Default: 1.0

    Returns:
        *NoiseLevels*: the maps and the number of model rows evaluated.
    """
    first = network.inputs[0]
    params = (
        network.layout.initial(schedule.init, first.dtype, first.device)
        if initial is None
        else tuple(p.detach().clone() for p in initial)
    )
    # d(-mean(w))/d params: every value of an example's maps (all inputs together) counts once.
    mean_grad = network.layout.mean_gradient()
    adam = ProjectedAdam(params, schedule.betas)
    emulated = schedule.emulated_samples
    steps = range(schedule.n_steps)
    bar = progress(steps, desc="NoiseMask", total=schedule.n_steps) if show_progress else steps
    for step in bar:
        estimate = network.evaluate(params, with_grad=True, with_variance=emulated is not None)
        assert estimate.gradient is not None
        grads = tuple(
            g.sub_(_reward_gradient(p, mean_grad, reward_exponent))
            for g, p in zip(estimate.gradient, params, strict=True)
        )
        squares = tuple(g.square() for g in grads)
        if emulated is not None:
            assert estimate.draw_variance is not None
            for square, variance in zip(squares, estimate.draw_variance, strict=True):
                square.add_(variance, alpha=1.0 / emulated)
        adam.step(grads, squares, _learning_rate(schedule, step))
    return NoiseLevels(network.layout.maps(params, slice(None)), network.n_rows_evaluated, params)


def _reward_gradient(params: Tensor, mean_grad: float | Tensor, exponent: float) -> float | Tensor:
    """d reward / d params: ``mean_grad`` times the slope ``max(1, k (1 - w)^(k - 1))`` (see the
    problem's ``reward_exponent``), the paper's 1 above ``1 - k^(-1 / (k - 1))``, steeper below."""
    if exponent == 1.0:  # the paper's mean(w): no per-level work in the loop
        return mean_grad
    slope = (1 - params).clamp_min(0).pow_(exponent - 1).mul_(exponent).clamp_min_(1.0)
    return slope.mul_(mean_grad)


def optimise_along_tolerances(
    network: NoisyNetwork,
    schedule: Preset,
    factors: tuple[float, ...],
    show_progress: bool = False,
    reward_exponent: float = 1.0,
) -> NoiseLevels:
    r"""The mean of the levels learnt at the tolerances ``factor * a``, a graded map.

    A single tolerance gives a near-binary map: a pixel either tolerates the
    noise or not. Over a path of increasing tolerances a pixel that still
    resists noise at a large tolerance is more contributing than one that
    resists only a small one, so the mean over the path ranks the
    contributing pixels. The first point runs ``schedule``; every later one
    starts from the previous point's levels (noise levels grow with the
    tolerance, so it starts close) and runs :data:`CONTINUATION_STEPS` of the
    steps on the same schedule.

    Args:
        network (NoisyNetwork): The hinge term at the base tolerance; each
                    point runs on a copy held to ``factor`` times it.
        schedule (Preset): The first point's optimisation.
        factors (tuple[float, ...]): Increasing multipliers of the tolerance.
        show_progress (bool, optional): One progress bar per point. Default: False
        reward_exponent (float, optional): ``k`` of the reward for noise. Default: 1.0

    Returns:
        *NoiseLevels*: the mean maps and the mean parameters behind them.
    """
    base = network.constraint.tolerance
    later = schedule.replace(n_steps=max(1, round(schedule.n_steps * CONTINUATION_STEPS)))
    totals: tuple[Tensor, ...] | None = None
    params: tuple[Tensor, ...] | None = None
    n_rows = 0
    for index, factor in enumerate(factors):
        point = dataclasses.replace(
            network, constraint=network.constraint.with_tolerance(base * factor), n_rows_evaluated=0
        )
        stage = schedule if index == 0 else later
        result = optimise_noise_levels(point, stage, show_progress, params, reward_exponent)
        params, n_rows = result.params, n_rows + result.n_rows_evaluated
        totals = (
            result.params
            if totals is None
            else tuple(t + p for t, p in zip(totals, result.params, strict=True))
        )
    assert totals is not None
    # Maps are a gather of the parameters, so the mean parameters give the mean maps.
    mean = tuple(t / len(factors) for t in totals)
    return NoiseLevels(network.layout.maps(mean, slice(None)), n_rows, mean)


def _learning_rate(schedule: Preset, step: int) -> float:
    """Constant, or cosine-annealed from ``lr`` to ``lr_final``."""
    if schedule.lr_final is None or schedule.n_steps == 1:
        return schedule.lr
    progress_ = step / (schedule.n_steps - 1)
    return schedule.lr_final + 0.5 * (schedule.lr - schedule.lr_final) * (
        1.0 + math.cos(math.pi * progress_)
    )


def _runs(examples: Tensor | None, batch: int) -> list[slice]:
    """The consecutive runs of True in ``examples`` (every example when ``None``)."""
    if examples is None:
        return [slice(0, batch)]
    runs: list[slice] = []
    for index in examples.nonzero().flatten().tolist():
        if runs and runs[-1].stop == index:
            runs[-1] = slice(runs[-1].start, index + 1)
        else:
            runs.append(slice(index, index + 1))
    return runs


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

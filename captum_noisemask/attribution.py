"""``NoiseMaskAttribution``: the non-contribution map as a Captum attribution."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import torch
from captum._utils.typing import BaselineType, TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import PerturbationAttribution
from captum.log import log_usage
from torch import Tensor

from ._utils import model_state
from ._utils import validation as check
from ._utils.compat import _format_output, _is_tuple
from ._utils.typing import Highlight
from .certificate import Certificate, measure_certificate
from .core.calibration import calibrate_levels
from .core.evidence import evidence_order
from .core.levels import FeatureGroups, LevelLayout, PerPosition, map_shape
from .core.mask_units import MaskReport, resolve_thresholds
from .core.optimisation import optimise_along_tolerances
from .core.problem import CleanPass, NoiseMaskProblem, Seed
from .presets import Preset, resolve_preset

__all__ = ["NoiseMaskAttribution", "DegenerateMapWarning", "GuaranteeWarning"]


class DegenerateMapWarning(UserWarning):
    """A returned map is constant (every level the same): it ranks nothing."""


class GuaranteeWarning(UserWarning):
    """``attribute(guarantee=p)`` could not meet ``p`` for some example."""


class NoiseMaskAttribution(PerturbationAttribution):
    r"""Highlights the input values that do *not* contribute to the output.

    Ikeno, Hara & Washio, "Highlighting Non-contributing Pixels for Visual
    Explanation of CNNs" (JSAI). For each example, a noise level ``w`` in
    [0, 1] per position (shared over channels) is learned so that adding
    fresh noise ``U * w``, ``U ~ Uniform[-1, 1]``, keeps the outputs within a
    tolerance ``a`` while ``w`` is as large as possible:

    .. math::

        E(w) = \frac{1}{N}\sum_{n=1}^{N}\sum_k \max(|y_k - y'_{k,n}| - a, 0)
               - \operatorname{mean}(w), \qquad 0 \le w \le 1,

    minimised with Adam and projected onto [0, 1] after every step. A large
    ``w`` means the position can be drowned in noise without changing the
    output: it does not contribute. "Mask units" force to zero, during the
    noisy passes, every unit that was off (input of its ReLU <= the site's
    threshold) on the clean input; they intercept the ReLU calls through a
    ``TorchFunctionMode``, see :mod:`captum_noisemask.core.mask_units`.
    :meth:`certify` measures whether a map keeps its claim.

    Args:
        forward_func (Callable or nn.Module): The model, or a function
                    calling it.
        problem (NoiseMaskProblem, optional): What the maps answer for: the
                    tolerance and its unit, the mask rule and its
                    thresholds, the held outputs, the noise. Kept as
                    :attr:`problem`; :meth:`attribute`, :meth:`certify`,
                    :meth:`compute_convergence_delta` and
                    :meth:`inspect_masks` all read it. ``None``:
                    ``NoiseMaskProblem()``, the library's problem (the
                    reference mask rule, a tolerance of 0.4 x each example's
                    response to full noise); ``NoiseMaskProblem.paper()`` is
                    the paper's. Default: None

    Examples::

        >>> import torch
        >>> from torch import nn
        >>> from captum_noisemask import FAST, NoiseMaskAttribution, NoiseMaskProblem
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> model = nn.Sequential(
        ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
        ... ).eval()
        >>> images = torch.rand(2, 1, 8, 8)
        >>> explainer = NoiseMaskAttribution(model, NoiseMaskProblem(tolerance=0.3))
        >>> attributions = explainer.attribute(
        ...     images, target=0, preset=FAST.replace(n_steps=20), seed=0
        ... )
        >>> attributions.shape
        torch.Size([2, 1, 8, 8])
        >>> bool(((attributions >= 0) & (attributions <= 1)).all())
        True
    """

    def __init__(
        self, forward_func: Callable[..., Tensor], problem: NoiseMaskProblem | None = None
    ) -> None:
        if problem is None:
            problem = NoiseMaskProblem()
        if not isinstance(problem, NoiseMaskProblem):
            raise TypeError(
                f"problem must be a NoiseMaskProblem or None, got {type(problem).__name__}"
            )
        # A torch.compile'd module runs its graph without the Python-level ReLU calls the
        # mask units intercept; its original module computes the same function eagerly.
        forward_func = getattr(forward_func, "_orig_mod", forward_func)
        if isinstance(forward_func, torch.jit.ScriptModule) and problem.thresholds != {}:
            raise TypeError(
                "forward_func is a TorchScript module (torch.jit.script or torch.jit.trace): "
                "its graph runs without the Python calls mask units intercept, so the map "
                "would silently differ from the eager model's; pass the original nn.Module, "
                "or NoiseMaskProblem(thresholds={}) to explain without mask units"
            )
        super().__init__(forward_func)
        self.problem = problem
        self._model = model_state.explained_module(forward_func)
        self._thresholds = resolve_thresholds(self._model, problem.thresholds)

    @property
    def multiplies_by_inputs(self) -> bool:
        return False

    def has_convergence_delta(self) -> bool:
        return True

    @log_usage()
    def attribute(  # type: ignore[override]
        self,
        inputs: TensorOrTupleOfTensorsGeneric,
        target: TargetType = None,
        additional_forward_args: Any = None,
        feature_mask: Tensor | tuple[Tensor, ...] | None = None,
        *,
        baselines: BaselineType = None,
        preset: str | Preset = "fast",
        guarantee: float | None = None,
        highlight: Highlight = "contributing",
        seed: Seed = None,
        internal_batch_size: int | None = None,
        show_progress: bool = False,
        return_convergence_delta: bool = False,
    ) -> TensorOrTupleOfTensorsGeneric | tuple[TensorOrTupleOfTensorsGeneric, Tensor]:
        r"""Learns the noise-level map of every example, for :attr:`problem`.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): Input batch(es), each
                        ``(B, ...)``, floating point and finite. Images
                        ``(B, C, H, W)`` get one level per pixel shared over
                        channels; every other shape (``(B, D)`` features,
                        ``(B, T, D)`` sequences) one level per element.
            target (int, tuple, list, Tensor or None, optional): Outputs held
                        within the tolerance. ``None`` holds all ``K``
                        outputs of a ``(B, K)`` model (the paper's
                        objective) or the one output of a ``(B,)`` model;
                        Captum's target forms hold only the selected
                        output(s), giving a class-specific map.
                        Default: None
            additional_forward_args (Any, optional): Passed to the model after
                        the inputs; tensors whose first dimension is ``B``
                        follow their example into every noisy row.
                        Default: None
            feature_mask (Tensor or tuple[Tensor, ...], optional): Captum's
                        convention: integer group ids, one mask per input,
                        each shaped like its input or broadcastable to it
                        (first dimension 1 or ``B``). Every group gets one
                        noise level per example, shared by its elements (an
                        id used in two inputs is one feature), and the
                        returned map is constant within a group.
                        :func:`~captum_noisemask.grid_feature_mask` builds a
                        coarse grid for images, which makes big inputs
                        cheaper to explain. ``None``: one level per pixel for
                        images, per element otherwise. Default: None
            baselines (float, Tensor or tuple, optional): The reference input
                        of the ``"reference"`` mask rule, in Captum's
                        convention: a number, a tensor broadcastable to the
                        inputs, or one per input. ``None``: zeros (a blank
                        image). Only with that rule. Default: None
            preset (str or Preset, optional): The optimisation's schedule.
                        ``"fast"`` (16 antithetic draws x 150 annealed steps,
                        1/625 of the paper's cost), ``"coarse"`` (4 x 100,
                        1/6 of "fast", for big images on a coarse
                        ``feature_mask`` grid), ``"faithful"`` (the paper's
                        run emulated: on the paper's problem its maps at 1/29
                        of the cost; on a CPU add ``internal_batch_size=128``),
                        ``"paper"`` (N = 100, 15,000 Adam steps, lr 1e-4), or
                        a :class:`~captum_noisemask.Preset` such as
                        ``FAST.replace(n_steps=50)``. Default: "fast"
            guarantee (float, optional): A share ``p`` in (0, 1): after the
                        optimisation each map's levels are lowered, the most
                        relevant positions' first, so that the least
                        relevant keep their full noise as long as possible
                        (by bisection on fresh draws, see
                        :mod:`~captum_noisemask.core.calibration`), until the masked network
                        keeps every held output within the tolerance with a
                        Clopper-Pearson lower bound of at least ``p`` at
                        95% confidence, as :meth:`certify` then measures.
                        Calibrated on a stricter target (half way to 1) so
                        that fresh draws meet ``p`` too; costs about 0.4x a
                        fast map. ``None``: the map as optimised.
                        Default: None
            highlight (str, optional): ``"contributing"`` returns ``1 - w``
                        (Captum's convention: larger matters more);
                        ``"non_contributing"`` returns ``w``, the paper's
                        map. Default: "contributing"
            seed (int or torch.Generator, optional): Seeds a private
                        generator (or is the generator), making the run
                        reproducible; an example's map does not depend on
                        the other examples of the batch. ``None`` uses
                        torch's global generator. Default: None
            internal_batch_size (int, optional): Most noisy rows sent through
                        the model at once (at least 2 with antithetic
                        noise); memory then stays flat as the draws grow.
                        ``None`` sends all ``N * B`` rows at once.
                        Default: None
            show_progress (bool, optional): Show a progress bar over the
                        steps. Default: False
            return_convergence_delta (bool, optional): Also return, per
                        example, the constraint violation left at the final
                        map: the (weighted) hinge term on ``N`` fresh draws
                        (0 means every output stayed within the tolerance),
                        as :meth:`compute_convergence_delta` measures it.
                        Default: False

        Returns:
            *Tensor* or *tuple[Tensor, ...]* of **attributions**, or
            (**attributions**, **delta**):

            - **attributions**: values in [0, 1] with exactly the shape and
              tuple-ness of ``inputs`` (maps broadcast over channels).
            - **delta** (*Tensor*, shape ``(B,)``): returned with
              ``return_convergence_delta=True``.

        Warns:
            DegenerateMapWarning: a returned map is constant.
            GuaranteeWarning: ``guarantee`` cannot be met for an example.

        Raises:
            ValueError: NaN/inf or empty inputs, an out-of-range target, a
                        ``guarantee`` outside (0, 1), an unknown preset or
                        highlight, ``baselines`` without the reference rule,
                        ``return_convergence_delta`` with a graded problem
                        (``tolerance_path``), or a model output that is not
                        ``(B, K)`` or ``(B,)`` with ``target=None``.
            TypeError: arguments of the wrong type.
            RuntimeError: called under ``torch.inference_mode()``.
        """
        refuse_inference_mode()
        is_inputs_tuple = _is_tuple(inputs)
        formatted = check.input_tuple(inputs)
        schedule = checked_options(
            self.problem,
            preset,
            guarantee,
            highlight,
            internal_batch_size,
            show_progress,
            return_convergence_delta,
        )
        layout = _layout(formatted, feature_mask)
        maps, delta = self._learn(
            self.forward_func,
            formatted,
            layout,
            target,
            additional_forward_args,
            baselines,
            schedule,
            guarantee,
            seed,
            internal_batch_size,
            show_progress,
            return_convergence_delta,
        )
        attributions = tuple(
            (w if highlight == "non_contributing" else 1.0 - w).expand_as(x).contiguous()
            for w, x in zip(maps, formatted, strict=True)
        )
        formatted_out = _format_output(is_inputs_tuple, attributions)
        if delta is not None:
            return formatted_out, delta
        return formatted_out

    @log_usage()
    def certify(
        self,
        inputs: TensorOrTupleOfTensorsGeneric,
        attributions: TensorOrTupleOfTensorsGeneric,
        target: TargetType = None,
        additional_forward_args: Any = None,
        *,
        baselines: BaselineType = None,
        highlight: Highlight = "contributing",
        n_draws: int = 1000,
        confidence: float = 0.95,
        bound_target: float | None = 0.95,
        seed: Seed = None,
        internal_batch_size: int | None = None,
    ) -> Certificate:
        r"""Measures the claim of maps: noise at their levels keeps the held outputs.

        Fresh, independent draws ``U * w`` at each map's own levels (read
        from ``attributions`` as ``highlight`` returned them) go through the
        masked network of :attr:`problem` (mask units on, held to the clean
        output its ``held_to`` names) and through the caller's unmodified
        model (held to its own clean output). Forward passes only, under
        ``torch.no_grad``, at most ``internal_batch_size`` rows at once.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): The explained inputs.
            attributions (Tensor or tuple[Tensor, ...]): Their maps, shaped
                        like ``inputs``, values in [0, 1].
            target (optional): The held outputs, as in :meth:`attribute`.
            additional_forward_args (optional): As in :meth:`attribute`.
            baselines (optional): As in :meth:`attribute` (the same ones the
                        maps were learnt with). Default: None
            highlight (str, optional): How ``attributions`` are expressed.
                        Default: "contributing"
            n_draws (int, optional): Most draws per example and network.
                        Default: 1000
            confidence (float, optional): Of the Clopper-Pearson lower
                        bounds, in (0, 1). Default: 0.95
            bound_target (float, optional): The share the bounds are to
                        reach, in (0, 1): each example draws, in looks of
                        100, 200, 400, ... draws, only until its bound
                        clears it or cannot any more, and the bound stays
                        valid under that stopping (see
                        :mod:`~captum_noisemask.core.sequential`). ``None``:
                        exactly ``n_draws`` draws, the fixed certificate for
                        exact comparisons. Default: 0.95
            seed (int or torch.Generator, optional): Seeds the draws.
                        Default: None
            internal_batch_size (int, optional): Most rows per forward pass.
                        Default: None

        Returns:
            *Certificate*: ``.masked`` and ``.plain`` (each with per-example
            ``within``, ``within_lower`` and ``decision_kept``) and
            ``.necessity`` (per example, the share of draws on the plain
            model leaving the tolerance when full noise covers only the
            contributing positions). ``print`` shows a table.

        Raises:
            ValueError: maps not shaped like the inputs, outside [0, 1] or
                        NaN; ``confidence`` outside (0, 1).

        Examples::

            >>> import torch
            >>> from torch import nn
            >>> from captum_noisemask import FAST, NoiseMaskAttribution, NoiseMaskProblem
            >>> _ = torch.manual_seed(0)
            >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3)).eval()
            >>> x = torch.rand(2, 1, 4, 4)
            >>> explainer = NoiseMaskAttribution(model, NoiseMaskProblem(tolerance=0.3))
            >>> maps = explainer.attribute(x, preset=FAST.replace(n_steps=50), seed=0)
            >>> certificate = explainer.certify(x, maps, n_draws=200, seed=1)  # tolerance 0.3
            >>> tuple(certificate.masked.within_lower.shape)
            (2,)
            >>> bool((certificate.plain.within_lower <= certificate.plain.within).all())
            True
        """
        refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        checked_certify_options(n_draws, confidence, bound_target, internal_batch_size)
        levels = levels_of(attributions, formatted, highlight)
        return self._certificate(
            self.forward_func,
            formatted,
            levels,
            target,
            additional_forward_args,
            baselines,
            n_draws,
            confidence,
            bound_target,
            seed,
            internal_batch_size,
        )

    def compute_convergence_delta(  # type: ignore[override]
        self,
        attributions: Tensor | tuple[Tensor, ...],
        inputs: Tensor | tuple[Tensor, ...],
        target: TargetType = None,
        additional_forward_args: Any = None,
        *,
        baselines: BaselineType = None,
        highlight: Highlight = "contributing",
        n_samples: int = 100,
        seed: Seed = None,
    ) -> Tensor:
        r"""The constraint violation a map leaves: the hinge term on fresh draws.

        ``penalty * (1/N) sum_n sum_k max(|y_k - y'_k| - a, 0)`` per example,
        for :attr:`problem`, with the noise levels read from ``attributions``
        (as ``highlight`` returned them). 0 means every output stayed within
        the tolerance on every draw.

        Args:
            attributions (Tensor or tuple[Tensor, ...]): Maps as returned by
                        :meth:`attribute`, values in [0, 1].
            inputs (Tensor or tuple[Tensor, ...]): The inputs they explain.
            target (optional): As in :meth:`attribute`.
            additional_forward_args (optional): As in :meth:`attribute`.
            baselines (optional): As in :meth:`attribute`. Default: None
            highlight (str, optional): How ``attributions`` are expressed.
                        Default: "contributing"
            n_samples (int, optional): Draws ``N``. Default: 100
            seed (int or torch.Generator, optional): As in :meth:`attribute`.

        Returns:
            *Tensor* of shape ``(B,)``.
        """
        refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        check.check_positive_int("n_samples", n_samples)
        levels = levels_of(attributions, formatted, highlight)
        with self._guarded(), torch.no_grad():
            clean_pass = self._clean_pass(
                formatted, target, additional_forward_args, baselines, seed, None
            )
            return _delta(clean_pass, levels, n_samples, antithetic=False)

    def inspect_masks(
        self,
        inputs: Tensor | tuple[Tensor, ...],
        additional_forward_args: Any = None,
        *,
        baselines: BaselineType = None,
    ) -> MaskReport:
        r"""Where the mask units of :attr:`problem` sit on these inputs, and what masking does.

        Runs the clean pass that :meth:`attribute` runs, then one pass with
        the masks on and no noise.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): Input batch(es).
            additional_forward_args (Any, optional): As in :meth:`attribute`.
            baselines (optional): As in :meth:`attribute`. Default: None

        Returns:
            *MaskReport*: ``.sites`` in execution order, each with ``.name``
            (usable as a ``thresholds`` key when it names a module),
            ``.threshold``, ``.silenced`` (per example, the fraction of the
            site's units forced to zero) and ``.switched_off`` (the fraction
            that was on, above 0, yet at or below the threshold); and
            ``.output_change`` (per example, the largest absolute change of
            a transformed output caused by masking alone). ``print`` shows a
            table.

        Examples::

            >>> import torch
            >>> from torch import nn
            >>> from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem
            >>> _ = torch.manual_seed(0)
            >>> model = nn.Sequential(
            ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
            ... ).eval()
            >>> x = torch.rand(2, 1, 8, 8)
            >>> paper = NoiseMaskAttribution(model, NoiseMaskProblem.paper()).inspect_masks(x)
            >>> [(site.name, site.threshold) for site in paper.sites]
            [('0', 0.2)]
            >>> NoiseMaskAttribution(model).inspect_masks(x).output_change.tolist()
            [0.0, 0.0]
        """
        refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        # Held to the masked network: what the report measures is masking's own effect.
        problem = self.problem.replace(held_to="masked")
        with self._guarded(), torch.no_grad():
            clean_pass = problem.prepare(
                self.forward_func,
                self._model,
                self._thresholds,
                formatted,
                None,
                additional_forward_args,
                baselines,
                None,
                None,
            )
        change = clean_pass.masked_output - clean_pass.plain_output
        return clean_pass.mask_units.report(change.abs().reshape(change.shape[0], -1).amax(1))

    def attribute_future(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported: the optimisation needs the outputs synchronously."""
        raise NotImplementedError("NoiseMaskAttribution does not support attribute_future")

    def _learn(
        self,
        forward: Callable[..., Any],
        inputs: tuple[Tensor, ...],
        layout: LevelLayout,
        target: TargetType,
        additional_forward_args: Any,
        baselines: BaselineType,
        schedule: Preset,
        guarantee: float | None,
        seed: Seed,
        internal_batch_size: int | None,
        show_progress: bool,
        with_delta: bool,
    ) -> tuple[tuple[Tensor, ...], Tensor | None]:
        """The maps of checked ``inputs`` through ``forward``, and their deltas if asked.

        ``forward`` is the explained model, or a layer variant's model with a layer's
        values substituted (:class:`~captum_noisemask.LayerNoiseMaskAttribution`).
        """
        with self._guarded(), torch.enable_grad():  # NoiseTunnel and captum.metrics use no_grad
            clean_pass = self._clean_pass(
                inputs,
                target,
                additional_forward_args,
                baselines,
                seed,
                internal_batch_size,
                forward,
            )
            network = clean_pass.network(layout, schedule.n_samples, schedule.antithetic)
            factors = self.problem.tolerance_path or (1.0,)
            result = optimise_along_tolerances(
                network, schedule, factors, show_progress, self.problem.reward_exponent
            )
            maps = result.maps
            ranking = None
            if self.problem.order == "evidence":  # on the caller's model, at the learnt levels
                plain = clean_pass.network(layout, schedule.n_samples, schedule.antithetic, False)
                ranking = evidence_order(result.params, plain.evidence(result.params), layout)
                maps = ranking.ordered(maps)
            if guarantee is not None:
                maps = self._calibrated(clean_pass, maps, guarantee)
                if ranking is not None:  # levels the calibration set to 0 keep their order
                    maps = ranking.kept(maps)
            delta = (
                _delta(clean_pass, maps, schedule.n_samples, schedule.antithetic)
                if with_delta
                else None
            )
        # A constant picture is what the warning is about: an order alone is no picture.
        _warn_if_constant(maps if ranking is None else result.maps, self.problem)
        return maps, delta

    def _certificate(
        self,
        forward: Callable[..., Any],
        inputs: tuple[Tensor, ...],
        levels: tuple[Tensor, ...],
        target: TargetType,
        additional_forward_args: Any,
        baselines: BaselineType,
        n_draws: int,
        confidence: float,
        bound_target: float | None,
        seed: Seed,
        internal_batch_size: int | None,
    ) -> Certificate:
        """:meth:`certify` for checked ``inputs`` and ``levels`` through ``forward``."""
        with self._guarded(), torch.no_grad():
            clean_pass = self._clean_pass(
                inputs,
                target,
                additional_forward_args,
                baselines,
                seed,
                internal_batch_size,
                forward,
            )
            return measure_certificate(clean_pass, levels, n_draws, confidence, bound_target)

    def _clean_pass(
        self,
        inputs: tuple[Tensor, ...],
        target: TargetType,
        additional_forward_args: Any,
        baselines: BaselineType,
        seed: Seed,
        internal_batch_size: int | None,
        forward: Callable[..., Any] | None = None,
    ) -> CleanPass:
        return self.problem.prepare(
            self.forward_func if forward is None else forward,
            self._model,
            self._thresholds,
            inputs,
            target,
            additional_forward_args,
            baselines,
            seed,
            internal_batch_size,
        )

    def _guarded(self, warn: bool = True) -> AbstractContextManager[None]:
        """Keeps the caller's model as it was (see :mod:`captum_noisemask._utils.model_state`)."""
        return model_state.preserved(self._model, self.forward_func, warn)

    def _calibrated(
        self, clean_pass: CleanPass, maps: tuple[Tensor, ...], guarantee: float
    ) -> tuple[Tensor, ...]:
        calibration = calibrate_levels(clean_pass, maps, guarantee, CERTIFICATE_CONFIDENCE)
        infeasible = (~calibration.feasible).nonzero().flatten().tolist()
        if infeasible:
            hint = (
                "use a problem with held_to='masked', so that masking alone is not a "
                "violation, or a larger tolerance"
                if self.problem.held_to == "plain" and clean_pass.mask_units.sites
                else "use a problem with a larger tolerance"
            )
            warnings.warn(
                f"guarantee={guarantee} cannot hold for example(s) {infeasible} even without "
                f"noise: the masked network's clean outputs already leave the tolerance; {hint}",
                GuaranteeWarning,
                stacklevel=5,
            )
        hopeless = calibration.full_noise_holds.nonzero().flatten().tolist()
        if hopeless:
            advice = (
                "use a problem with a smaller tolerance"
                if self.problem.unit == "response"
                else "use a problem with unit='response', which scales it to the model's "
                "response to full noise"
            )
            warnings.warn(
                f"for example(s) {hopeless} full noise on every position already meets "
                f"guarantee={guarantee}: nothing can contribute at this tolerance ({advice})",
                GuaranteeWarning,
                stacklevel=5,
            )
        return calibration.maps


#: Confidence of the bound ``attribute(guarantee=p)`` calibrates to (certify's default).
CERTIFICATE_CONFIDENCE = 0.95


def checked_options(
    problem: NoiseMaskProblem,
    preset: str | Preset,
    guarantee: float | None,
    highlight: object,
    internal_batch_size: int | None,
    show_progress: bool,
    return_convergence_delta: bool,
) -> Preset:
    """Checks ``attribute``'s options (shared by the layer variant); returns the schedule."""
    schedule = resolve_preset(preset)
    if problem.tolerance_path is not None and return_convergence_delta:
        raise ValueError(
            "return_convergence_delta needs one tolerance; a graded map (the problem's "
            "tolerance_path) has none (call compute_convergence_delta on the map of "
            "each tolerance instead)"
        )
    if guarantee is not None:
        check.check_open_unit("guarantee", guarantee)
    check.check_positive_int("internal_batch_size", internal_batch_size, allow_none=True)
    check.check_flag("show_progress", show_progress)
    check.check_flag("return_convergence_delta", return_convergence_delta)
    check.check_highlight(highlight)
    return schedule


def checked_certify_options(
    n_draws: int, confidence: float, bound_target: float | None, internal_batch_size: int | None
) -> None:
    """Checks ``certify``'s options (shared by the layer variant)."""
    check.check_positive_int("n_draws", n_draws)
    check.check_open_unit("confidence", confidence)
    if bound_target is not None:
        check.check_open_unit("bound_target", bound_target)
    check.check_positive_int("internal_batch_size", internal_batch_size, allow_none=True)


def _layout(inputs: tuple[Tensor, ...], feature_mask: object) -> LevelLayout:
    if feature_mask is None:
        return PerPosition([map_shape(x) for x in inputs])
    return FeatureGroups(check.feature_masks(feature_mask, inputs), inputs[0].shape[0])


def levels_of(
    attributions: object, inputs: tuple[Tensor, ...], highlight: object
) -> tuple[Tensor, ...]:
    """Noise levels ``w`` from maps as ``attribute`` returned them, checked."""
    check.check_highlight(highlight)
    maps = attributions if isinstance(attributions, tuple) else (attributions,)
    if len(maps) != len(inputs) or not all(isinstance(m, Tensor) for m in maps):
        raise TypeError(
            f"attributions must be a tensor or a tuple of {len(inputs)} tensors, one per input"
        )
    levels = []
    for i, (m, x) in enumerate(zip(maps, inputs, strict=True)):
        if m.shape != x.shape:
            raise ValueError(
                f"attributions[{i}] has shape {tuple(m.shape)}; it must have the shape of "
                f"inputs[{i}], {tuple(x.shape)}"
            )
        if not m.is_floating_point() or bool(((m < 0) | (m > 1) | m.isnan()).any()):
            raise ValueError(
                f"attributions[{i}] must hold floating point values in [0, 1] (maps as "
                "attribute returns them), with no NaN"
            )
        w = m if highlight == "non_contributing" else 1.0 - m
        levels.append(w.detach().to(x.device, x.dtype))
    return tuple(levels)


def _delta(
    clean_pass: CleanPass, maps: tuple[Tensor, ...], n_samples: int, antithetic: bool
) -> Tensor:
    """The weighted hinge of ``maps`` on ``n_samples`` fresh draws, per example."""
    layout = PerPosition([tuple(w.shape) for w in maps])
    network = clean_pass.network(layout, n_samples, antithetic)
    return network.evaluate(maps, with_grad=False).hinge


def refuse_inference_mode() -> None:
    if torch.is_inference_mode_enabled():
        raise RuntimeError(
            "NoiseMaskAttribution learns its maps with autograd, which "
            "torch.inference_mode() switches off; call attribute outside inference_mode "
            "(torch.no_grad() is fine: the method re-enables gradients itself)"
        )


#: Maps whose levels differ by less than this are constant.
CONSTANT_MAP_SPAN = 1e-3


def _warn_if_constant(maps: tuple[Tensor, ...], problem: NoiseMaskProblem) -> None:
    flat = torch.cat([w.reshape(w.shape[0], -1) for w in maps], dim=1)
    constant = (flat.amax(1) - flat.amin(1)) < CONSTANT_MAP_SPAN
    level = flat.mean(1)
    advice = {
        "low": "even the smallest noise moved the held outputs beyond the tolerance: "
        "use a problem with a larger tolerance",
        "high": "full noise on every position leaves the held outputs within the "
        "tolerance, so nothing contributes at this tolerance: "
        + (
            "use a problem with a smaller tolerance (it is a fraction of that full-noise change)"
            if problem.unit == "response"
            else "use a problem with unit='response' (e.g. NoiseMaskProblem(), 0.4), "
            "which scales the tolerance to the model's own response to full noise"
        ),
        "flat": "the levels have not separated; run a preset with more steps, or check "
        "that some noise moves the held outputs by the tolerance (certify measures it)",
    }
    groups: dict[str, list[int]] = {}
    for index in constant.nonzero().flatten().tolist():
        value = float(level[index])
        kind = "low" if value <= 1e-6 else "high" if value >= 1 - 1e-6 else "flat"
        groups.setdefault(kind, []).append(index)
    for kind, examples in groups.items():
        values = ", ".join(f"{float(level[i]):.2f}" for i in examples[:4])
        warnings.warn(
            f"the map of example(s) {examples} is constant (noise level w = {values}): "
            f"{advice[kind]}",
            DegenerateMapWarning,
            stacklevel=5,  # past log_usage's wrapper, at the caller
        )

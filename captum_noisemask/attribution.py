"""``NoiseMaskAttribution``: the non-contribution map as a Captum attribution."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
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
from ._utils.typing import Highlight, OutputTransform, Thresholds
from .certificate import Certificate, measure_certificate
from .core.calibration import calibrate_levels
from .core.levels import FeatureGroups, LevelLayout, PerPosition, map_shape
from .core.mask_units import MaskReport, MaskRule, resolve_thresholds
from .core.optimisation import optimise_along_tolerances
from .core.problem import HeldTo, NoiseMaskProblem, PreparedProblem, Seed
from .presets import Preset, resolve_preset

__all__ = ["NoiseMaskAttribution", "DegenerateMapWarning", "GuaranteeWarning"]

#: The keywords of :meth:`NoiseMaskAttribution.attribute` that define the problem
#: (and so are accepted by :meth:`~NoiseMaskAttribution.certify` and friends).
PROBLEM_KEYWORDS = (
    "tolerance",
    "relative_tolerance",
    "response_tolerance",
    "penalty",
    "held_to",
    "preset",
    "mask_rule",
    "baselines",
    "output_transform",
    "noise_scale",
)


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
        thresholds (Mapping, float or None, optional): Mask units. Every
                    input of a ReLU-family nonlinearity is a masking site
                    (see :mod:`captum_noisemask.core.mask_units`). ``None``
                    applies the paper's rule: every site, the first at 0.2
                    (0 when it reads a normalisation layer, whose outputs
                    are on another scale; see the method page), the others
                    at 0. A number puts every site at that threshold (0:
                    masking alone never changes the clean outputs). A
                    mapping from a layer (module object, or its dotted name
                    from ``named_modules()``) to a threshold masks only the
                    sites that layer feeds. ``{}`` disables masking.
                    :meth:`inspect_masks` shows the sites. Default: None

    Examples::

        >>> import torch
        >>> from torch import nn
        >>> from captum_noisemask import NoiseMaskAttribution
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> model = nn.Sequential(
        ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
        ... ).eval()
        >>> images = torch.rand(2, 1, 8, 8)
        >>> explainer = NoiseMaskAttribution(model)
        >>> attributions = explainer.attribute(
        ...     images, target=0, n_steps=20, response_tolerance=0.4, seed=0
        ... )
        >>> attributions.shape
        torch.Size([2, 1, 8, 8])
        >>> bool(((attributions >= 0) & (attributions <= 1)).all())
        True
    """

    def __init__(self, forward_func: Callable[..., Tensor], thresholds: Thresholds = None) -> None:
        # A torch.compile'd module runs its graph without the Python-level ReLU calls the
        # mask units intercept; its original module computes the same function eagerly.
        forward_func = getattr(forward_func, "_orig_mod", forward_func)
        if isinstance(forward_func, torch.jit.ScriptModule) and thresholds != {}:
            raise TypeError(
                "forward_func is a TorchScript module (torch.jit.script or torch.jit.trace): "
                "its graph runs without the Python calls mask units intercept, so the map "
                "would silently differ from the eager model's; pass the original nn.Module, "
                "or thresholds={} to explain without mask units"
            )
        super().__init__(forward_func)
        self._model = model_state.explained_module(forward_func)
        self.thresholds = resolve_thresholds(self._model, thresholds)

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
        preset: str | Preset = "fast",
        n_samples: int | None = None,
        n_steps: int | None = None,
        lr: float | None = None,
        tolerance: float | None = None,
        relative_tolerance: float | None = None,
        response_tolerance: float | None = None,
        penalty: float | None = None,
        held_to: HeldTo = "plain",
        mask_rule: MaskRule | None = None,
        baselines: BaselineType = None,
        tolerance_path: Sequence[float] | None = None,
        guarantee: float | None = None,
        output_transform: OutputTransform | None = None,
        highlight: Highlight = "contributing",
        noise_scale: float | Tensor | tuple[float | Tensor, ...] = 1.0,
        seed: Seed = None,
        internal_batch_size: int | None = None,
        show_progress: bool = False,
        return_convergence_delta: bool = False,
    ) -> TensorOrTupleOfTensorsGeneric | tuple[TensorOrTupleOfTensorsGeneric, Tensor]:
        r"""Learns the noise-level map of every example.

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
            preset (str or Preset, optional): ``"fast"`` (a short annealed
                        schedule with antithetic noise: the paper's map's
                        shape at 1/625 of its cost), ``"faithful"`` (the
                        paper's run emulated: its maps at 1/29 of the cost;
                        on a CPU add ``internal_batch_size=128``),
                        ``"paper"`` (N = 100, 15,000 Adam steps, lr 1e-4),
                        ``"coarse"`` (4 draws x 100 steps, 1/6 of "fast", for
                        big images with a coarse ``feature_mask`` grid), or
                        a :class:`~captum_noisemask.Preset`. Default: "fast"
            n_samples (int, optional): Noise draws ``N`` per step; overrides
                        the preset. Default: None
            n_steps (int, optional): Adam steps; overrides the preset.
                        Default: None
            lr (float, optional): Adam learning rate of the first step. It
                        scales the preset's whole schedule (see
                        :meth:`Preset.with_lr`), so an annealed rate still
                        falls. Default: None
            tolerance (float, optional): Tolerance ``a`` in output units;
                        overrides the preset (1.0 on logits in every
                        preset). Default: None
            relative_tolerance (float, optional): Measures output changes in
                        units of each example's clean output spread (the
                        standard deviation of its transformed outputs over
                        the ``K`` outputs, or the output's magnitude when
                        ``K = 1``) and uses this tolerance in those units:
                        the hinge becomes ``max(|y_k - y'_k| / s - r, 0)``.
                        The map then does not depend on the outputs' scale:
                        use it when logits move less than 1.0 (untrained or
                        weakly trained models, regression heads). Excludes
                        ``tolerance``. Default: None
            response_tolerance (float, optional): Measures output changes in
                        units of each example's response to full noise: the
                        mean ``|y_k - y'_k|`` over the held outputs and
                        :data:`~captum_noisemask.core.problem.RESPONSE_DRAWS`
                        draws with ``w = 1`` everywhere, on the network the
                        map is learnt for. ``0.4`` means "noise may move the
                        outputs by 40% of what full noise does", which is
                        what the paper's 1.0 logit is on its CNN (full noise
                        moves its logits by about 2.5); unlike a tolerance in
                        output units it binds on quiet models too. Excludes
                        the other tolerances. Default: None
            penalty (float, optional): Weight of the hinge in ``E(w)``: one
                        unit of violation costs ``penalty`` units of
                        ``mean(w)``. ``None``: 1, or ``1 / response_tolerance``
                        with a response tolerance (violations counted in
                        units of the tolerance band). Default: None
            held_to (str, optional): The clean output the masked network's
                        noisy outputs are compared with. ``"plain"``: the
                        model's own (the paper's objective as written; the
                        mask units alone may already move it); ``"masked"``:
                        the masked network's on the clean input, so masking
                        alone is never a violation. Default: "plain"
            mask_rule (str, optional): Which units the mask units silence
                        during noisy passes. ``"paper"``: units whose ReLU
                        input is <= the site's threshold on the clean input,
                        forced to 0. ``"reference"``: also every unit whose
                        ``relu(input)`` is no larger than on the reference
                        input ``baselines`` (a blank image by default), held
                        at its clean value; every automatic threshold is 0.
                        After a BatchNorm "no feature" is not "<= 0", and
                        this rule finds what the clean input shows beyond a
                        blank one; masking alone never changes the clean
                        outputs. See :mod:`~captum_noisemask.core.mask_units`.
                        ``None``: the preset's (``"reference"`` for "fast"
                        and "coarse", ``"paper"`` for "paper" and
                        "faithful"). Default: None
            baselines (float, Tensor or tuple, optional): The reference of
                        ``mask_rule="reference"``, in Captum's convention: a
                        number, a tensor broadcastable to the inputs, or one
                        per input. ``None``: zeros. Default: None
            tolerance_path (sequence of float, optional): A graded map,
                        beyond the paper: increasing multipliers of the
                        tolerance (absolute or relative), e.g. ``(1, 2, 4,
                        8)``. The map is the mean of the maps learnt at each
                        multiple, so a pixel that resists noise even at a
                        large tolerance ranks above one that resists only
                        the smallest: the contributing region is ranked
                        instead of near-binary. Each point after the first
                        starts from the previous one's levels and runs a
                        third of the steps, so ``(1, 2, 4, 8)`` costs 2x a
                        plain call. ``None``: one tolerance, the paper's map.
                        Default: None
            guarantee (float, optional): A share ``p`` in (0, 1): after the
                        optimisation each map's levels are scaled down (by
                        bisection on fresh draws) until the masked network
                        keeps every held output within the tolerance with a
                        Clopper-Pearson lower bound of at least ``p`` at
                        95% confidence, as :meth:`certify` then measures.
                        Calibrated on a stricter target (half way to 1) so
                        that fresh draws meet ``p`` too; costs about 0.4x a
                        fast map. ``None``: the map as optimised.
                        Default: None
            output_transform (Callable, optional): Applied to the model's
                        outputs before the tolerance is checked, e.g.
                        ``lambda y: y.softmax(-1)``. ``None`` uses the raw
                        outputs (logits): softmax saturates on a confident
                        classifier, so almost any noise keeps the
                        probabilities within a small tolerance and the map
                        degenerates to "nothing contributes". Default: None
            highlight (str, optional): ``"contributing"`` returns ``1 - w``
                        (Captum's convention: larger matters more);
                        ``"non_contributing"`` returns ``w``, the paper's
                        map. Default: "contributing"
            noise_scale (float, Tensor or tuple, optional): Half-width of the
                        uniform noise: a number, or a tensor broadcastable to
                        one example (per channel: shape ``(C, 1, 1)``); a
                        tuple gives one per input. 1.0 suits inputs in
                        [0, 1]; for inputs normalised by ``(x - mean) / std``
                        the paper's pixel noise is ``1 / std`` per channel.
                        Default: 1.0
            seed (int or torch.Generator, optional): Seeds a private
                        generator (or is the generator), making the run
                        reproducible; an example's map does not depend on
                        the other examples of the batch. ``None`` uses
                        torch's global generator. Default: None
            internal_batch_size (int, optional): Most noisy rows sent through
                        the model at once (at least 2 with antithetic
                        noise); memory then stays flat as ``n_samples``
                        grows. ``None`` sends all ``N * B`` rows at once.
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
                        non-positive ``n_samples``/``n_steps``/``lr``, a
                        negative tolerance, two tolerances, a ``guarantee``
                        outside (0, 1), a
                        ``tolerance_path`` that is empty or does not increase
                        (or comes with ``return_convergence_delta``), an
                        unknown preset or highlight, or a model output that
                        is not ``(B, K)`` or ``(B,)`` with ``target=None``.
            TypeError: arguments of the wrong type.
            RuntimeError: called under ``torch.inference_mode()``.
        """
        _refuse_inference_mode()
        is_inputs_tuple = _is_tuple(inputs)
        formatted = check.input_tuple(inputs)
        settings = _settings(preset, n_samples, n_steps, lr)
        problem = NoiseMaskProblem.from_keywords(
            settings,
            tolerance,
            relative_tolerance,
            response_tolerance,
            penalty,
            output_transform,
            noise_scale,
            held_to,
            mask_rule,
            baselines,
        )
        factors = check.tolerance_path(tolerance_path)
        if factors is not None and return_convergence_delta:
            raise ValueError(
                "return_convergence_delta needs one tolerance; a tolerance_path map has "
                "none (call compute_convergence_delta on each tolerance's map instead)"
            )
        if guarantee is not None:
            check.check_open_unit("guarantee", guarantee)
        check.check_positive_int("internal_batch_size", internal_batch_size, allow_none=True)
        check.check_flag("show_progress", show_progress)
        check.check_flag("return_convergence_delta", return_convergence_delta)
        check.check_highlight(highlight)
        layout = _layout(formatted, feature_mask)
        with self._guarded(), torch.enable_grad():  # NoiseTunnel and captum.metrics use no_grad
            prepared = self._prepare(
                problem, formatted, target, additional_forward_args, seed, internal_batch_size
            )
            network = prepared.network(layout, settings.n_samples, settings.antithetic)
            result = optimise_along_tolerances(network, settings, factors or (1.0,), show_progress)
            maps = result.maps
            if guarantee is not None:
                maps = self._calibrated(prepared, maps, guarantee)
            delta = (
                _delta(prepared, maps, settings.n_samples, settings.antithetic)
                if return_convergence_delta
                else None
            )
        _warn_if_constant(maps, problem)
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
        highlight: Highlight = "contributing",
        n_draws: int = 1000,
        confidence: float = 0.95,
        seed: Seed = None,
        internal_batch_size: int | None = None,
        **settings: Any,
    ) -> Certificate:
        r"""Measures the claim of maps: noise at their levels keeps the held outputs.

        Fresh, independent draws ``U * w`` at each map's own levels (read
        from ``attributions`` as ``highlight`` returned them) go through the
        masked network (mask units on, held to the clean output ``held_to``
        names) and through the caller's unmodified model (held to its own
        clean output). Forward passes only, under ``torch.no_grad``, at most
        ``internal_batch_size`` rows at once.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): The explained inputs.
            attributions (Tensor or tuple[Tensor, ...]): Their maps, shaped
                        like ``inputs``, values in [0, 1].
            target (optional): The held outputs, as in :meth:`attribute`.
            additional_forward_args (optional): As in :meth:`attribute`.
            highlight (str, optional): How ``attributions`` are expressed.
                        Default: "contributing"
            n_draws (int, optional): Draws per example and measurement.
                        Default: 1000
            confidence (float, optional): Of the Clopper-Pearson lower
                        bounds, in (0, 1). Default: 0.95
            seed (int or torch.Generator, optional): Seeds the draws.
                        Default: None
            internal_batch_size (int, optional): Most rows per forward pass.
                        Default: None
            **settings: The problem the maps were learnt for: ``preset``
                        (whose problem is the default; "fast"), ``tolerance``,
                        ``relative_tolerance``, ``response_tolerance``,
                        ``held_to``, ``mask_rule``, ``baselines``,
                        ``output_transform``, ``noise_scale`` (and
                        ``penalty``, which does not change a certificate),
                        as passed to :meth:`attribute`.

        Returns:
            *Certificate*: ``.masked`` and ``.plain`` (each with per-example
            ``within``, ``within_lower`` and ``decision_kept``) and
            ``.necessity`` (per example, the share of draws on the plain
            model leaving the tolerance when full noise covers only the
            contributing positions). ``print`` shows a table.

        Raises:
            ValueError: maps not shaped like the inputs, outside [0, 1] or
                        NaN; ``confidence`` outside (0, 1); bad settings.
            TypeError: an unknown keyword in ``settings``.

        Examples::

            >>> import torch
            >>> from torch import nn
            >>> from captum_noisemask import NoiseMaskAttribution
            >>> _ = torch.manual_seed(0)
            >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3)).eval()
            >>> x = torch.rand(2, 1, 4, 4)
            >>> explainer = NoiseMaskAttribution(model)
            >>> maps = explainer.attribute(x, n_steps=50, response_tolerance=0.4, seed=0)
            >>> certificate = explainer.certify(
            ...     x, maps, n_draws=200, seed=1, response_tolerance=0.4
            ... )
            >>> tuple(certificate.masked.within_lower.shape)
            (2,)
            >>> bool((certificate.plain.within_lower <= certificate.plain.within).all())
            True
        """
        _refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        check.check_positive_int("n_draws", n_draws)
        check.check_open_unit("confidence", confidence)
        check.check_positive_int("internal_batch_size", internal_batch_size, allow_none=True)
        levels = _levels_of(attributions, formatted, highlight)
        problem = problem_of(settings, "certify")
        with self._guarded(), torch.no_grad():
            prepared = self._prepare(
                problem, formatted, target, additional_forward_args, seed, internal_batch_size
            )
            return measure_certificate(prepared, levels, n_draws, confidence)

    def compute_convergence_delta(  # type: ignore[override]
        self,
        attributions: Tensor | tuple[Tensor, ...],
        inputs: Tensor | tuple[Tensor, ...],
        target: TargetType = None,
        additional_forward_args: Any = None,
        *,
        highlight: Highlight = "contributing",
        n_samples: int = 100,
        seed: Seed = None,
        **settings: Any,
    ) -> Tensor:
        r"""The constraint violation a map leaves: the hinge term on fresh draws.

        ``penalty * (1/N) sum_n sum_k max(|y_k - y'_k| - a, 0)`` per example,
        with the noise levels read from ``attributions`` (as ``highlight``
        returned them) and the mask units of this explainer. 0 means every
        output stayed within the tolerance on every draw.

        Args:
            attributions (Tensor or tuple[Tensor, ...]): Maps as returned by
                        :meth:`attribute`, values in [0, 1].
            inputs (Tensor or tuple[Tensor, ...]): The inputs they explain.
            target (optional): As in :meth:`attribute`.
            additional_forward_args (optional): As in :meth:`attribute`.
            highlight (str, optional): How ``attributions`` are expressed.
                        Default: "contributing"
            n_samples (int, optional): Draws ``N``. Default: 100
            seed (int or torch.Generator, optional): As in :meth:`attribute`.
            **settings: The problem, as in :meth:`certify`: ``preset``
                        (whose problem is the default; "fast"),
                        ``tolerance``, ``relative_tolerance``,
                        ``response_tolerance``, ``penalty``, ``held_to``,
                        ``output_transform``, ``noise_scale``.

        Returns:
            *Tensor* of shape ``(B,)``.
        """
        _refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        check.check_positive_int("n_samples", n_samples)
        levels = _levels_of(attributions, formatted, highlight)
        problem = problem_of(settings, "compute_convergence_delta")
        with self._guarded(), torch.no_grad():
            prepared = self._prepare(
                problem, formatted, target, additional_forward_args, seed, None
            )
            return _delta(prepared, levels, n_samples, antithetic=False)

    def inspect_masks(
        self,
        inputs: Tensor | tuple[Tensor, ...],
        additional_forward_args: Any = None,
        *,
        output_transform: OutputTransform | None = None,
        preset: str | Preset = "fast",
        mask_rule: MaskRule | None = None,
        baselines: BaselineType = None,
    ) -> MaskReport:
        r"""Where the mask units sit on these inputs, and what masking alone does.

        Runs the clean pass that :meth:`attribute` runs, then one pass with
        the masks on and no noise.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): Input batch(es).
            additional_forward_args (Any, optional): As in :meth:`attribute`.
            output_transform (Callable, optional): As in :meth:`attribute`
                        (e.g. to pick the logits of a model returning a
                        tuple). Default: None
            preset (str or Preset, optional): Whose mask rule applies when
                        ``mask_rule`` is None. Default: "fast"
            mask_rule (str, optional): As in :meth:`attribute`. Default: None
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
            >>> from captum_noisemask import NoiseMaskAttribution
            >>> _ = torch.manual_seed(0)
            >>> model = nn.Sequential(
            ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
            ... ).eval()
            >>> explainer = NoiseMaskAttribution(model)
            >>> paper = explainer.inspect_masks(torch.rand(2, 1, 8, 8), mask_rule="paper")
            >>> [(site.name, site.threshold) for site in paper.sites]
            [('0', 0.2)]
            >>> explainer.inspect_masks(torch.rand(2, 1, 8, 8)).output_change.tolist()
            [0.0, 0.0]
        """
        _refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        problem = NoiseMaskProblem.from_keywords(
            _settings(preset, None, None, None),
            output_transform=output_transform,
            held_to="masked",
            mask_rule=mask_rule,
            baselines=baselines,
        )
        with self._guarded(), torch.no_grad():
            prepared = self._prepare(problem, formatted, None, additional_forward_args, None, None)
        change = prepared.masked_output - prepared.plain_output
        return prepared.mask_units.report(change.abs().reshape(change.shape[0], -1).amax(1))

    def attribute_future(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported: the optimisation needs the outputs synchronously."""
        raise NotImplementedError("NoiseMaskAttribution does not support attribute_future")

    def _prepare(
        self,
        problem: NoiseMaskProblem,
        inputs: tuple[Tensor, ...],
        target: TargetType,
        additional_forward_args: Any,
        seed: Seed,
        internal_batch_size: int | None,
    ) -> PreparedProblem:
        return problem.prepare(
            self.forward_func,
            self._model,
            self.thresholds,
            inputs,
            target,
            additional_forward_args,
            seed,
            internal_batch_size,
        )

    def _guarded(self) -> AbstractContextManager[None]:
        """Keeps the caller's model as it was (see :mod:`captum_noisemask._utils.model_state`)."""
        return model_state.preserved(self._model, self.forward_func)

    def _calibrated(
        self, prepared: PreparedProblem, maps: tuple[Tensor, ...], guarantee: float
    ) -> tuple[Tensor, ...]:
        calibration = calibrate_levels(prepared, maps, guarantee, CERTIFICATE_CONFIDENCE)
        infeasible = (~calibration.feasible).nonzero().flatten().tolist()
        if infeasible:
            hint = (
                "pass held_to='masked', so that masking alone is not a violation, or a larger "
                "tolerance"
                if prepared.spec.held_to == "plain" and prepared.mask_units.sites
                else "pass a larger tolerance"
            )
            warnings.warn(
                f"guarantee={guarantee} cannot hold for example(s) {infeasible} even without "
                f"noise: the masked network's clean outputs already leave the tolerance; {hint}",
                GuaranteeWarning,
                stacklevel=4,
            )
        hopeless = calibration.full_noise_holds.nonzero().flatten().tolist()
        if hopeless:
            warnings.warn(
                f"for example(s) {hopeless} full noise on every position already meets "
                f"guarantee={guarantee}: nothing can contribute at this tolerance (pass "
                "response_tolerance, which scales it to the model's response to full noise)",
                GuaranteeWarning,
                stacklevel=4,
            )
        return calibration.maps


#: Confidence of the bound ``attribute(guarantee=p)`` calibrates to (certify's default).
CERTIFICATE_CONFIDENCE = 0.95


def _settings(
    preset: str | Preset, n_samples: int | None, n_steps: int | None, lr: float | None
) -> Preset:
    """The preset with the caller's overrides, checked."""
    settings = resolve_preset(preset)
    overrides = {"n_samples": n_samples, "n_steps": n_steps}
    for name, value in overrides.items():
        check.check_positive_int(name, value, allow_none=True)
    settings = settings.replace(**{k: v for k, v in overrides.items() if v is not None})
    if lr is not None:
        check.check_number("lr", lr, 0.0, inclusive=False)
        settings = settings.with_lr(lr)
    check.check_positive_int("n_samples", settings.n_samples)
    check.check_positive_int("n_steps", settings.n_steps)
    check.check_number("lr", settings.lr, 0.0, inclusive=False)
    check.check_number("tolerance", settings.tolerance, 0.0, inclusive=True)
    check.check_betas(settings.betas)
    check.check_positive_int("emulated_samples", settings.emulated_samples, allow_none=True)
    return settings


def _layout(inputs: tuple[Tensor, ...], feature_mask: object) -> LevelLayout:
    if feature_mask is None:
        return PerPosition([map_shape(x) for x in inputs])
    return FeatureGroups(check.feature_masks(feature_mask, inputs), inputs[0].shape[0])


def problem_settings(attribute_kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keywords among ``attribute``'s that define the problem (:data:`PROBLEM_KEYWORDS`).

    What :meth:`NoiseMaskAttribution.certify` needs to measure maps that
    ``attribute(**attribute_kwargs)`` made; the others (steps, seed, ...) are dropped.
    """
    return {key: value for key, value in attribute_kwargs.items() if key in PROBLEM_KEYWORDS}


def problem_of(settings: dict[str, Any], method: str) -> NoiseMaskProblem:
    """The problem named by ``settings``, keywords of :data:`PROBLEM_KEYWORDS`, checked.

    Raises:
        TypeError: a keyword that is not a problem keyword (``method`` names the caller).
        ValueError: a value out of its range.
    """
    unknown = sorted(set(settings) - set(PROBLEM_KEYWORDS))
    if unknown:
        raise TypeError(
            f"{method} got unexpected keyword argument(s) {unknown}; the problem's keywords "
            f"are {list(PROBLEM_KEYWORDS)}"
        )
    keywords = dict(settings)
    preset = _settings(keywords.pop("preset", "fast"), None, None, None)
    return NoiseMaskProblem.from_keywords(preset, **keywords)


def _levels_of(
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
    prepared: PreparedProblem, maps: tuple[Tensor, ...], n_samples: int, antithetic: bool
) -> Tensor:
    """The weighted hinge of ``maps`` on ``n_samples`` fresh draws, per example."""
    layout = PerPosition([tuple(w.shape) for w in maps])
    network = prepared.network(layout, n_samples, antithetic)
    return network.evaluate(maps, with_grad=False).hinge


def _refuse_inference_mode() -> None:
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
    relative = problem.unit == "spread"
    advice = {
        "low": "even the smallest noise moved the held outputs beyond the tolerance: "
        + ("raise relative_tolerance" if relative else "pass a larger tolerance"),
        "high": "full noise on every position leaves the held outputs within the "
        "tolerance, so nothing contributes at this tolerance: "
        + (
            "lower response_tolerance (it is a fraction of that full-noise change)"
            if problem.unit == "response"
            else "pass response_tolerance (e.g. 0.4), which scales the tolerance to the "
            "model's own response to full noise"
        ),
        "flat": "the levels have not separated; run more n_steps, or check that some "
        "noise moves the held outputs by the tolerance (certify measures it)",
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
            stacklevel=4,  # past log_usage's wrapper, at the caller
        )

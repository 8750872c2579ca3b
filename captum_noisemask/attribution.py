"""``NoiseMaskAttribution``: the non-contribution map as a Captum attribution."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from captum._utils.typing import TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import PerturbationAttribution
from captum.log import log_usage
from torch import Tensor, nn

from ._utils import validation as check
from ._utils.compat import _format_additional_forward_args, _format_output, _is_tuple
from ._utils.typing import Highlight, OutputTransform, Thresholds
from .core.levels import FeatureGroups, LevelLayout, PerPosition, map_shape
from .core.mask_units import MaskReport, MaskUnits, resolve_thresholds
from .core.noise import UniformNoise
from .core.objective import OutputConstraint
from .core.optimisation import NoisyForward, optimise_along_tolerances
from .presets import PAPER, Preset, resolve_preset

__all__ = ["NoiseMaskAttribution", "DegenerateMapWarning"]

Seed = int | torch.Generator | None


class DegenerateMapWarning(UserWarning):
    """A returned map is constant (every level 0 or every level 1): it ranks nothing."""


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
    output: it does not contribute. "Mask units" (forward hooks) force to
    zero, during the noisy passes, every unit that was off (output <= its
    layer's threshold) on the clean input; see :mod:`captum_noisemask.core.mask_units`.

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
        >>> attributions = explainer.attribute(images, target=0, n_steps=20, seed=0)
        >>> attributions.shape
        torch.Size([2, 1, 8, 8])
        >>> bool(((attributions >= 0) & (attributions <= 1)).all())
        True
    """

    def __init__(self, forward_func: Callable[..., Tensor], thresholds: Thresholds = None) -> None:
        super().__init__(forward_func)
        self._model = forward_func if isinstance(forward_func, nn.Module) else None
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
        tolerance_path: Sequence[float] | None = None,
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
                        map: the hinge term on ``N`` fresh draws (0 means
                        every output stayed within the tolerance).
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

        Raises:
            ValueError: NaN/inf or empty inputs, an out-of-range target, a
                        non-positive ``n_samples``/``n_steps``/``lr``, a
                        negative tolerance, both tolerances, a
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
        settings = _settings(preset, n_samples, n_steps, lr, tolerance)
        _one_tolerance(tolerance, relative_tolerance)
        factors = check.tolerance_path(tolerance_path)
        if factors is not None and return_convergence_delta:
            raise ValueError(
                "return_convergence_delta needs one tolerance; a tolerance_path map has "
                "none (call compute_convergence_delta on each tolerance's map instead)"
            )
        check.check_positive_int("internal_batch_size", internal_batch_size, allow_none=True)
        check.check_highlight(highlight)
        if self._model is not None and self._model.training:
            warnings.warn(
                "the model is in training mode: dropout and batch statistics make "
                "its outputs random; call model.eval() before attribute",
                stacklevel=3,
            )
        # NoiseTunnel and captum.metrics call attribute under no_grad.
        with torch.enable_grad():
            problem = self._problem(
                formatted,
                target,
                additional_forward_args,
                _layout(formatted, feature_mask),
                settings,
                relative_tolerance,
                output_transform,
                noise_scale,
                seed,
                internal_batch_size,
            )
            result = optimise_along_tolerances(problem, settings, factors or (1.0,), show_progress)
            delta = (
                problem.evaluate(result.maps, with_grad=False).hinge
                if return_convergence_delta
                else None
            )
        _warn_if_constant(result.maps, relative_tolerance is not None)
        attributions = tuple(
            (w if highlight == "non_contributing" else 1.0 - w).expand_as(x).contiguous()
            for w, x in zip(result.maps, problem.inputs, strict=True)
        )
        formatted_out = _format_output(is_inputs_tuple, attributions)
        if delta is not None:
            return formatted_out, delta
        return formatted_out

    def compute_convergence_delta(  # type: ignore[override]
        self,
        attributions: Tensor | tuple[Tensor, ...],
        inputs: Tensor | tuple[Tensor, ...],
        target: TargetType = None,
        additional_forward_args: Any = None,
        *,
        highlight: Highlight = "contributing",
        n_samples: int = 100,
        tolerance: float | None = None,
        relative_tolerance: float | None = None,
        output_transform: OutputTransform | None = None,
        noise_scale: float | Tensor | tuple[float | Tensor, ...] = 1.0,
        seed: Seed = None,
    ) -> Tensor:
        r"""The constraint violation a map leaves: the hinge term on fresh draws.

        ``(1/N) sum_n sum_k max(|y_k - y'_k| - a, 0)`` per example, with the
        noise levels read from ``attributions`` (as ``highlight`` returned
        them) and the mask units of this explainer. 0 means every output
        stayed within the tolerance on every draw.

        Args:
            attributions (Tensor or tuple[Tensor, ...]): Maps as returned by
                        :meth:`attribute`, values in [0, 1].
            inputs (Tensor or tuple[Tensor, ...]): The inputs they explain.
            target (optional): As in :meth:`attribute`.
            additional_forward_args (optional): As in :meth:`attribute`.
            highlight (str, optional): How ``attributions`` are expressed.
                        Default: "contributing"
            n_samples (int, optional): Draws ``N``. Default: 100
            tolerance (float, optional): As in :meth:`attribute` (default: the
                        presets' 1.0).
            relative_tolerance (float, optional): As in :meth:`attribute`.
            output_transform (Callable, optional): As in :meth:`attribute`.
            noise_scale (float, Tensor or tuple, optional): As in :meth:`attribute`.
            seed (int or torch.Generator, optional): As in :meth:`attribute`.

        Returns:
            *Tensor* of shape ``(B,)``.
        """
        _refuse_inference_mode()
        formatted = check.input_tuple(inputs)
        maps = attributions if isinstance(attributions, tuple) else (attributions,)
        if len(maps) != len(formatted) or any(
            m.shape != x.shape for m, x in zip(maps, formatted, strict=True)
        ):
            raise ValueError("attributions must have the shapes of inputs")
        check.check_highlight(highlight)
        check.check_positive_int("n_samples", n_samples)
        settings = _settings(PAPER, n_samples, None, None, tolerance)
        _one_tolerance(tolerance, relative_tolerance)
        levels = tuple(
            (m if highlight == "non_contributing" else 1.0 - m).detach().to(x)
            for m, x in zip(maps, formatted, strict=True)
        )
        with torch.enable_grad():
            problem = self._problem(
                formatted,
                target,
                additional_forward_args,
                PerPosition([tuple(x.shape) for x in formatted]),
                settings,
                relative_tolerance,
                output_transform,
                noise_scale,
                seed,
                None,
            )
            return problem.evaluate(levels, with_grad=False).hinge

    def inspect_masks(
        self, inputs: Tensor | tuple[Tensor, ...], additional_forward_args: Any = None
    ) -> MaskReport:
        r"""Where the mask units sit on these inputs, and what masking alone does.

        Runs the clean pass that :meth:`attribute` runs, then one pass with
        the masks on and no noise.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): Input batch(es).
            additional_forward_args (Any, optional): As in :meth:`attribute`.

        Returns:
            *MaskReport*: ``.sites`` in execution order, each with ``.name``
            (usable as a ``thresholds`` key when it names a module),
            ``.threshold``, ``.silenced`` (per example, the fraction of the
            site's units forced to zero) and ``.switched_off`` (the fraction
            that was on, above 0, yet at or below the threshold); and
            ``.output_change`` (per example, the largest absolute change of
            an output caused by masking alone). ``print`` shows a table.

        Examples::

            >>> import torch
            >>> from torch import nn
            >>> from captum_noisemask import NoiseMaskAttribution
            >>> _ = torch.manual_seed(0)
            >>> model = nn.Sequential(
            ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
            ... ).eval()
            >>> report = NoiseMaskAttribution(model).inspect_masks(torch.rand(2, 1, 8, 8))
            >>> [(site.name, site.threshold) for site in report.sites]
            [('0', 0.2)]
            >>> NoiseMaskAttribution(model, thresholds=0.0).inspect_masks(
            ...     torch.rand(2, 1, 8, 8)
            ... ).output_change.tolist()
            [0.0, 0.0]
        """
        _refuse_inference_mode()
        formatted = tuple(x.detach() for x in check.input_tuple(inputs))
        extra = _format_additional_forward_args(additional_forward_args) or ()
        with torch.no_grad():
            masks, clean = MaskUnits.record(
                self._model, self.thresholds, lambda: self.forward_func(*formatted, *extra)
            )
            with masks.for_examples(slice(0, formatted[0].shape[0])), masks.active():
                masked = self.forward_func(*formatted, *extra)
        change = (masked - clean).abs().reshape(clean.shape[0], -1).amax(1)
        return masks.report(change)

    def attribute_future(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported: the optimisation needs the outputs synchronously."""
        raise NotImplementedError("NoiseMaskAttribution does not support attribute_future")

    def _problem(
        self,
        inputs: tuple[Tensor, ...],
        target: TargetType,
        additional_forward_args: Any,
        layout: LevelLayout,
        settings: Preset,
        relative_tolerance: float | None,
        output_transform: OutputTransform | None,
        noise_scale: object,
        seed: Seed,
        internal_batch_size: int | None,
    ) -> NoisyForward:
        """The clean pass (mask units, clean outputs, tolerance), ready for noisy passes."""
        if relative_tolerance is not None:
            check.check_number("relative_tolerance", relative_tolerance, 0.0, inclusive=False)
        scales = check.noise_scales(noise_scale, inputs)
        _warn_if_out_of_noise_range(inputs, scales)
        if not isinstance(seed, (int, torch.Generator, type(None))) or isinstance(seed, bool):
            raise TypeError(f"seed must be an int, a torch.Generator or None, got {seed!r}")
        # Inference tensors cannot take part in autograd; plain copies can.
        clean_inputs = tuple(x.clone() if x.is_inference() else x.detach() for x in inputs)
        batch = clean_inputs[0].shape[0]
        extra = _format_additional_forward_args(additional_forward_args) or ()
        with torch.no_grad():
            mask_units, clean_output = MaskUnits.record(
                self._model, self.thresholds, lambda: self.forward_func(*clean_inputs, *extra)
            )
            transformed = (
                clean_output if output_transform is None else output_transform(clean_output)
            )
            if relative_tolerance is None:
                constraint = OutputConstraint(target, batch, settings.tolerance, output_transform)
            else:
                spread = _output_spread(transformed).clamp_min(torch.finfo(transformed.dtype).tiny)
                constraint = OutputConstraint(
                    target, batch, relative_tolerance, output_transform, spread
                )
            constraint.check(transformed)
            clean = constraint.select(clean_output, slice(0, batch), 1)
        return NoisyForward(
            forward_func=self.forward_func,
            inputs=clean_inputs,
            additional_forward_args=extra,
            constraint=constraint,
            clean=clean,
            mask_units=mask_units,
            noise=UniformNoise(
                [x.shape[1:] for x in clean_inputs],
                scales,
                clean_inputs[0].dtype,
                clean_inputs[0].device,
                settings.antithetic,
                seed,
            ),
            layout=layout,
            n_samples=settings.n_samples,
            internal_batch_size=internal_batch_size,
        )


def _settings(
    preset: str | Preset,
    n_samples: int | None,
    n_steps: int | None,
    lr: float | None,
    tolerance: float | None,
) -> Preset:
    """The preset with the caller's overrides, checked."""
    settings = resolve_preset(preset)
    overrides = {"n_samples": n_samples, "n_steps": n_steps, "tolerance": tolerance}
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


def _one_tolerance(tolerance: float | None, relative_tolerance: float | None) -> None:
    if tolerance is not None and relative_tolerance is not None:
        raise ValueError(
            "pass tolerance (output units) or relative_tolerance (a fraction of each "
            "example's output spread), not both"
        )


def _output_spread(outputs: Tensor) -> Tensor:
    """Per example: the standard deviation over its outputs, or ``|y|`` for one output."""
    flat = outputs.reshape(outputs.shape[0], -1)
    if flat.shape[1] == 1:
        return flat[:, 0].abs()
    return flat.std(dim=1)


def _warn_if_out_of_noise_range(
    inputs: tuple[Tensor, ...], scales: tuple[float | Tensor, ...]
) -> None:
    """Inputs spanning far more than the noise's width make the noise negligible."""
    for i, (x, scale) in enumerate(zip(inputs, scales, strict=True)):
        if isinstance(scale, Tensor):
            continue  # a per-channel scale was chosen for these inputs
        span = float(x.detach().max() - x.detach().min())
        if span > 10 * 2 * scale:
            warnings.warn(
                f"inputs[{i}] span {span:.3g} but the noise is U[-{scale:g}, {scale:g}]: the "
                "noise is too small to drown any value; pass noise_scale in the inputs' "
                "units (e.g. 255 for pixels in [0, 255], 1 / std per channel after "
                "normalisation)",
                stacklevel=4,
            )


def _refuse_inference_mode() -> None:
    if torch.is_inference_mode_enabled():
        raise RuntimeError(
            "NoiseMaskAttribution learns its maps with autograd, which "
            "torch.inference_mode() switches off; call attribute outside inference_mode "
            "(torch.no_grad() is fine: the method re-enables gradients itself)"
        )


def _warn_if_constant(maps: tuple[Tensor, ...], relative: bool) -> None:
    flat = torch.cat([w.reshape(w.shape[0], -1) for w in maps], dim=1)
    zeros = (flat == 0).all(1).nonzero().flatten().tolist()
    ones = (flat == 1).all(1).nonzero().flatten().tolist()
    fix: dict[str, str] = {
        "0": "even the smallest noise moved the outputs beyond the tolerance: "
        + ("raise relative_tolerance" if relative else "pass a larger tolerance"),
        "1": "no noise moved the outputs by the tolerance (the model's outputs barely "
        "move): "
        + (
            "lower relative_tolerance"
            if relative
            else "pass relative_tolerance (e.g. 0.1) or a smaller tolerance"
        ),
    }
    for level, examples in (("0", zeros), ("1", ones)):
        if examples:
            warnings.warn(
                f"the map of example(s) {examples} is constant (every noise level w = {level}): "
                f"{fix[level]}",
                DegenerateMapWarning,
                stacklevel=4,  # past log_usage's wrapper, at the caller
            )

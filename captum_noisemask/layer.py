"""``LayerNoiseMaskAttribution``: which positions of a layer's tensor do not contribute.

The noise enters at a layer instead of the input: every noisy pass runs the
model on the clean inputs with the layer's output (or input) replaced by the
clean activation plus ``U * w * s``. The rest is the input method unchanged,
run by a :class:`~captum_noisemask.NoiseMaskAttribution` on a substitute
forward function whose "input" is the layer's activation in units of ``s``
(:class:`LayerSubstitute`): the same problem, mask units, optimisation,
guarantee and certificate, and the same masked network as the input map's
(sites upstream of the layer see clean values in every pass; under the
library's rules masking them changes nothing).

The noise scale ``s``: a layer's activations are not in [-1, 1], so the
half-width is, per example and channel, the largest magnitude the channel
takes over the map's positions (the problem's ``noise_scale`` multiplies it).
On an image in [0, 1] this is the paper's ``U[-1, 1]``; on a feature map it
lets full noise drown the strongest feature a channel shows, and a channel the
example does not use (zero everywhere) gets no noise. One example's scale never
depends on the others of its batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from captum._utils.typing import BaselineType, TargetType
from captum.attr import LayerAttribution, PerturbationAttribution
from captum.log import log_usage
from torch import Tensor, nn

from ._utils import validation as check
from ._utils.compat import _format_additional_forward_args
from ._utils.hooks import forward_hooks, forward_pre_hooks
from ._utils.typing import Highlight
from .attribution import (
    NoiseMaskAttribution,
    checked_certify_options,
    checked_options,
    levels_of,
    refuse_inference_mode,
)
from .certificate import Certificate
from .core.levels import FeatureGroups, LevelLayout, PerPosition
from .core.problem import NoiseMaskProblem, Seed
from .presets import Preset

__all__ = ["LayerNoiseMaskAttribution", "LayerSubstitute", "layer_map_shape", "channel_peaks"]


def layer_map_shape(activation: Tensor) -> tuple[int, ...]:
    """Shape of a layer's default noise-level map.

    Feature maps ``(B, C, H, W)`` (and ``(B, C, T, H, W)``) get one level per
    position shared by the channels, ``(B, 1, H, W)``; sequences ``(B, T, D)``
    (embeddings, a recurrent or attention layer's output) one level per token
    shared by its ``D`` dimensions, ``(B, T, 1)``; every other shape one level
    per element.
    """
    if activation.dim() in (4, 5):
        return (activation.shape[0], 1, *activation.shape[2:])
    if activation.dim() == 3:
        return (activation.shape[0], activation.shape[1], 1)
    return tuple(activation.shape)


def channel_peaks(activation: Tensor, map_shape: tuple[int, ...]) -> Tensor:
    """Per example and channel, the largest ``|activation|`` over the map's positions.

    The dimensions a map of ``map_shape`` varies along are its positions; the
    others (size 1 in the map) are channels. ``(B, C, H, W)`` with a ``(B, 1,
    H, W)`` map gives ``(B, C, 1, 1)``; ``(B, T, D)`` with ``(B, T, 1)`` gives
    ``(B, 1, D)``; a map with a level per element gives one peak per example.
    """
    positions = [d for d in range(1, activation.dim()) if map_shape[d] != 1]
    if not positions or len(positions) == activation.dim() - 1:
        positions = list(range(1, activation.dim()))
    return activation.detach().abs().amax(dim=positions, keepdim=True)


class LayerSubstitute:
    """The model with a layer's output (or input) replaced by ``scaled * scale``.

    Called as ``substitute(scaled, scale, *inputs, *additional_forward_args)``:
    runs ``forward_func(*inputs, *additional_forward_args)`` and, when the layer
    runs, hands the model ``scaled * scale`` in place of what the layer
    returned (or of its first positional input). The hook lives only for the
    call.

    Args:
        forward_func (Callable): The model or a function calling it.
        layer (nn.Module): The substituted layer; it must run exactly once per
                    forward pass.
        to_input (bool): Substitute the layer's input instead of its output.
    """

    def __init__(self, forward_func: Callable[..., Any], layer: nn.Module, to_input: bool) -> None:
        self.forward_func = forward_func
        self.layer = layer
        self.to_input = to_input

    def __call__(self, scaled: Tensor, scale: Tensor, *args: Any) -> Any:
        activation = scaled * scale
        runs = 0

        def replace_output(module: nn.Module, inputs: Any, output: Any) -> Tensor:
            nonlocal runs
            runs += 1
            _check_replaced(output, activation, "output")
            return activation

        def replace_input(module: nn.Module, inputs: Any) -> tuple[Any, ...]:
            nonlocal runs
            runs += 1
            _check_replaced(inputs[0] if inputs else None, activation, "input")
            return (activation, *inputs[1:])

        hooks = (
            forward_pre_hooks([self.layer], replace_input)
            if self.to_input
            else forward_hooks([self.layer], replace_output)
        )
        with hooks:
            output = self.forward_func(*args)
        _check_runs(runs)
        return output

    def clean_activation(self, inputs: tuple[Tensor, ...], extra: tuple[Any, ...]) -> Tensor:
        """The layer's output (or input) on the clean ``inputs``, detached."""
        seen: list[Any] = []

        def keep_output(module: nn.Module, inputs_: Any, output: Any) -> None:
            seen.append(output)

        def keep_input(module: nn.Module, inputs_: Any) -> None:
            seen.append(inputs_[0] if inputs_ else None)

        hooks = (
            forward_pre_hooks([self.layer], keep_input)
            if self.to_input
            else forward_hooks([self.layer], keep_output)
        )
        with torch.no_grad(), hooks:
            self.forward_func(*inputs, *extra)
        _check_runs(len(seen))
        (value,) = seen
        where = "input" if self.to_input else "output"
        if not isinstance(value, Tensor) or not value.is_floating_point():
            kind = type(value).__name__ if not isinstance(value, Tensor) else str(value.dtype)
            raise TypeError(
                f"the layer's {where} must be one floating point tensor to add noise to, got "
                f"{kind} (a layer returning a tuple, e.g. nn.LSTM: explain the layer that "
                "reads its output, or wrap it to return one tensor)"
            )
        if value.dim() == 0 or value.shape[0] != inputs[0].shape[0]:
            raise ValueError(
                f"the layer's {where} has shape {tuple(value.shape)}; its first dimension "
                f"must be the batch ({inputs[0].shape[0]})"
            )
        return value.detach()


def _check_replaced(value: Any, activation: Tensor, where: str) -> None:
    if not isinstance(value, Tensor) or value.shape != activation.shape:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise RuntimeError(
            f"the layer's {where} in a noisy pass is {shape}, not the clean pass's "
            f"{tuple(activation.shape)}: the model must run the layer the same way in every pass"
        )


def _check_runs(runs: int) -> None:
    if runs != 1:
        raise ValueError(
            f"the layer ran {runs} times in one forward pass; LayerNoiseMaskAttribution needs "
            "a layer that runs exactly once (a module reused in several places has one "
            "activation per use: wrap the use you want to explain in its own module)"
        )


class LayerNoiseMaskAttribution(LayerAttribution, PerturbationAttribution):
    r"""Highlights the positions of a layer's tensor that do *not* contribute.

    The method of :class:`~captum_noisemask.NoiseMaskAttribution` with the
    noise added to a layer's output (or input) instead of the model's input:
    noise levels ``w`` in [0, 1] per position of the layer's tensor, learnt so
    that ``activation + U * w * s`` keeps the held outputs within the
    problem's tolerance while ``w`` is as large as possible. ``s`` is, per
    example and channel, the largest magnitude the channel takes over the
    positions (see :func:`channel_peaks`; the problem's ``noise_scale``
    multiplies it). Feature maps get one level per position shared by their
    channels; ``(B, T, D)`` sequences one per token; maps are returned with the
    layer tensor's shape, so :meth:`LayerAttribution.interpolate` upsamples them
    to the input.

    Models that take token ids are explained through their embedding layer:
    the ids (and an attention mask, through ``additional_forward_args``) reach
    the model unchanged, the noise enters at the embeddings. Padding tokens the
    model masks out cannot move its outputs, so they come out at full noise
    (non-contributing); a ``feature_mask`` groups tokens otherwise.

    Args:
        forward_func (Callable or nn.Module): The model, or a function calling it.
        layer (nn.Module): The layer whose output (or input) is explained; it
                    must run once per forward pass and return one floating
                    point tensor.
        device_ids (list[int], optional): Captum's argument for DataParallel
                    models; not supported (the substituted activation is the
                    whole batch's): must be ``None``. Default: None
        problem (NoiseMaskProblem, optional): As in
                    :class:`~captum_noisemask.NoiseMaskAttribution`; its mask
                    units are the model's (every ReLU-family input, those
                    after the layer seeing the noise), its ``noise_scale``
                    counts in units of ``s``. Default: None
        multiply_by_inputs (bool, optional): Captum's option for gradient
                    methods; a noise level is not a gradient, so only
                    ``False`` is accepted. Default: False

    Examples::

        >>> import torch
        >>> from torch import nn
        >>> from captum_noisemask import FAST, LayerNoiseMaskAttribution
        >>> _ = torch.manual_seed(0)
        >>> model = nn.Sequential(
        ...     nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)
        ... ).eval()
        >>> explainer = LayerNoiseMaskAttribution(model, model[0])
        >>> maps = explainer.attribute(
        ...     torch.rand(2, 1, 8, 8), target=0, preset=FAST.replace(n_steps=20), seed=0
        ... )
        >>> maps.shape  # the conv layer's output
        torch.Size([2, 4, 6, 6])
        >>> LayerNoiseMaskAttribution.interpolate(maps, (8, 8)).shape
        torch.Size([2, 4, 8, 8])
    """

    def __init__(
        self,
        forward_func: Callable[..., Tensor],
        layer: nn.Module,
        device_ids: list[int] | None = None,
        problem: NoiseMaskProblem | None = None,
        multiply_by_inputs: bool = False,
    ) -> None:
        if not isinstance(layer, nn.Module):
            raise TypeError(f"layer must be one nn.Module of the model, got {type(layer).__name__}")
        if device_ids is not None or isinstance(
            forward_func, (nn.DataParallel, nn.parallel.DistributedDataParallel)
        ):
            raise ValueError(
                "LayerNoiseMaskAttribution does not support DataParallel models (device_ids): "
                "pass the wrapped module (model.module)"
            )
        if multiply_by_inputs is not False:
            raise ValueError(
                "multiply_by_inputs must be False: a noise level is not a gradient, there is "
                "nothing to multiply"
            )
        self._explainer = NoiseMaskAttribution(forward_func, problem)
        LayerAttribution.__init__(self, self._explainer.forward_func, layer, device_ids)
        PerturbationAttribution.__init__(self, self._explainer.forward_func)

    @property
    def problem(self) -> NoiseMaskProblem:
        """What the maps answer for (see :class:`~captum_noisemask.NoiseMaskProblem`)."""
        return self._explainer.problem

    @property
    def multiplies_by_inputs(self) -> bool:
        return False

    def has_convergence_delta(self) -> bool:
        return True

    @log_usage()
    def attribute(  # type: ignore[override]
        self,
        inputs: Tensor | tuple[Tensor, ...],
        target: TargetType = None,
        additional_forward_args: Any = None,
        feature_mask: Tensor | None = None,
        *,
        attribute_to_layer_input: bool = False,
        baselines: BaselineType = None,
        preset: str | Preset = "fast",
        guarantee: float | None = None,
        highlight: Highlight = "contributing",
        seed: Seed = None,
        internal_batch_size: int | None = None,
        show_progress: bool = False,
        return_convergence_delta: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        r"""Learns the noise-level map of the layer's tensor for every example.

        The arguments it shares with :meth:`NoiseMaskAttribution.attribute
        <captum_noisemask.NoiseMaskAttribution.attribute>` mean what they mean there.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): The model's inputs, each
                        ``(B, ...)``, of any dtype (token ids included):
                        they reach the model unchanged.
            target (optional): The held outputs, as in
                        :meth:`NoiseMaskAttribution.attribute
                        <captum_noisemask.NoiseMaskAttribution.attribute>`.
                        Default: None
            additional_forward_args (Any, optional): Passed to the model after
                        the inputs (an attention mask, ...). Default: None
            feature_mask (Tensor, optional): Integer group ids shaped like
                        the layer's tensor or broadcastable to it (first
                        dimension 1 or ``B``): one level per group. ``None``:
                        one level per position (per token for ``(B, T, D)``).
                        Default: None
            attribute_to_layer_input (bool, optional): Add the noise to the
                        layer's first input instead of its output.
                        Default: False
            baselines (optional): The reference *inputs* of the reference
                        mask rules, in Captum's convention (zeros by default:
                        a blank image, token id 0); the reference activation
                        is the layer's on them. Default: None
            preset (str or Preset, optional): The schedule. Default: "fast"
            guarantee (float, optional): Lower the levels until the bound
                        holds. Default: None
            highlight (str, optional): ``"contributing"`` (``1 - w``) or
                        ``"non_contributing"`` (``w``). Default: "contributing"
            seed (int or torch.Generator, optional): Seeds the draws.
                        Default: None
            internal_batch_size (int, optional): Most noisy rows per pass.
                        Default: None
            show_progress (bool, optional): A progress bar over the steps.
                        Default: False
            return_convergence_delta (bool, optional): Also return the
                        constraint violation left per example. Default: False

        Returns:
            *Tensor* of **attributions** shaped like the layer's output (or
            input), values in [0, 1], or (**attributions**, **delta**) with
            ``return_convergence_delta=True``.

        Raises:
            ValueError: the layer does not run exactly once, a feature mask
                        that does not fit the layer's tensor, and the input
                        method's errors.
            TypeError: the layer's tensor is not one floating point tensor,
                        arguments of the wrong type.
        """
        refuse_inference_mode()
        check.check_flag("attribute_to_layer_input", attribute_to_layer_input)
        schedule = checked_options(
            self.problem,
            preset,
            guarantee,
            highlight,
            internal_batch_size,
            show_progress,
            return_convergence_delta,
        )
        substitute, scaled, extra, references = self._at_layer(
            inputs, additional_forward_args, baselines, attribute_to_layer_input
        )
        layout: LevelLayout = (
            PerPosition([layer_map_shape(scaled)])
            if feature_mask is None
            else FeatureGroups(check.feature_masks(feature_mask, (scaled,)), scaled.shape[0])
        )
        maps, delta = self._explainer._learn(
            substitute,
            (scaled,),
            layout,
            target,
            extra,
            references,
            schedule,
            guarantee,
            seed,
            internal_batch_size,
            show_progress,
            return_convergence_delta,
        )
        (w,) = maps
        attributions = (w if highlight == "non_contributing" else 1.0 - w).expand_as(scaled)
        if delta is not None:
            return attributions.contiguous(), delta
        return attributions.contiguous()

    @log_usage()
    def certify(
        self,
        inputs: Tensor | tuple[Tensor, ...],
        attributions: Tensor,
        target: TargetType = None,
        additional_forward_args: Any = None,
        *,
        attribute_to_layer_input: bool = False,
        baselines: BaselineType = None,
        highlight: Highlight = "contributing",
        n_draws: int = 1000,
        confidence: float = 0.95,
        bound_target: float | None = 0.95,
        seed: Seed = None,
        internal_batch_size: int | None = None,
    ) -> Certificate:
        r"""Measures the claim of layer maps on fresh draws at the layer.

        :meth:`NoiseMaskAttribution.certify
        <captum_noisemask.NoiseMaskAttribution.certify>` with the noise at
        the layer: ``attributions`` are maps as :meth:`attribute` returned
        them (shaped like the layer's tensor), the other arguments as there
        and in :meth:`attribute`.

        Returns:
            *Certificate*.
        """
        refuse_inference_mode()
        check.check_flag("attribute_to_layer_input", attribute_to_layer_input)
        checked_certify_options(n_draws, confidence, bound_target, internal_batch_size)
        substitute, scaled, extra, references = self._at_layer(
            inputs, additional_forward_args, baselines, attribute_to_layer_input
        )
        levels = levels_of(attributions, (scaled,), highlight)
        return self._explainer._certificate(
            substitute,
            (scaled,),
            levels,
            target,
            extra,
            references,
            n_draws,
            confidence,
            bound_target,
            seed,
            internal_batch_size,
        )

    def attribute_future(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported: the optimisation needs the outputs synchronously."""
        raise NotImplementedError("LayerNoiseMaskAttribution does not support attribute_future")

    def _at_layer(
        self,
        inputs: object,
        additional_forward_args: Any,
        baselines: BaselineType,
        to_input: bool,
    ) -> tuple[LayerSubstitute, Tensor, tuple[Any, ...], Tensor | None]:
        """The substitute forward, the activation in units of ``s``, the substitute's
        extra arguments ``(s, *inputs, *additional_forward_args)`` and the reference
        activation (``None`` without a reference rule)."""
        formatted = check.input_tuple(inputs, floating=False)
        extra = _format_additional_forward_args(additional_forward_args) or ()
        substitute = LayerSubstitute(self._explainer.forward_func, self.layer, to_input)
        with self._explainer._guarded(warn=False):  # _learn warns
            activation = substitute.clean_activation(formatted, extra)
            reference = None
            if baselines is not None or self.problem.mask_rule != "paper":
                reference_inputs = check.baseline_inputs(baselines, formatted)
                reference = substitute.clean_activation(reference_inputs, extra)
        peak = channel_peaks(activation, layer_map_shape(activation))
        scale = peak.clamp_min(torch.finfo(activation.dtype).tiny)
        # Where a channel is zero everywhere its scaled activation is 0 and so is its noise.
        scaled = activation / scale
        noise_scale = torch.where(peak > 0, scale, torch.zeros_like(scale))
        references = None if reference is None else reference / scale
        return substitute, scaled, (noise_scale, *formatted, *extra), references

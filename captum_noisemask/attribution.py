"""``NoiseMaskAttribution``: the non-contribution map as a Captum attribution."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import torch
from captum._utils.typing import TargetType, TensorOrTupleOfTensorsGeneric
from captum.attr import PerturbationAttribution
from captum.log import log_usage
from torch import Tensor, nn

from ._utils import validation as check
from ._utils.compat import _format_additional_forward_args, _format_output, _is_tuple
from ._utils.typing import Highlight, OutputTransform, Thresholds
from .core.mask_units import MaskUnits, resolve_thresholds
from .core.noise import UniformNoise
from .core.objective import OutputConstraint
from .core.optimisation import NoisyForward, optimise_noise_levels
from .presets import Preset, resolve_preset

__all__ = ["NoiseMaskAttribution"]


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
        thresholds (Mapping or None, optional): Mask units per layer: a
                    mapping from a layer (module object, or its dotted name
                    from ``named_modules()``) to its threshold. ``None``
                    applies the paper's rule automatically: every Conv/Linear
                    layer in execution order except the last (output) one;
                    the first gets 0.2, the rest 0.0. ``{}`` disables masking.
                    ``None`` and layer names need ``forward_func`` to be an
                    ``nn.Module``. Default: None

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
        if thresholds is None and self._model is None:
            raise ValueError(
                "thresholds=None finds the layers to mask in an nn.Module, but "
                f"forward_func is a {type(forward_func).__name__}; pass thresholds "
                "as {module: threshold}, or {} for no masking"
            )
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
        *,
        preset: str | Preset = "fast",
        n_samples: int | None = None,
        n_steps: int | None = None,
        lr: float | None = None,
        tolerance: float | None = None,
        output_transform: OutputTransform | None = None,
        highlight: Highlight = "contributing",
        noise_scale: float | tuple[float, ...] = 1.0,
        seed: int | None = None,
        internal_batch_size: int | None = None,
        show_progress: bool = False,
        return_convergence_delta: bool = False,
    ) -> TensorOrTupleOfTensorsGeneric | tuple[TensorOrTupleOfTensorsGeneric, Tensor]:
        r"""Learns the noise-level map of every example.

        Args:
            inputs (Tensor or tuple[Tensor, ...]): Input batch(es), each
                        ``(B, ...)``, floating point and finite. Images
                        ``(B, C, H, W)`` get one level per pixel shared over
                        channels; ``(B, D)`` inputs one level per feature.
            target (int, tuple, list, Tensor or None, optional): Outputs held
                        within the tolerance. ``None`` holds all ``K``
                        outputs of a ``(B, K)`` model (the paper's
                        objective); Captum's target forms hold only the
                        selected output(s), giving a class-specific map.
                        Default: None
            additional_forward_args (Any, optional): Passed to the model after
                        the inputs; tensors whose first dimension is ``B``
                        follow their example into every noisy row.
                        Default: None
            preset (str or Preset, optional): ``"fast"`` (a short annealed
                        schedule with antithetic noise: the paper's map's
                        shape at 1/625 of its cost), ``"faithful"`` (the
                        paper's run emulated: its maps at 1/29 of the cost;
                        on a CPU add ``internal_batch_size=128``),
                        ``"paper"`` (N = 100, 15,000 Adam steps, lr 1e-4), or
                        a :class:`~captum_noisemask.Preset`. Default: "fast"
            n_samples (int, optional): Noise draws ``N`` per step; overrides
                        the preset. Default: None
            n_steps (int, optional): Adam steps; overrides the preset.
                        Default: None
            lr (float, optional): Adam learning rate (first step); overrides
                        the preset. Default: None
            tolerance (float, optional): Tolerance ``a`` in output units;
                        overrides the preset (1.0 on logits in both presets).
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
            noise_scale (float or tuple[float, ...], optional): Half-width of
                        the uniform noise, per input or shared; 1.0 suits
                        inputs in [0, 1]. Default: 1.0
            seed (int, optional): Seeds a private generator, making the run
                        reproducible; an example's map does not depend on
                        the other examples of the batch. ``None`` uses torch's
                        global generator. Default: None
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

        Raises:
            ValueError: NaN/inf or empty inputs, an out-of-range target, a
                        non-positive ``n_samples``/``n_steps``/``lr``, a
                        negative ``tolerance``, an unknown preset or
                        highlight, or a model output that is not ``(B, K)``
                        with ``target=None``.
            TypeError: arguments of the wrong type.
        """
        is_inputs_tuple = _is_tuple(inputs)
        formatted = check.input_tuple(inputs)
        settings = resolve_preset(preset).replace(
            n_samples=n_samples, n_steps=n_steps, lr=lr, tolerance=tolerance
        )
        check.check_positive_int("n_samples", settings.n_samples)
        check.check_positive_int("n_steps", settings.n_steps)
        check.check_number("lr", settings.lr, 0.0, inclusive=False)
        check.check_number("tolerance", settings.tolerance, 0.0, inclusive=True)
        check.check_betas(settings.betas)
        check.check_positive_int("emulated_samples", settings.emulated_samples, allow_none=True)
        check.check_positive_int("internal_batch_size", internal_batch_size, allow_none=True)
        check.check_highlight(highlight)
        scales = check.noise_scales(noise_scale, len(formatted))
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        if self._model is not None and self._model.training:
            warnings.warn(
                "the model is in training mode: dropout and batch statistics make "
                "its outputs random; call model.eval() before attribute",
                stacklevel=3,
            )
        batch = formatted[0].shape[0]
        constraint = OutputConstraint(target, batch, settings.tolerance, output_transform)
        clean_inputs = tuple(x.detach() for x in formatted)
        extra = _format_additional_forward_args(additional_forward_args) or ()

        # NoiseTunnel and captum.metrics call attribute under no_grad.
        with torch.enable_grad():
            with torch.no_grad():
                mask_units, clean_output = MaskUnits.record(
                    self._model,
                    self.thresholds,
                    lambda: self.forward_func(*clean_inputs, *extra),
                )
                constraint.check(
                    clean_output if output_transform is None else output_transform(clean_output)
                )
                clean = constraint.select(clean_output, slice(0, batch), 1)
            problem = NoisyForward(
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
                n_samples=settings.n_samples,
                internal_batch_size=internal_batch_size,
            )
            result = optimise_noise_levels(problem, settings, show_progress)
            delta = (
                problem.evaluate(result.maps, with_grad=False).hinge
                if return_convergence_delta
                else None
            )

        attributions = tuple(
            (w if highlight == "non_contributing" else 1.0 - w).expand_as(x).contiguous()
            for w, x in zip(result.maps, clean_inputs, strict=True)
        )
        formatted_out = _format_output(is_inputs_tuple, attributions)
        if delta is not None:
            return formatted_out, delta
        return formatted_out

    def attribute_future(self, *args: Any, **kwargs: Any) -> Any:
        """Not supported: the optimisation needs the outputs synchronously."""
        raise NotImplementedError("NoiseMaskAttribution does not support attribute_future")

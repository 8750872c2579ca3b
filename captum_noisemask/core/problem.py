"""The explained problem: which network, which noise, which outputs, which tolerance.

A map is a claim about one problem: *noise of these levels, added to these
inputs, leaves these outputs of this network within this tolerance*. The
settings that define it live in one value, :class:`NoiseMaskProblem`, checked
once; :meth:`NoiseMaskProblem.prepare` runs the clean pass on a batch and
returns a :class:`PreparedProblem`, from which the optimisation, the
convergence delta, the certificate and the mask report all take their noisy
networks. A new variant of the constraint is a field here, not a branch in
the loop.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from .._utils import validation as check
from .._utils.compat import _format_additional_forward_args
from .._utils.typing import OutputTransform
from ..presets import Preset
from .levels import LevelLayout, PerPosition, map_shape
from .mask_units import MASK_RULES, MaskRule, MaskUnits
from .noise import UniformNoise
from .objective import OutputConstraint
from .optimisation import NoisyForward, _decision

__all__ = ["NoiseMaskProblem", "PreparedProblem", "HeldTo", "ToleranceUnit", "RESPONSE_DRAWS"]

#: Which clean output the masked network is held to: the model's own (``"plain"``, the
#: paper's objective as written) or the masked network's on the clean input (``"masked"``).
HeldTo = Literal["plain", "masked"]
#: The unit of the tolerance: output units, the clean outputs' spread, or the model's
#: mean response to full noise.
ToleranceUnit = Literal["output", "spread", "response"]
HELD_TO: tuple[HeldTo, ...] = ("plain", "masked")

#: Independent full-noise draws that measure the response scale (``response_tolerance``).
RESPONSE_DRAWS = 64
#: Most rows per pass of a forward-only network when the caller sets no ``internal_batch_size``
#: (1,000 certificate draws of 16 digits at once would be 16,000 rows).
FORWARD_ONLY_ROWS = 1024

Seed = int | torch.Generator | None


@dataclass(frozen=True)
class NoiseMaskProblem:
    r"""What defines the explained network and its constraint.

    Build it with :meth:`from_keywords`, which checks every value and says
    what is accepted.

    Attributes:
        tolerance (float): The tolerance ``a``, in units of ``unit``.
        unit (str): ``"output"`` (raw, transformed outputs), ``"spread"`` (each
                    example's clean-output standard deviation over its ``K``
                    outputs) or ``"response"`` (each example's mean output
                    change under full noise, ``w = 1`` everywhere, on the
                    network the map is learnt for).
        penalty (float): Weight of the hinge: ``penalty * sum_k max(|dy_k| - a, 0)``.
        output_transform (Callable or None): Applied to the model's outputs
                    before anything is held.
        noise_scale (float, Tensor or tuple): Half-width of the uniform noise.
        held_to (str): ``"plain"``: the masked network's noisy outputs are
                    compared with the unmodified model's clean outputs (the
                    paper's objective); ``"masked"``: with the masked
                    network's own clean outputs, so masking alone is not a
                    violation.
        mask_rule (str): ``"paper"`` or ``"reference"`` (see
                    :mod:`~captum_noisemask.core.mask_units`).
        baselines (float, Tensor, tuple or None): The reference inputs of the
                    ``"reference"`` rule, in Captum's ``baselines``
                    convention; ``None`` is zeros.
    """

    tolerance: float
    unit: ToleranceUnit = "output"
    penalty: float = 1.0
    output_transform: OutputTransform | None = None
    noise_scale: Any = 1.0
    held_to: HeldTo = "plain"
    mask_rule: MaskRule = "paper"
    baselines: Any = None

    @classmethod
    def from_keywords(
        cls,
        preset: Preset,
        tolerance: float | None = None,
        relative_tolerance: float | None = None,
        response_tolerance: float | None = None,
        penalty: float | None = None,
        output_transform: OutputTransform | None = None,
        noise_scale: Any = 1.0,
        held_to: HeldTo = "plain",
        mask_rule: MaskRule | None = None,
        baselines: Any = None,
    ) -> NoiseMaskProblem:
        """The problem of :meth:`~captum_noisemask.NoiseMaskAttribution.attribute`'s keywords.

        At most one of ``tolerance``, ``relative_tolerance`` and
        ``response_tolerance``; none gives the preset's (its
        ``response_tolerance`` if set, else its ``tolerance`` in output
        units). ``mask_rule=None`` is the preset's. ``penalty`` defaults to
        1, or to ``1 / response_tolerance`` with a response tolerance
        (violations then count in units of the tolerance band, which on the
        paper's CNN, whose full-noise response is about 2.5 logits, is the
        paper's objective at ``0.4``).

        Raises:
            ValueError: two tolerances, or a value out of its range.
            TypeError: a value of the wrong type.
        """
        if tolerance is None and relative_tolerance is None and response_tolerance is None:
            if preset.response_tolerance is not None:
                response_tolerance = preset.response_tolerance
            else:
                tolerance = preset.tolerance
        if mask_rule is None:
            mask_rule = preset.mask_rule
        given = {
            name: value
            for name, value in (
                ("tolerance", tolerance),
                ("relative_tolerance", relative_tolerance),
                ("response_tolerance", response_tolerance),
            )
            if value is not None
        }
        if len(given) > 1:
            raise ValueError(
                f"pass one of tolerance (output units), relative_tolerance (a fraction of each "
                f"example's output spread) or response_tolerance (a fraction of the model's "
                f"response to full noise), got {sorted(given)}"
            )
        unit: ToleranceUnit = "output"
        value = preset.tolerance
        if tolerance is not None:
            check.check_number("tolerance", tolerance, 0.0, inclusive=True)
            value = tolerance
        elif relative_tolerance is not None:
            check.check_number("relative_tolerance", relative_tolerance, 0.0, inclusive=False)
            unit, value = "spread", relative_tolerance
        elif response_tolerance is not None:
            check.check_number("response_tolerance", response_tolerance, 0.0, inclusive=False)
            unit, value = "response", response_tolerance
        if penalty is None:
            penalty = 1.0 / value if unit == "response" else 1.0
        check.check_number("penalty", penalty, 0.0, inclusive=False)
        if output_transform is not None and not callable(output_transform):
            raise TypeError(
                "output_transform must be a callable or None, got "
                f"{type(output_transform).__name__}"
            )
        if held_to not in HELD_TO:
            raise ValueError(f"unknown held_to {held_to!r}; accepted: {list(HELD_TO)}")
        if mask_rule not in MASK_RULES:
            raise ValueError(f"unknown mask_rule {mask_rule!r}; accepted: {list(MASK_RULES)}")
        if baselines is not None and mask_rule != "reference":
            raise ValueError(
                "baselines are the reference of mask_rule='reference'; pass that rule too"
            )
        return cls(
            float(value),
            unit,
            float(penalty),
            output_transform,
            noise_scale,
            held_to,
            mask_rule,
            baselines,
        )

    def describe(self) -> str:
        """The problem in words (for reports): its tolerance, mask rule and held outputs.

        Examples::

            >>> from captum_noisemask import FAST
            >>> for part in NoiseMaskProblem.from_keywords(FAST).describe().split("; "):
            ...     print(part)
            tolerance 0.4 x each example's mean output change under full noise
            mask rule 'reference'
            held to the plain model's clean output
        """
        units = {
            "output": "output units",
            "spread": "x each example's clean-output spread",
            "response": "x each example's mean output change under full noise",
        }
        held = "plain model's" if self.held_to == "plain" else "masked network's own"
        return (
            f"tolerance {self.tolerance:g} {units[self.unit]}; mask rule '{self.mask_rule}'; "
            f"held to the {held} clean output"
        )

    def prepare(
        self,
        forward_func: Callable[..., Any],
        model: nn.Module | None,
        thresholds: Any,
        inputs: tuple[Tensor, ...],
        target: object,
        additional_forward_args: Any,
        seed: Seed,
        internal_batch_size: int | None,
    ) -> PreparedProblem:
        """Runs the clean pass on ``inputs``: mask units, clean outputs, tolerance scale.

        Args:
            forward_func (Callable): The model or a function calling it.
            model (nn.Module, optional): The module behind it (names mask sites).
            thresholds: The explainer's resolved mask thresholds.
            inputs (tuple[Tensor, ...]): Checked input batches.
            target: Captum's target forms (which outputs are held).
            additional_forward_args (Any): Passed after the inputs.
            seed (int or torch.Generator, optional): Seeds every draw of this problem.
            internal_batch_size (int, optional): Most rows per forward pass.

        Returns:
            *PreparedProblem*.
        """
        scales = check.noise_scales(self.noise_scale, inputs)
        _warn_if_out_of_noise_range(inputs, scales)
        generator = _generator(seed, inputs[0].device)
        # Copies: the caller's tensors never reach the model, which may write into them.
        clean_inputs = tuple(x.detach().clone() for x in inputs)
        batch = clean_inputs[0].shape[0]
        extra = _format_additional_forward_args(additional_forward_args) or ()
        constraint = OutputConstraint(target, batch, self.tolerance, self.output_transform)
        references = (
            check.baseline_inputs(self.baselines, clean_inputs)
            if self.mask_rule == "reference"
            else None
        )
        with torch.no_grad():
            first_pass = tuple(x.clone() for x in clean_inputs)
            mask_units, raw = MaskUnits.record(
                model,
                thresholds,
                lambda: forward_func(*first_pass, *extra),
                first_pass,
                self.mask_rule,
                None if references is None else lambda: forward_func(*references, *extra),
            )
            _warn_if_no_sites(model, thresholds, mask_units)
            plain = constraint.transform(raw, batch)
            constraint.check(plain)
            masked = plain
            if self.held_to == "masked" and mask_units.sites:
                with mask_units.for_examples(slice(0, batch)), mask_units.active():
                    out = forward_func(*[x.clone() for x in clean_inputs], *extra)
                masked = constraint.transform(out, batch)
        prepared = PreparedProblem(
            spec=self,
            forward_func=forward_func,
            inputs=clean_inputs,
            additional_forward_args=extra,
            mask_units=mask_units,
            constraint=constraint,
            plain_output=plain,
            masked_output=masked,
            noise_scales=scales,
            generator=generator,
            internal_batch_size=internal_batch_size,
        )
        prepared.constraint = constraint_in_units(prepared)
        return prepared


@dataclass
class PreparedProblem:
    """A :class:`NoiseMaskProblem` after the clean pass on one batch.

    Attributes:
        spec (NoiseMaskProblem): The settings.
        inputs (tuple[Tensor, ...]): Private copies of the clean inputs.
        mask_units (MaskUnits): Recorded on the clean pass.
        constraint (OutputConstraint): Held outputs, tolerance, its unit and penalty.
        plain_output (Tensor): The model's transformed clean output.
        masked_output (Tensor): The masked network's transformed clean output
                    (the plain one unless ``held_to="masked"``).
    """

    spec: NoiseMaskProblem
    forward_func: Callable[..., Any]
    inputs: tuple[Tensor, ...]
    additional_forward_args: tuple[Any, ...]
    mask_units: MaskUnits
    constraint: OutputConstraint
    plain_output: Tensor
    masked_output: Tensor
    noise_scales: tuple[float | Tensor, ...]
    generator: torch.Generator | None
    internal_batch_size: int | None

    @property
    def batch_size(self) -> int:
        return self.inputs[0].shape[0]

    def network(
        self,
        layout: LevelLayout,
        n_samples: int,
        antithetic: bool = False,
        masked: bool = True,
        forward_only: bool = False,
    ) -> NoisyForward:
        """The noisy passes of the masked (or the plain) network, ready to evaluate.

        Args:
            layout (LevelLayout): How parameters become maps.
            n_samples (int): Draws per evaluation.
            antithetic (bool, optional): Draw pairs ``(U, -U)``. Default: False
            masked (bool, optional): Mask units on; ``False`` is the
                        caller's unmodified model, held to its clean output.
                        Default: True
            forward_only (bool, optional): Only :meth:`NoisyForward.outcomes`
                        will run (a certificate, a calibration): without an
                        ``internal_batch_size`` its passes are cut at
                        :data:`FORWARD_ONLY_ROWS` rows, whole examples at a
                        time, which keeps the same draws. Default: False
        """
        clean_output = self.masked_output if masked else self.plain_output
        batch = self.batch_size
        return NoisyForward(
            forward_func=self.forward_func,
            inputs=self.inputs,
            additional_forward_args=self.additional_forward_args,
            constraint=self.constraint,
            clean=self.constraint.select(clean_output, slice(0, batch), 1),
            mask_units=self.mask_units if masked else MaskUnits([], []),
            noise=UniformNoise(
                [x.shape[1:] for x in self.inputs],
                self.noise_scales,
                self.inputs[0].dtype,
                self.inputs[0].device,
                antithetic,
                self.generator,
            ),
            layout=layout,
            n_samples=n_samples,
            internal_batch_size=(
                FORWARD_ONLY_ROWS
                if forward_only and self.internal_batch_size is None
                else self.internal_batch_size
            ),
            clean_decision=_decision(clean_output),
        )

    def full_noise(self) -> tuple[Tensor, ...]:
        """Levels ``w = 1`` everywhere, one map per input (for a :class:`PerPosition` layout)."""
        return tuple(x.new_ones(map_shape(x)) for x in self.inputs)

    def per_position(self) -> PerPosition:
        return PerPosition([map_shape(x) for x in self.inputs])


def constraint_in_units(prepared: PreparedProblem) -> OutputConstraint:
    """The prepared constraint with its unit's scale and the problem's penalty."""
    spec, constraint = prepared.spec, prepared.constraint
    scale: Tensor | None = None
    held = prepared.masked_output
    if spec.unit == "spread":
        spread = _output_spread(held)
        scale = spread.clamp_min(torch.finfo(held.dtype).tiny)
    elif spec.unit == "response":
        network = prepared.network(prepared.per_position(), RESPONSE_DRAWS, antithetic=False)
        response = network.outcomes(prepared.full_noise()).mean_change.mean(0)
        scale = response.clamp_min(torch.finfo(held.dtype).tiny)
    return OutputConstraint(
        constraint.target,
        prepared.batch_size,
        spec.tolerance,
        spec.output_transform,
        scale,
        spec.penalty,
    )


#: Nonlinearities whose zero is not "no feature": never masking sites.
_NOT_SITES = (nn.GELU, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.SELU, nn.Mish, nn.Hardswish, nn.PReLU)


def _warn_if_no_sites(model: nn.Module | None, thresholds: Any, mask_units: MaskUnits) -> None:
    """The automatic rule found no ReLU, yet the model has other nonlinearities."""
    if thresholds is not None or mask_units.all_sites or model is None:
        return
    others = sorted({type(m).__name__ for m in model.modules() if isinstance(m, _NOT_SITES)})
    if others:
        warnings.warn(
            f"the model has no ReLU-family nonlinearity, only {', '.join(others)}: mask "
            "units sit at the inputs of ReLUs (where 0 means 'no feature'), so none is "
            "applied and the map is the plain model's; pass thresholds={} to say so and "
            "silence this warning",
            UserWarning,
            stacklevel=6,
        )


def _output_spread(outputs: Tensor) -> Tensor:
    """Per example: the standard deviation over its outputs, or ``|y|`` for one output."""
    flat = outputs.reshape(outputs.shape[0], -1)
    if flat.shape[1] == 1:
        return flat[:, 0].abs()
    return flat.std(dim=1)


def _generator(seed: Seed, device: torch.device) -> torch.Generator | None:
    if isinstance(seed, torch.Generator) or seed is None:
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, a torch.Generator or None, got {seed!r}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"seed must be an int in [-2**63, 2**64), got {seed}")
    return torch.Generator(device=device).manual_seed(seed)


def _warn_if_out_of_noise_range(
    inputs: tuple[Tensor, ...], scales: tuple[float | Tensor, ...]
) -> None:
    """Inputs spanning far more than the noise's width make the noise negligible."""
    for i, (x, scale) in enumerate(zip(inputs, scales, strict=True)):
        if isinstance(scale, Tensor):
            continue  # a per-channel scale was chosen for these inputs
        span = float(x.detach().max() - x.detach().min())
        if span > 10 * 2 * scale and math.isfinite(span):
            warnings.warn(
                f"inputs[{i}] span {span:.3g} but the noise is U[-{scale:g}, {scale:g}]: the "
                "noise is too small to drown any value; pass noise_scale in the inputs' "
                "units (e.g. 255 for pixels in [0, 255], 1 / std per channel after "
                "normalisation)",
                stacklevel=6,
            )

"""The explained problem: which network, which noise, which outputs, which tolerance.

A map is a claim about one problem: *noise of these levels, added to these
inputs, leaves these outputs of this network within this tolerance*. What
defines it lives in one value, :class:`NoiseMaskProblem`, checked once when
built and held by the explainer; :meth:`NoiseMaskProblem.prepare` runs the
clean pass on a batch and returns a :class:`CleanPass`, from which the
optimisation, the convergence delta, the certificate and the mask report all
take their noisy networks. A new variant of the constraint is a field here (its
check in ``__post_init__``, its sentence in :meth:`NoiseMaskProblem.describe`),
not a branch in the loop.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import Tensor, nn

from .._utils import validation as check
from .._utils.compat import _format_additional_forward_args
from .._utils.typing import Order, OutputTransform, Thresholds
from .levels import LevelLayout, PerPosition, map_shape
from .mask_units import MASK_RULES, REFERENCE_RULES, MaskRule, MaskUnits, check_thresholds
from .noise import UniformNoise
from .objective import OutputConstraint
from .optimisation import NoisyNetwork, _decision

__all__ = [
    "NoiseMaskProblem",
    "CleanPass",
    "HeldTo",
    "ToleranceUnit",
    "NoiseScale",
    "RESPONSE_DRAWS",
    "RESPONSE_SEED",
]

#: Which clean output the masked network is held to: the model's own (``"plain"``, the
#: paper's objective as written) or the masked network's on the clean input (``"masked"``).
HeldTo = Literal["plain", "masked"]
#: The unit of the tolerance: output units, the clean outputs' spread, or the model's
#: mean response to full noise.
ToleranceUnit = Literal["output", "spread", "response"]
HELD_TO: tuple[HeldTo, ...] = ("plain", "masked")
TOLERANCE_UNITS: tuple[ToleranceUnit, ...] = ("output", "spread", "response")
#: Half-width of the uniform noise: a number, a tensor broadcastable to one example, or
#: one of those per input.
NoiseScale = float | Tensor | tuple[float | Tensor, ...]

#: Independent full-noise draws that measure the response scale (``unit="response"``).
RESPONSE_DRAWS = 64
#: Seed of the response draws: the response, and so the tolerance, does not depend on the
#: seed of a call (``attribute``, ``certify``).
RESPONSE_SEED = 0
#: Most rows per pass of a forward-only network when the caller sets no ``internal_batch_size``
#: (1,000 certificate draws of 16 digits at once would be 16,000 rows).
FORWARD_ONLY_ROWS = 1024

Seed = int | torch.Generator | None


@dataclass(frozen=True)
class NoiseMaskProblem:
    r"""What a map answers for: the network, its noise, the held outputs, the tolerance.

    The explainer holds one (:attr:`NoiseMaskAttribution.problem
    <captum_noisemask.NoiseMaskAttribution>`); ``attribute``, ``certify``,
    ``compute_convergence_delta`` and ``inspect_masks`` all read it, so a
    certificate always measures the problem its maps solved. The defaults are
    the library's problem, which holds on BatchNorm networks;
    :meth:`paper` is the paper's. Every value is checked when the problem is
    built.

    Args:
        tolerance (float, optional): The tolerance ``a``, in units of
                    ``unit``. Default: 0.4
        unit (str, optional): What the tolerance is measured in.
                    ``"response"``: each example's mean output change under
                    full noise (``w = 1`` everywhere, on the network the map
                    is learnt for, over :data:`RESPONSE_DRAWS` draws); ``0.4``
                    means "noise may move the outputs by 40% of what full
                    noise does", which is the paper's 1.0 logit on its CNN
                    (full noise moves its logits by about 2.5) and binds on
                    quiet models too. ``"spread"``: each example's clean-output
                    standard deviation over its ``K`` outputs (``|y|`` when
                    ``K = 1``), so the map does not depend on the outputs'
                    scale. ``"output"``: raw (transformed) output units, as
                    the paper states it. Default: "response"
        penalty (float, optional): Weight of the hinge in ``E(w)``: one unit
                    of violation costs ``penalty`` units of ``mean(w)``.
                    ``None``: ``1 / tolerance`` in the response unit
                    (violations counted in units of the tolerance band, which
                    on the paper's CNN is the paper's objective), else 1.
                    Default: None
        mask_rule (str, optional): Which units the mask units silence during
                    noisy passes. ``"paper"``: units whose ReLU input is <=
                    the site's threshold on the clean input, forced to 0.
                    ``"reference"``: also every unit whose ``relu(input)`` is
                    no larger than on the reference input (``baselines`` of
                    ``attribute``, a blank image by default), held at its
                    clean value; every automatic threshold is 0. After a
                    BatchNorm "no feature" is not "<= 0", and this rule finds
                    what the clean input shows beyond a blank one; masking
                    alone never changes the clean outputs. ``"capped"``: the
                    reference rule, and no unit may exceed its clean value
                    during a noisy pass (``min(noisy, clean)``): noise can
                    only remove what the clean input shows. See
                    :mod:`~captum_noisemask.core.mask_units`. Default: "reference"
        thresholds (Mapping, float or None, optional): Where the mask units
                    sit and their thresholds. Every input of a ReLU-family
                    nonlinearity is a masking site. ``None`` applies the
                    paper's rule: every site, the first at 0.2 (0 when it
                    reads a normalisation layer, or under the reference
                    rule), the others at 0. A number puts every site at that
                    threshold. A mapping from a layer (module object, or its
                    dotted name from ``named_modules()``) to a threshold masks
                    only the sites that layer feeds. ``{}`` disables masking.
                    ``inspect_masks`` shows the sites. Default: None
        held_to (str, optional): The clean output the masked network's noisy
                    outputs are compared with. ``"plain"``: the model's own
                    (the paper's objective as written; the mask units alone
                    may already move it); ``"masked"``: the masked network's
                    on the clean input, so masking alone is never a
                    violation. Default: "plain"
        output_transform (Callable, optional): Applied to the model's outputs
                    before the tolerance is checked, e.g. ``lambda y:
                    y.softmax(-1)``. ``None`` uses the raw outputs (logits):
                    softmax saturates on a confident classifier, so almost any
                    noise keeps the probabilities within a small tolerance and
                    the map degenerates to "nothing contributes". Default: None
        noise_scale (float, Tensor or tuple, optional): Half-width of the
                    uniform noise: a number, or a tensor broadcastable to one
                    example (per channel: shape ``(C, 1, 1)``); a tuple gives
                    one per input. 1.0 suits inputs in [0, 1]; for inputs
                    normalised by ``(x - mean) / std`` the paper's pixel noise
                    is ``1 / std`` per channel. Default: 1.0
        tolerance_path (sequence of float, optional): A graded map, beyond
                    the paper: increasing multipliers of the tolerance, e.g.
                    ``(1, 2, 4, 8)``. The map is the mean of the maps learnt
                    at each multiple, so a position that resists noise even at
                    a large tolerance ranks above one that resists only the
                    smallest. Each point after the first starts from the
                    previous one's levels and runs a third of the steps, so
                    ``(1, 2, 4, 8)`` costs 2x a plain map. ``None``: one
                    tolerance, the paper's map. Default: None
        reward_exponent (float, optional): ``k`` of the reward for noise in
                    ``E(w)``, whose slope at each level is ``max(1, k (1 - w) **
                    (k - 1))``: 1 for ``k = 1``, the paper's ``mean(w)``. The
                    paper's linear reward gives a near-binary optimum, so the
                    contributing region is a blob of tied levels with no order
                    inside. With ``k > 1`` the reward is steeper at low levels,
                    so a contributing level rises until the hinge's slope meets
                    the reward's: positions whose noise costs the held outputs
                    more sit lower, a ranking at no extra cost. Above ``1 -
                    k ** (-1 / (k - 1))`` (0.37 for ``k = 4``) the reward is
                    the paper's, so positions it sends to full noise still
                    get there. At least 1. Default: 1.0
        order (str, optional): How the contributing region (levels below
                    0.5) is expressed. ``"evidence"``: ordered by the
                    explained output's gradient times the input under the
                    map's own noise (one evaluation's draws at the learnt
                    levels, on the caller's model), written into the region's
                    levels as ``0.1 * (1 - rank)``: the strongest evidence at
                    0, the weakest at 0.1. The picture (which positions
                    contribute) is the optimiser's; deletion and top-k scores
                    read a ranking; the region's levels mostly go down, so
                    the certificate holds at least as often
                    (:mod:`~captum_noisemask.core.evidence`). ``"levels"``:
                    the levels as learnt, the paper's map (near-binary, no
                    order inside the region; with a ``tolerance_path``, which
                    is its own order). Default: "evidence"

    Raises:
        ValueError: a value out of its range, an unknown unit, rule or
                    ``held_to``.
        TypeError: a value of the wrong type.

    Examples::

        >>> from captum_noisemask import NoiseMaskProblem
        >>> for part in NoiseMaskProblem.paper().describe().split("; "):
        ...     print(part)
        tolerance 1 output units
        mask rule 'paper'
        held to the plain model's clean output
        contributing levels as learnt (no evidence order)
        >>> NoiseMaskProblem(unit="logits")
        Traceback (most recent call last):
        ...
        ValueError: unknown unit 'logits'; accepted: ['output', 'spread', 'response']
    """

    tolerance: float = 0.4
    unit: ToleranceUnit = "response"
    penalty: float | None = None
    mask_rule: MaskRule = "reference"
    thresholds: Thresholds = None
    held_to: HeldTo = "plain"
    output_transform: OutputTransform | None = None
    noise_scale: NoiseScale = 1.0
    tolerance_path: tuple[float, ...] | None = None
    reward_exponent: float = 1.0
    order: Order = "evidence"

    def __post_init__(self) -> None:
        if self.unit not in TOLERANCE_UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; accepted: {list(TOLERANCE_UNITS)}")
        # A tolerance of 0 output units is the strict constraint; a relative one must scale.
        check.check_number("tolerance", self.tolerance, 0.0, inclusive=self.unit == "output")
        if self.penalty is not None:
            check.check_number("penalty", self.penalty, 0.0, inclusive=False)
        if self.mask_rule not in MASK_RULES:
            raise ValueError(f"unknown mask_rule {self.mask_rule!r}; accepted: {list(MASK_RULES)}")
        check_thresholds(self.thresholds)
        if self.held_to not in HELD_TO:
            raise ValueError(f"unknown held_to {self.held_to!r}; accepted: {list(HELD_TO)}")
        if self.output_transform is not None and not callable(self.output_transform):
            raise TypeError(
                "output_transform must be a callable or None, got "
                f"{type(self.output_transform).__name__}"
            )
        _check_noise_scale(self.noise_scale)
        check.check_number("reward_exponent", self.reward_exponent, 1.0, inclusive=True)
        check.check_order(self.order)
        # Frozen: normalised values are set through object.__setattr__, once, here.
        object.__setattr__(self, "tolerance", float(self.tolerance))
        object.__setattr__(self, "reward_exponent", float(self.reward_exponent))
        object.__setattr__(self, "tolerance_path", check.tolerance_path(self.tolerance_path))
        if self.tolerance_path is not None and self.order == "evidence":
            raise ValueError(
                "a graded map (tolerance_path) is ordered by its path; pass order='levels' with it"
            )

    @classmethod
    def paper(cls) -> NoiseMaskProblem:
        """The paper's problem: its mask rule and a tolerance of 1.0 logit.

        Units at or below 0.2 on the first masked layer and 0 on the others
        are forced to zero, every held output may move by at most 1.0, and
        the map is the levels as learnt. Use it with the ``"paper"`` or
        ``"faithful"`` preset for the paper's maps.
        """
        return cls(tolerance=1.0, unit="output", mask_rule="paper", order="levels")

    @property
    def hinge_penalty(self) -> float:
        """The hinge's weight: ``penalty``, or its default for the unit."""
        if self.penalty is not None:
            return float(self.penalty)
        return 1.0 / self.tolerance if self.unit == "response" else 1.0

    def replace(self, **changes: Any) -> NoiseMaskProblem:
        """Returns a checked copy with the given fields replaced.

        Examples::

            >>> from captum_noisemask import NoiseMaskProblem
            >>> NoiseMaskProblem().replace(held_to="masked").held_to
            'masked'
        """
        return dataclasses.replace(self, **changes)

    def describe(self) -> str:
        """The problem in words, one clause per field that is not its default's.

        The tolerance, the mask rule and the held output are always said.

        Examples::

            >>> from captum_noisemask import NoiseMaskProblem
            >>> for part in NoiseMaskProblem().describe().split("; "):
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
        clauses = [
            f"tolerance {self.tolerance:g} {units[self.unit]}",
            f"mask rule '{self.mask_rule}'",
            f"held to the {held} clean output",
        ]
        if self.penalty is not None:
            clauses.append(f"penalty {self.penalty:g}")
        if self.thresholds is not None:
            clauses.append(f"mask thresholds {_thresholds_words(self.thresholds)}")
        if self.output_transform is not None:
            clauses.append(f"outputs transformed by {_callable_name(self.output_transform)}")
        if not (isinstance(self.noise_scale, float | int) and self.noise_scale == 1):
            clauses.append(f"noise half-width {_noise_scale_words(self.noise_scale)}")
        if self.tolerance_path is not None:
            path = ", ".join(f"{f:g}" for f in self.tolerance_path)
            clauses.append(f"graded over tolerance multiples ({path})")
        if self.reward_exponent != 1.0:
            k = f"{self.reward_exponent:g}"
            clauses.append(f"noise rewarded with slope max(1, {k} (1 - w)^({k} - 1))")
        if self.order != "evidence":
            clauses.append("contributing levels as learnt (no evidence order)")
        return "; ".join(clauses)

    def to_dict(self) -> dict[str, Any]:
        """The problem as plain JSON-able values (:meth:`from_dict` reads it back).

        Tensors become nested lists, an output transform its import path
        ``"module:name"``, thresholds keyed by module name.

        Raises:
            ValueError: a value with no plain form: thresholds keyed by module
                        objects (key them by their ``named_modules()`` names),
                        an output transform that is a lambda or a local
                        function (define it at module level).
        """
        values: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "noise_scale":
                value = _noise_scale_to_plain(value)
            elif field.name == "output_transform" and value is not None:
                value = _import_path(value)
            elif field.name == "thresholds" and isinstance(value, Mapping):
                if not all(isinstance(layer, str) for layer in value):
                    raise ValueError(
                        "thresholds keyed by module objects have no plain form; key them by "
                        "their names from named_modules() to store the problem"
                    )
                value = {layer: float(t) for layer, t in value.items()}
            elif field.name == "tolerance_path" and value is not None:
                value = list(value)
            values[field.name] = value
        return values

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> NoiseMaskProblem:
        """The problem :meth:`to_dict` wrote, checked as when built.

        An output transform is imported from its path, so read only dicts you
        trust, as with ``pickle``.

        Raises:
            ValueError: an unknown field (a dict from another version), or a
                        value out of range.

        Examples::

            >>> from captum_noisemask import NoiseMaskProblem
            >>> problem = NoiseMaskProblem.paper().replace(tolerance_path=(1, 2))
            >>> NoiseMaskProblem.from_dict(problem.to_dict()) == problem
            True
        """
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown NoiseMaskProblem field(s) {unknown} (written by another version?); "
                f"known: {sorted(known)}"
            )
        fields = dict(values)
        if "noise_scale" in fields:
            fields["noise_scale"] = _noise_scale_from_plain(fields["noise_scale"])
        if isinstance(fields.get("output_transform"), str):
            fields["output_transform"] = _imported(fields["output_transform"])
        if fields.get("tolerance_path") is not None:
            fields["tolerance_path"] = tuple(fields["tolerance_path"])
        return cls(**fields)

    def prepare(
        self,
        forward_func: Callable[..., Any],
        model: nn.Module | None,
        thresholds: Any,
        inputs: tuple[Tensor, ...],
        target: object,
        additional_forward_args: Any,
        baselines: Any,
        seed: Seed,
        internal_batch_size: int | None,
    ) -> CleanPass:
        """Runs the clean pass on ``inputs``: mask units, clean outputs, tolerance scale.

        Args:
            forward_func (Callable): The model or a function calling it.
            model (nn.Module, optional): The module behind it (names mask sites).
            thresholds: The explainer's resolved mask thresholds.
            inputs (tuple[Tensor, ...]): Checked input batches.
            target: Captum's target forms (which outputs are held).
            additional_forward_args (Any): Passed after the inputs.
            baselines (float, Tensor, tuple or None): The reference inputs of
                        the ``"reference"`` rule, in Captum's ``baselines``
                        convention; ``None`` is zeros.
            seed (int or torch.Generator, optional): Seeds every draw of this problem.
            internal_batch_size (int, optional): Most rows per forward pass.

        Returns:
            *CleanPass*.

        Raises:
            ValueError: ``baselines`` with a rule that has no reference.
        """
        if baselines is not None and self.mask_rule not in REFERENCE_RULES:
            raise ValueError(
                "baselines are the reference of mask_rule='reference' (or 'capped'), but this "
                f"problem's rule is {self.mask_rule!r}: build the explainer with "
                "NoiseMaskProblem(mask_rule='reference') or pass no baselines"
            )
        scales = check.noise_scales(self.noise_scale, inputs)
        _warn_if_out_of_noise_range(inputs, scales)
        generator = _generator(seed, inputs[0].device)
        # Copies: the caller's tensors never reach the model, which may write into them.
        clean_inputs = tuple(x.detach().clone() for x in inputs)
        batch = clean_inputs[0].shape[0]
        extra = _format_additional_forward_args(additional_forward_args) or ()
        constraint = OutputConstraint(target, batch, self.tolerance, self.output_transform)
        references = (
            check.baseline_inputs(baselines, clean_inputs)
            if self.mask_rule in REFERENCE_RULES
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
        prepared = CleanPass(
            problem=self,
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
class CleanPass:
    """A :class:`NoiseMaskProblem`'s clean pass on one batch: what every noisy pass compares with.

    Attributes:
        problem (NoiseMaskProblem): The problem.
        inputs (tuple[Tensor, ...]): Private copies of the clean inputs.
        mask_units (MaskUnits): Recorded on the clean pass.
        constraint (OutputConstraint): Held outputs, tolerance, its unit and penalty.
        plain_output (Tensor): The model's transformed clean output.
        masked_output (Tensor): The masked network's transformed clean output
                    (the plain one unless ``held_to="masked"``).
    """

    problem: NoiseMaskProblem
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
        generator: torch.Generator | None = None,
    ) -> NoisyNetwork:
        """The noisy passes of the masked (or the plain) network, ready to evaluate.

        Args:
            layout (LevelLayout): How parameters become maps.
            n_samples (int): Draws per evaluation.
            antithetic (bool, optional): Draw pairs ``(U, -U)``. Default: False
            masked (bool, optional): Mask units on; ``False`` is the
                        caller's unmodified model, held to its clean output.
                        Default: True
            forward_only (bool, optional): Only :meth:`NoisyNetwork.outcomes`
                        will run (a certificate, a calibration): without an
                        ``internal_batch_size`` its passes are cut at
                        :data:`FORWARD_ONLY_ROWS` rows, whole examples at a
                        time, which keeps the same draws. Default: False
        """
        clean_output = self.masked_output if masked else self.plain_output
        batch = self.batch_size
        return NoisyNetwork(
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
                generator or self.generator,
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


def constraint_in_units(prepared: CleanPass) -> OutputConstraint:
    """The prepared constraint with its unit's scale and the problem's penalty."""
    problem, constraint = prepared.problem, prepared.constraint
    scale: Tensor | None = None
    held = prepared.masked_output
    if problem.unit == "spread":
        spread = _output_spread(held)
        scale = spread.clamp_min(torch.finfo(held.dtype).tiny)
    elif problem.unit == "response":
        # The response is part of the problem: measured on draws of a fixed seed, so the map,
        # its guarantee and its certificate hold one tolerance whatever their own seeds.
        fixed = torch.Generator(device=held.device).manual_seed(RESPONSE_SEED)
        network = prepared.network(prepared.per_position(), RESPONSE_DRAWS, generator=fixed)
        response = network.outcomes(prepared.full_noise()).mean_change.mean(0)
        scale = response.clamp_min(torch.finfo(held.dtype).tiny)
    return OutputConstraint(
        constraint.target,
        prepared.batch_size,
        problem.tolerance,
        problem.output_transform,
        scale,
        problem.hinge_penalty,
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
            stacklevel=7,
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
                stacklevel=7,
            )


def _check_noise_scale(noise_scale: object) -> None:
    """The noise scale's type and sign (its shape is checked against the inputs later)."""
    scales = noise_scale if isinstance(noise_scale, tuple) else (noise_scale,)
    if not scales:
        raise ValueError("noise_scale must be a number, a tensor or a non-empty tuple of them")
    for scale in scales:
        if isinstance(scale, Tensor):
            if not scale.is_floating_point():
                raise TypeError(
                    f"noise_scale must be a floating point tensor, got {scale.dtype} (e.g. "
                    "pass torch.tensor([...], dtype=torch.float32))"
                )
            if not bool((torch.isfinite(scale) & (scale > 0)).all()):
                raise ValueError("a noise_scale tensor must be finite and > 0 everywhere")
        else:
            check.check_number("noise_scale", scale, 0.0, inclusive=False)


def _noise_scale_to_plain(scale: NoiseScale) -> Any:
    if isinstance(scale, tuple):
        return [_noise_scale_to_plain(s) for s in scale]
    if isinstance(scale, Tensor):
        return {"tensor": scale.detach().cpu().tolist(), "dtype": str(scale.dtype)}
    return float(scale)


def _noise_scale_from_plain(value: Any) -> NoiseScale:
    if isinstance(value, list):
        return tuple(_noise_scale_from_plain(v) for v in value)  # type: ignore[misc]
    if isinstance(value, dict):
        dtype = getattr(torch, str(value.get("dtype", "torch.float32")).removeprefix("torch."))
        return torch.tensor(value["tensor"], dtype=dtype)
    return float(value)


def _noise_scale_words(scale: NoiseScale) -> str:
    if isinstance(scale, tuple):
        return "(" + ", ".join(_noise_scale_words(s) for s in scale) + ")"
    if isinstance(scale, Tensor):
        values = ", ".join(f"{float(v):.3g}" for v in scale.flatten()[:4])
        more = ", ..." if scale.numel() > 4 else ""
        return f"per position or channel [{values}{more}]"
    return f"{float(scale):g}"


def _thresholds_words(thresholds: Thresholds) -> str:
    if isinstance(thresholds, Mapping):
        if not thresholds:
            return "none (no mask units)"
        return ", ".join(
            f"{layer if isinstance(layer, str) else type(layer).__name__} {float(t):g}"
            for layer, t in thresholds.items()
        )
    return f"{float(thresholds):g} at every site"  # type: ignore[arg-type]


def _callable_name(function: Callable[..., Any]) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__


def _import_path(function: Callable[..., Any]) -> str:
    module, name = getattr(function, "__module__", None), getattr(function, "__qualname__", "")
    if module is None or not name or "<" in name:
        raise ValueError(
            f"output_transform {_callable_name(function)!r} has no import path (a lambda or "
            "a local function): define it at module level to store the problem"
        )
    return f"{module}:{name}"


def _imported(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in name.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]

"""The lab's method line-up: Captum's methods and every NoiseMask variant
(:data:`NOISEMASK_VARIANTS`, listed once), as :class:`Method` rows one evaluation loop runs."""

from __future__ import annotations

import copy
import functools
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from captum.attr import (
    LRP,
    Attribution,
    DeepLift,
    IntegratedGradients,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from torch import Tensor, nn

from captum_noisemask._utils.compat import Alpha1_Beta0_Rule
from captum_noisemask._utils.modules import model_of
from captum_noisemask.attribution import DegenerateMapWarning, NoiseMaskAttribution
from captum_noisemask.evaluation.cost import Cost, measure_cost
from captum_noisemask.feature_masks import grid_feature_mask
from captum_noisemask.presets import Preset, paired_problem, resolve_preset

__all__ = [
    "Method",
    "ExplainedBatch",
    "DeepTaylorLRP",
    "RandomAttribution",
    "standard_methods",
    "GRADED_TOLERANCE_PATH",
    "NOISEMASK_VARIANTS",
    "NoiseMaskVariant",
    "centred",
    "explain_all",
    "log_probabilities",
    "margin",
    "noisemask_methods",
    "running_methods",
]

#: Captum's gradient methods announce that they set ``requires_grad`` on their inputs.
_CAPTUM_NOTICES = ".*(require gradients|hooks and attributes).*"


@contextmanager
def running_methods(constant_maps_expected: bool = False) -> Iterator[None]:
    """The setting a line-up of methods runs in, for a benchmark or a figure.

    Captum's notices about ``requires_grad`` are silenced, and torch's global
    generator (which SmoothGrad draws from) is restored on exit, so seeding it
    before each method leaves the caller's state as it was.

    Args:
        constant_maps_expected (bool, optional): Also silence
                    :class:`~captum_noisemask.DegenerateMapWarning` (a
                    randomised model or an untrained one gives constant maps
                    by design). Default: False
    """
    with warnings.catch_warnings(), torch.random.fork_rng():
        warnings.filterwarnings("ignore", message=_CAPTUM_NOTICES)
        if constant_maps_expected:
            warnings.filterwarnings("ignore", category=DegenerateMapWarning)
        yield


@dataclass
class Method:
    """An attribution method as the shared loop sees it.

    Attributes:
        name (str): Column title.
        attribution (Attribution): Any Captum attribution.
        kwargs (dict): Extra arguments of its ``attribute`` call.
        sign (str): How Captum's visualization should read the map
                    (``"positive"`` or ``"absolute_value"``).
    """

    name: str
    attribution: Attribution
    kwargs: dict[str, Any] = field(default_factory=dict)
    sign: str = "absolute_value"

    def explain(
        self, inputs: Tensor, target: Tensor, chunk_size: int | None = None, **overrides: Any
    ) -> Tensor:
        """Detached maps of ``inputs``, ``chunk_size`` examples per ``attribute`` call.

        Chunking keeps every method in the regime it runs best in on a CPU
        (hundreds of images at once thrash the caches) and bounds memory.
        ``overrides`` replace entries of :attr:`kwargs` for this call.
        """
        kwargs = {**self.kwargs, **overrides}
        size = chunk_size or inputs.shape[0]
        maps = [
            self.attribution.attribute(
                inputs[start : start + size], target=target[start : start + size], **kwargs
            ).detach()
            for start in range(0, inputs.shape[0], size)
        ]
        return torch.cat(maps)


@dataclass
class ExplainedBatch:
    """Maps ``(B, C, H, W)`` of one method and what they cost (:func:`measure_cost`)."""

    maps: Tensor
    cost: Cost


class RandomAttribution(Attribution):
    """A map of uniform noise that ignores the model: the floor every metric should beat.

    Args:
        forward_func (Callable): The model (kept only to satisfy the Attribution API).
        seed (int, optional): Seeds the generator once, at construction: each call
                    draws fresh noise, so a repeated call (or a perturbed input)
                    gets a different map, as a map unrelated to the input
                    would. The sequence of maps is reproducible. Default: 0
    """

    def __init__(self, forward_func: Callable[..., Tensor], seed: int = 0) -> None:
        super().__init__(forward_func)
        self.generator = torch.Generator().manual_seed(seed)

    def attribute(  # type: ignore[override]
        self, inputs: Tensor | tuple[Tensor, ...], target: object = None, **_: Any
    ) -> Tensor | tuple[Tensor, ...]:
        """Uniform [0, 1) noise shaped like ``inputs`` (``target`` is ignored)."""
        if isinstance(inputs, tuple):
            return tuple(self._noise(x) for x in inputs)
        return self._noise(inputs)

    def _noise(self, like: Tensor) -> Tensor:
        return torch.rand(like.shape, generator=self.generator).to(like)


class DeepTaylorLRP(LRP):
    """Captum's LRP with the z+ rule (Alpha1-Beta0, Deep Taylor) on every conv/linear layer.

    The rules sit on a private copy of the model, so the caller's model never
    carries ``rule`` attributes, and they are attached again before every
    call: Captum's LRP deletes all rules when ``attribute`` returns
    (captum issue #1059), so a plain ``LRP`` would silently fall back to its
    default epsilon rule from the second call on.

    Args:
        model (nn.Module): The model to explain (copied, never modified).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__(copy.deepcopy(model))

    def attribute(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Same as :meth:`captum.attr.LRP.attribute`, with z+ rules in place."""
        for module in self.model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.rule = Alpha1_Beta0_Rule()  # type: ignore[assignment]
        return super().attribute(*args, **kwargs)


#: The benchmarks' graded NoiseMask variant: maps at 1, 2, 4 and 8 times the tolerance,
#: averaged (``tolerance_path`` of :meth:`~captum_noisemask.NoiseMaskAttribution.attribute`).
GRADED_TOLERANCE_PATH = (1.0, 2.0, 4.0, 8.0)


def margin(logits: Tensor) -> Tensor:
    """Each logit minus the largest other one (for the label: its lead over the runner-up)."""
    top2 = logits.topk(2, dim=-1).values
    other = torch.where(logits >= top2[..., :1], top2[..., 1:], top2[..., :1])
    return logits - other


def centred(logits: Tensor) -> Tensor:
    """Logits minus their mean: a shift shared by every class does not count."""
    return logits - logits.mean(-1, keepdim=True)


def log_probabilities(logits: Tensor) -> Tensor:
    """Log-softmax: a change counts only as far as it moves the decision's confidence."""
    return logits.log_softmax(-1)


@dataclass(frozen=True)
class NoiseMaskVariant:
    """A NoiseMask setting a benchmark runs: a problem, and what it changes of the schedule.

    Attributes:
        problem (dict): Fields of the :class:`~captum_noisemask.NoiseMaskProblem` the
                    variant changes, on top of the problem paired with the run's
                    preset (:func:`paired_problem`); ``{}`` is that problem.
        n_samples (int, optional): Draws per step instead of the preset's.
        grid_cell (int, optional): Learn one level per square cell of this many
                    pixels a side (:func:`~captum_noisemask.grid_feature_mask`, built
                    for the images' size).
    """

    problem: dict[str, Any] = field(default_factory=dict)
    n_samples: int | None = None
    grid_cell: int | None = None

    def method(
        self, name: str, model: nn.Module, image_size: int | None = None, **common: Any
    ) -> Method:
        """This variant as a :class:`Method` named ``name``, ``common`` ``attribute`` keywords.

        ``image_size`` (the side of the square images) is needed by a grid variant only.
        """
        kwargs = dict(common)
        preset = kwargs.get("preset", "fast")
        if self.n_samples is not None:
            kwargs["preset"] = resolve_preset(preset).replace(n_samples=self.n_samples)
        if self.grid_cell is not None:
            if image_size is None:
                raise ValueError(f"{name!r} learns one level per grid cell: pass image_size")
            kwargs["feature_mask"] = grid_feature_mask(image_size, image_size, self.grid_cell)
        problem = paired_problem(preset).replace(**self.problem)
        return Method(name, NoiseMaskAttribution(model, problem), kwargs, sign="positive")


_RELATIVE = {"tolerance": 0.1, "unit": "spread"}
#: The problems by their fields, whatever the preset pairs with.
PAPER_PROBLEM_FIELDS = {"tolerance": 1.0, "unit": "output", "mask_rule": "paper", "order": "levels"}
DEFAULT_PROBLEM_FIELDS = {
    "tolerance": 0.4,
    "unit": "response",
    "mask_rule": "reference",
    "order": "evidence",
}
#: A graded map is its own order.
_GRADED = {"tolerance_path": GRADED_TOLERANCE_PATH, "order": "levels"}

#: Every NoiseMask variant any benchmark runs, each defined once, by its row name.
NOISEMASK_VARIANTS: dict[str, NoiseMaskVariant] = {
    "NoiseMask": NoiseMaskVariant(),
    "NoiseMask (graded)": NoiseMaskVariant(_GRADED),
    "NoiseMask (levels as learnt)": NoiseMaskVariant({"order": "levels"}),
    "NoiseMask (paper's problem)": NoiseMaskVariant(PAPER_PROBLEM_FIELDS),
    "NoiseMask (default problem)": NoiseMaskVariant(DEFAULT_PROBLEM_FIELDS),
    "NoiseMask (capped rule)": NoiseMaskVariant({"mask_rule": "capped"}),
    "NoiseMask (reward exponent 4)": NoiseMaskVariant({"reward_exponent": 4.0}),
    "NoiseMask (capped rule, reward exponent 4)": NoiseMaskVariant(
        {"mask_rule": "capped", "reward_exponent": 4.0}
    ),
    "NoiseMask (relative tolerance 0.1)": NoiseMaskVariant(_RELATIVE),
    "NoiseMask (4x4 grid)": NoiseMaskVariant(grid_cell=4),
    "NoiseMask (no mask units)": NoiseMaskVariant({"thresholds": {}}),
    "NoiseMask (graded, relative tolerance 0.1)": NoiseMaskVariant({**_RELATIVE, **_GRADED}),
    "NoiseMask (graded, relative tolerance 0.05, up to 16x)": NoiseMaskVariant(
        {
            **_GRADED,
            "tolerance": 0.05,
            "unit": "spread",
            "tolerance_path": (1.0, 2.0, 4.0, 8.0, 16.0),
        }
    ),
    "NoiseMask (label's margin over the runner-up)": NoiseMaskVariant({"output_transform": margin}),
    "NoiseMask (centred logits)": NoiseMaskVariant({"output_transform": centred}),
    "NoiseMask (log-probabilities, tolerance 0.1)": NoiseMaskVariant(
        {"output_transform": log_probabilities, "tolerance": 0.1, "unit": "output"}
    ),
    "NoiseMask (64 draws per step)": NoiseMaskVariant(n_samples=64),
    "NoiseMask (128 draws per step)": NoiseMaskVariant(n_samples=128),
    "NoiseMask (relative tolerance 0.1, 64 draws per step)": NoiseMaskVariant(
        _RELATIVE, n_samples=64
    ),
}


def noisemask_methods(
    names: list[str], model: nn.Module, image_size: int | None = None, **common: Any
) -> list[Method]:
    """The :data:`NOISEMASK_VARIANTS` called ``names``, as methods sharing ``common`` keywords."""
    return [NOISEMASK_VARIANTS[name].method(name, model, image_size, **common) for name in names]


def standard_methods(
    model: nn.Module,
    preset: str | Preset = "fast",
    seed: int = 0,
    show_progress: bool = False,
    include_random: bool = False,
    include_graded: bool = False,
    noisemask: dict[str, str] | None = None,
) -> list[Method]:
    """NoiseMask and the methods the paper compares with, plus three common baselines.

    ``include_random`` appends a :class:`RandomAttribution` and ``include_graded``
    adds ``"NoiseMask (graded)"`` after NoiseMask (:data:`GRADED_TOLERANCE_PATH`),
    for the evaluation benchmark; figures leave both out. ``noisemask`` maps row names to
    :data:`NOISEMASK_VARIANTS` names (``reproduce`` shows the paper's problem as
    ``"NoiseMask"`` and the default problem beside it); ``None`` is
    ``{"NoiseMask": "NoiseMask"}``.
    """
    common: dict[str, Any] = {
        "preset": preset,
        "seed": seed,
        "highlight": "contributing",
        "show_progress": show_progress,
    }
    rows = dict(noisemask or {"NoiseMask": "NoiseMask"})
    if include_graded:
        rows["NoiseMask (graded)"] = "NoiseMask (graded)"
    methods = [
        NOISEMASK_VARIANTS[variant].method(row, model, **common) for row, variant in rows.items()
    ]
    methods += [
        Method("Saliency", Saliency(model), {"abs": True}),
        Method(
            "SmoothGrad",
            NoiseTunnel(Saliency(model)),
            {"nt_type": "smoothgrad", "nt_samples": 25, "stdevs": 0.15, "abs": True},
        ),
        Method("Deep Taylor (LRP z+)", DeepTaylorLRP(model)),
        Method("DeepLift", DeepLift(model)),
        Method("Integrated Gradients", IntegratedGradients(model), {"n_steps": 50}),
        Method(
            "Occlusion",
            Occlusion(model),
            {"sliding_window_shapes": (1, 4, 4), "strides": (1, 2, 2)},
        ),
    ]
    if include_random:
        methods.append(Method("Random", RandomAttribution(model, seed), sign="positive"))
    return methods


def explain_all(
    methods: list[Method],
    images: Tensor,
    labels: Tensor,
    on_method: Callable[[str], None] | None = None,
) -> dict[str, ExplainedBatch]:
    """Runs every method on the same images and labels, measuring each with :func:`measure_cost`."""
    results = {}
    for method in methods:
        if on_method is not None:
            on_method(method.name)
        maps, cost = measure_cost(
            functools.partial(method.explain, images, labels),
            model_of(method.attribution),
            images.shape[0],
            device=str(images.device),
        )
        results[method.name] = ExplainedBatch(maps, cost)
    return results

"""One evaluation loop over ``captum.attr.Attribution`` objects, NoiseMask among them."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
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
from captum.attr._utils.lrp_rules import Alpha1_Beta0_Rule
from torch import Tensor, nn

from .attribution import NoiseMaskAttribution
from .presets import Preset

__all__ = ["Method", "ExplainedBatch", "RandomAttribution", "standard_methods", "explain_all"]


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


@dataclass
class ExplainedBatch:
    """Maps ``(B, C, H, W)`` of one method and its wall time per image."""

    maps: Tensor
    seconds_per_image: float


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


def deep_taylor_model(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose Conv/Linear layers carry LRP's z+ rule (Alpha1-Beta0).

    Captum's LRP reads a ``rule`` attribute from each layer; setting it on a
    copy leaves the caller's model untouched.
    """
    lrp_model = copy.deepcopy(model)
    for module in lrp_model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            module.rule = Alpha1_Beta0_Rule()  # type: ignore[assignment]
    return lrp_model


def standard_methods(
    model: nn.Module,
    preset: str | Preset = "fast",
    seed: int = 0,
    show_progress: bool = False,
    include_random: bool = False,
) -> list[Method]:
    """NoiseMask and the methods the paper compares with, plus three common baselines.

    ``include_random`` appends a :class:`RandomAttribution` (for the evaluation
    benchmark; figures leave it out).
    """
    methods = [
        Method(
            "NoiseMask",
            NoiseMaskAttribution(model),
            {
                "preset": preset,
                "seed": seed,
                "highlight": "contributing",
                "show_progress": show_progress,
            },
            sign="positive",
        ),
        Method("Saliency", Saliency(model), {"abs": True}),
        Method(
            "SmoothGrad",
            NoiseTunnel(Saliency(model)),
            {"nt_type": "smoothgrad", "nt_samples": 25, "stdevs": 0.15, "abs": True},
        ),
        Method("Deep Taylor (LRP z+)", LRP(deep_taylor_model(model))),
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
    """Runs every method on the same images and labels, timing each."""
    results = {}
    for method in methods:
        if on_method is not None:
            on_method(method.name)
        start = time.perf_counter()
        maps = method.attribution.attribute(images, target=labels, **method.kwargs)
        seconds = (time.perf_counter() - start) / images.shape[0]
        results[method.name] = ExplainedBatch(maps.detach(), seconds)
    return results

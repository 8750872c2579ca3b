"""Model-randomisation sanity check (Adebayo et al., 2018), cascading from the top layer."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from ._ranks import average_ranks

__all__ = ["RandomisationResult", "cascading_randomisation", "spearman_per_example"]


@dataclass(frozen=True)
class RandomisationResult:
    """Rank agreement between the trained model's maps and the randomised models' maps.

    Attributes:
        stages (list[str]): Layers randomised so far, one entry per stage
                    (``"fc2"``, then ``"fc2+fc1"``, ...).
        spearman (Tensor): ``(n_stages, B)`` Spearman correlation per example
                    of the signed maps. Near 1 means the map survived
                    randomisation: the method does not depend on those layers.
                    NaN where either map is constant (it has no ranking).
        spearman_abs (Tensor): The same for the maps' magnitudes (Adebayo et
                    al.'s absolute variant: a map whose sign flips with the
                    output, as LRP z+'s does, counts as unchanged).
    """

    stages: list[str]
    spearman: Tensor
    spearman_abs: Tensor


def spearman_per_example(first: Tensor, second: Tensor) -> Tensor:
    """Spearman rank correlation per example, ties given their average rank.

    A constant map has no ranking: its correlation with anything is NaN (as
    scipy's), never a score. Summaries count such examples separately.

    Returns:
        *Tensor* ``(B,)``.

    Examples::

        >>> import torch
        >>> from captum_noisemask.evaluation import spearman_per_example
        >>> maps = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
        >>> spearman_per_example(maps, torch.tensor([[3.0, 2.0, 1.0], [1.0, 2.0, 3.0]])).tolist()
        [-1.0, nan]
    """
    a = first.detach().flatten(1).cpu().double().numpy()
    b = second.detach().flatten(1).cpu().double().numpy()
    scores = [_pearson(average_ranks(x), average_ranks(y)) for x, y in zip(a, b, strict=True)]
    return torch.tensor(scores, dtype=torch.float64)


def cascading_randomisation(
    model: nn.Module,
    explain: Callable[[nn.Module, Tensor, Tensor], Tensor],
    inputs: Tensor,
    target: Tensor,
    layers: list[str] | None = None,
    seed: int = 0,
) -> RandomisationResult:
    """Re-initialises layers from the output downwards and compares maps at each stage.

    The caller's model is never modified: each stage works on a deep copy.

    Args:
        model (nn.Module): The trained model.
        explain (Callable): ``explain(model, inputs, target)`` returns maps;
                    it builds the attribution method for the model it is given.
        inputs (Tensor): ``(B, ...)`` examples.
        target (Tensor): ``(B,)`` classes (the trained model's, kept for every stage).
        layers (list[str], optional): Names of the layers to randomise, in
                    order; a container (a ResNet stage, a block) re-initialises
                    every module in it. Default: the model's top-level children
                    that hold parameters, last registered first (the layers of
                    a plain CNN; the stages of a ResNet, as Adebayo et al.
                    randomise Inception by blocks).
        seed (int, optional): Seeds the re-initialisation. Default: 0

    Returns:
        *RandomisationResult*.

    Examples::

        >>> import torch
        >>> from captum_noisemask.evaluation import cascading_randomisation
        >>> from torch import nn
        >>> model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> def the_input(model, inputs, target):  # ignores the model: fails the check
        ...     return inputs
        >>> target = torch.zeros(3, dtype=torch.long)
        >>> result = cascading_randomisation(model, the_input, torch.rand(3, 4), target)
        >>> result.stages, result.spearman.min().item()
        (['2', '2+0'], 1.0)
    """
    names = _default_layers(model) if layers is None else layers
    modules = dict(model.named_modules())
    unknown = [name for name in names if name not in modules]
    if unknown:
        raise ValueError(f"layers {unknown} are not modules of the model; known: {list(modules)}")
    reference = explain(model, inputs, target)
    randomised = copy.deepcopy(model)
    copies = dict(randomised.named_modules())
    stages, signed, magnitude = [], [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for depth, name in enumerate(names):
            _reinitialise(copies[name])
            stages.append("+".join(names[: depth + 1]))
            maps = explain(randomised, inputs, target)
            signed.append(spearman_per_example(reference, maps))
            magnitude.append(spearman_per_example(reference.abs(), maps.abs()))
    return RandomisationResult(stages, torch.stack(signed), torch.stack(magnitude))


def _default_layers(model: nn.Module) -> list[str]:
    children = [name for name, child in model.named_children() if _owners(child)]
    return children[::-1] if children else [""]


def _owners(module: nn.Module) -> list[nn.Module]:
    """``module`` and its submodules that hold parameters of their own."""
    return [m for m in module.modules() if next(m.parameters(recurse=False), None) is not None]


def _reinitialise(module: nn.Module) -> None:
    owners = _owners(module)
    if not owners:
        raise ValueError(
            f"{type(module).__name__} has no parameters (so no reset_parameters()); "
            "cannot randomise it"
        )
    for owner in owners:
        reset = getattr(owner, "reset_parameters", None)
        if not callable(reset):
            raise ValueError(
                f"{type(owner).__name__} has no reset_parameters(); cannot randomise it"
            )
        reset()


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denominator) if denominator > 0 else math.nan

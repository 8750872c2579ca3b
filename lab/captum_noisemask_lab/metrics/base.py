"""What a metric of ``compare`` is: columns it fills, and a function from maps to scores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from torch import Tensor, nn

if TYPE_CHECKING:
    from ..benchmarks.compare import CompareConfig
    from ..methods import Method

__all__ = ["Column", "Metric", "MetricInputs", "MetricScores"]


@dataclass(frozen=True)
class Column:
    """One column of the comparison tables.

    Attributes:
        key (str): The score's key in ``results.json`` (per method).
        title (str): The column's header, with ↑ or ↓ for the better direction.
        table (str): ``"pixel_flipping"`` or ``"robustness"``.
        readme (bool): Also in the README's comparison table.
    """

    key: str
    title: str
    table: Literal["pixel_flipping", "robustness"] = "robustness"
    readme: bool = False


@dataclass(frozen=True)
class MetricInputs:
    """Everything a metric may read: one method's maps of the benchmark's images."""

    method: Method
    model: nn.Module
    images: Tensor
    labels: Tensor
    maps: Tensor
    config: CompareConfig


@dataclass(frozen=True)
class MetricScores:
    """A metric's result: per-image scores by column key, and mean curves to plot."""

    per_image: dict[str, Tensor]
    curves: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """A registered metric: its columns and the function that fills them.

    ``score`` returns a per-image tensor for every column key; ``compare``
    summarises each (mean and 95% interval) and the tables show them.
    """

    name: str
    columns: tuple[Column, ...]
    score: Callable[[MetricInputs], MetricScores]

"""Type aliases shared across the package."""

from collections.abc import Callable, Mapping
from typing import Literal

from torch import Tensor, nn

#: A layer to mask: the module itself or its dotted name from ``named_modules()``.
LayerRef = nn.Module | str
#: Layer -> threshold; a number puts every site at that threshold; ``None`` is the paper's rule.
Thresholds = Mapping[LayerRef, float] | float | None
#: Applied to the model's outputs before the tolerance is checked.
OutputTransform = Callable[[Tensor], Tensor]
Highlight = Literal["contributing", "non_contributing"]
#: How the contributing region's levels are expressed (the problem's ``order``).
Order = Literal["evidence", "levels"]

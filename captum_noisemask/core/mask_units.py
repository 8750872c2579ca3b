"""The paper's mask units, as forward hooks that live only inside a context.

During the clean pass each masked layer records which units saw no feature
(output <= the layer's threshold); during every noisy pass those units are
forced to output 0, so noise cannot switch on a feature the clean input did
not have.

Where the zero is applied: at the layer's own output, unless the layer is
immediately followed by a BatchNorm that consumes exactly that output
(conv -> BatchNorm -> ReLU). A zero before BatchNorm does not stay zero
(BatchNorm adds a shift), so there the threshold is read and the zero is
written at the BatchNorm's output, which is what the activation sees. For
conv -> ReLU this is the same as thresholding after the ReLU: for a
threshold ``t >= 0``, ``z <= t`` if and only if ``relu(z) <= t``, and
``relu(0) = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from torch import Tensor, nn

from .._utils.hooks import forward_hooks
from .._utils.typing import Thresholds

__all__ = [
    "MaskUnits",
    "resolve_thresholds",
    "FIRST_LAYER_THRESHOLD",
    "LATER_LAYER_THRESHOLD",
]

#: The paper's thresholds: 0.2 for the first masked layer, 0 for the others.
FIRST_LAYER_THRESHOLD = 0.2
LATER_LAYER_THRESHOLD = 0.0

_MASKABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def resolve_thresholds(
    model: nn.Module | None, thresholds: Thresholds
) -> dict[nn.Module, float] | None:
    """Turns a user's ``thresholds`` mapping into ``{module: threshold}``.

    Args:
        model (nn.Module, optional): The model whose ``named_modules()``
                    resolve layer names; ``None`` when the forward function
                    is not a module.
        thresholds (Mapping or None): Layer (module or dotted name) to
                    threshold; ``None`` keeps the automatic rule.

    Returns:
        *dict* or *None*: ``None`` for the automatic rule, else the mapping.

    Raises:
        ValueError: an unknown layer name, a name without a model, or a
                    threshold that is not a finite number.
        TypeError: ``thresholds`` is not a mapping or a key is neither a
                    module nor a string.
    """
    if thresholds is None:
        return None
    if not isinstance(thresholds, Mapping):
        raise TypeError(
            "thresholds must be None (the paper's automatic rule), {} (no masking) "
            f"or a mapping from layer to threshold, got {type(thresholds).__name__}"
        )
    named = dict(model.named_modules()) if model is not None else {}
    resolved: dict[nn.Module, float] = {}
    for layer, threshold in thresholds.items():
        if isinstance(layer, str):
            if model is None:
                raise ValueError(
                    f"layer name {layer!r} needs forward_func to be an nn.Module; "
                    "pass the module object instead"
                )
            if layer not in named or layer == "":
                valid = ", ".join(repr(n) for n in named if n)
                raise ValueError(f"unknown layer {layer!r}; valid names: {valid}")
            module = named[layer]
        elif isinstance(layer, nn.Module):
            module = layer
        else:
            raise TypeError(
                "thresholds keys must be nn.Module objects or their names from "
                f"named_modules(), got {type(layer).__name__}"
            )
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise TypeError(f"threshold of {layer!r} must be a number, got {threshold!r}")
        if not math.isfinite(threshold):
            raise ValueError(f"threshold of {layer!r} must be finite, got {threshold}")
        resolved[module] = float(threshold)
    return resolved


@dataclass
class _Call:
    module: nn.Module
    input: Any
    output: Any


class MaskUnits:
    r"""Zeroes, during noisy passes, the units that were off on the clean input.

    Build it with :meth:`record`, which runs the clean forward pass; then
    wrap every noisy forward pass in :meth:`active`.

    Args:
        keep (dict[nn.Module, Tensor]): Per masking site, a 0/1 tensor of the
                    site's clean output shape ``(B, ...)``; 0 marks a unit
                    to silence.
    """

    def __init__(self, keep: dict[nn.Module, Tensor]) -> None:
        self.keep = keep
        self._examples = slice(None)

    @property
    def sites(self) -> list[nn.Module]:
        """The modules whose outputs are masked, in execution order."""
        return list(self.keep)

    @classmethod
    def record(
        cls,
        model: nn.Module | None,
        thresholds: dict[nn.Module, float] | None,
        clean_forward: Callable[[], Tensor],
    ) -> tuple[MaskUnits, Tensor]:
        """Runs ``clean_forward`` once and records which units are off.

        Args:
            model (nn.Module, optional): Searched for layers by the automatic
                        rule (``thresholds=None``).
            thresholds (dict, optional): ``{module: threshold}``, or ``None``
                        for the paper's rule: every Conv/Linear layer in
                        execution order except the last; the first gets
                        :data:`FIRST_LAYER_THRESHOLD`, the rest
                        :data:`LATER_LAYER_THRESHOLD`.
            clean_forward (Callable): Runs the model on the clean inputs.

        Returns:
            *tuple*: the mask units and the clean output of ``clean_forward``.
        """
        if thresholds is not None and not thresholds:
            return cls({}), clean_forward()
        watched: list[nn.Module]
        if thresholds is None:
            assert model is not None  # checked by NoiseMaskAttribution.__init__
            watched = [m for m in model.modules() if isinstance(m, _MASKABLE + _NORMS)]
        else:
            norms = (
                [m for m in model.modules() if isinstance(m, _NORMS)] if model is not None else []
            )
            watched = list(thresholds) + [m for m in norms if m not in thresholds]
        calls: list[_Call] = []

        def remember(module: nn.Module, inputs: Any, output: Any) -> None:
            calls.append(_Call(module, inputs[0] if inputs else None, output))

        with forward_hooks(watched, remember):
            clean_output = clean_forward()

        if thresholds is None:
            layers = [c.module for c in calls if isinstance(c.module, _MASKABLE)][:-1]
            chosen: dict[nn.Module, float] = {
                m: FIRST_LAYER_THRESHOLD if i == 0 else LATER_LAYER_THRESHOLD
                for i, m in enumerate(layers)
            }
        else:
            chosen = thresholds
        keep: dict[nn.Module, Tensor] = {}
        for layer, threshold in chosen.items():
            index = _single_call(calls, layer)
            call = calls[index]
            following = calls[index + 1] if index + 1 < len(calls) else None
            if (
                following is not None
                and isinstance(following.module, _NORMS)
                and following.input is call.output
            ):
                call = following
            if not isinstance(call.output, Tensor):
                raise TypeError(
                    f"mask units need layers that return a tensor; {layer} returned "
                    f"{type(call.output).__name__}"
                )
            keep[call.module] = (call.output > threshold).to(call.output.dtype)
        return cls(keep), clean_output

    @contextmanager
    def active(self) -> Iterator[None]:
        """Applies the masks to every forward pass inside the context."""
        with forward_hooks(self.keep, self._silence):
            yield

    @contextmanager
    def for_examples(self, examples: slice) -> Iterator[None]:
        """Tells the hooks which examples the rows of the next passes belong to.

        Rows are laid out sample-major: row ``i * n + j`` is noise draw ``i``
        of the ``j``-th example of ``examples``.
        """
        previous, self._examples = self._examples, examples
        try:
            yield
        finally:
            self._examples = previous

    def _silence(self, module: nn.Module, inputs: Any, output: Tensor) -> Tensor:
        keep = self.keep[module][self._examples]
        return (output.unflatten(0, (-1, keep.shape[0])) * keep).flatten(0, 1)


def _single_call(calls: list[_Call], layer: nn.Module) -> int:
    indices = [i for i, c in enumerate(calls) if c.module is layer]
    if not indices:
        raise ValueError(f"masked layer {layer} did not run in the model's forward pass")
    if len(indices) > 1:
        raise ValueError(
            f"masked layer {layer} runs {len(indices)} times per forward pass; mask "
            "units need each masked layer to run once (pass thresholds for other layers)"
        )
    return indices[0]

"""The objective: outputs the tolerance applies to, and the hinge on them::

    E(w) = (1/N) sum_n sum_k max(|y_k - y'_k| - a, 0) - mean(w)

This module holds the first term; the loop adds ``-mean(w)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .._utils.typing import OutputTransform

__all__ = ["OutputConstraint"]


class OutputConstraint:
    r"""Which outputs must stay within the tolerance, and by how much they miss.

    Args:
        target (int, tuple, list, Tensor or None): Captum's target forms.
                    ``None`` constrains every output (the paper's objective)
                    and needs a 2-D ``(B, K)`` output; an int or a tuple of
                    ints selects the same output for every example; a list
                    or a 1-D tensor of length ``B`` selects one per example.
        batch_size (int): Number of examples ``B``.
        tolerance (float): The tolerance ``a``.
        output_scale (Tensor, optional): Per example ``(B,)``, the unit in which
                    output changes are measured (the problem's ``unit``: the
                    clean output spread, or the response to full noise);
                    ``None`` measures raw changes.
        output_transform (Callable, optional): Applied to the model's
                    outputs before selection (e.g. ``softmax``).
        penalty (float, optional): Weight of the hinge in the objective: one
                    unit of violation costs ``penalty`` units of mean level.
                    Default: 1.0

    Raises:
        TypeError: ``target`` has none of the forms above.
        ValueError: a per-example target whose length is not ``B``, or
                    mixed index lengths.
    """

    def __init__(
        self,
        target: object,
        batch_size: int,
        tolerance: float,
        output_transform: OutputTransform | None,
        output_scale: Tensor | None = None,
        penalty: float = 1.0,
    ) -> None:
        self.tolerance = tolerance
        self.penalty = penalty
        self.output_scale = output_scale
        self.output_transform = output_transform
        self.shared_index: tuple[int, ...] | None = None
        self.per_example_index: Tensor | None = None
        self.target = target
        if target is None:
            return
        if isinstance(target, Tensor):
            if target.dtype.is_floating_point or target.dtype == torch.bool:
                raise TypeError(f"target tensor must hold integers, got {target.dtype}")
            if target.numel() == 1:
                self.shared_index = (int(target.item()),)
                return
            if target.dim() != 1:
                raise ValueError(
                    f"target tensor must be 0-D or 1-D of length {batch_size}, "
                    f"got shape {tuple(target.shape)}"
                )
            target = target.tolist()
        if isinstance(target, int) and not isinstance(target, bool):
            self.shared_index = (target,)
        elif isinstance(target, tuple) and _all_ints(target):
            self.shared_index = tuple(target)
        elif isinstance(target, list):
            if len(target) != batch_size:
                raise ValueError(
                    f"a list target needs one entry per example: got {len(target)} "
                    f"entries for a batch of {batch_size}"
                )
            rows = [(t,) if isinstance(t, int) else t for t in target]
            if not all(isinstance(r, tuple) and _all_ints(r) for r in rows):
                raise TypeError("list targets must hold ints or tuples of ints")
            if len({len(r) for r in rows}) != 1:
                raise ValueError("all entries of a list target must have the same length")
            self.per_example_index = torch.tensor(rows, dtype=torch.long)
        else:
            raise TypeError(
                "target must be None, an int, a tuple of ints, a list of ints or "
                f"tuples, or an integer tensor; got {type(target).__name__}"
            )

    def transform(self, output: object, rows: int) -> Tensor:
        """The model's output through ``output_transform``, checked to be ``(rows, ...)``.

        Raises:
            TypeError: the (transformed) output is not a tensor.
            ValueError: it has no batch dimension of ``rows`` or no values per row.
        """
        if self.output_transform is not None:
            output = self.output_transform(output)  # type: ignore[arg-type]
            source = "output_transform"
        else:
            source = "the model"
        if not isinstance(output, Tensor):
            hint = (
                "; pass output_transform to pick the tensor to hold, e.g. "
                "output_transform=lambda out: out[0]"
                if self.output_transform is None
                else ""
            )
            raise TypeError(
                f"{source} returned a {type(output).__name__}; NoiseMask needs a tensor of "
                f"shape (batch, ...){hint}"
            )
        if output.dim() == 0 or output.shape[0] != rows or output[0].numel() == 0:
            raise ValueError(
                f"{source} returned shape {tuple(output.shape)}; NoiseMask needs a tensor "
                f"with the batch dimension first ({rows} rows here) and at least one value "
                "per row"
            )
        return output

    def check(self, output: Tensor) -> None:
        """Raises ValueError unless this constraint can select from ``output``."""
        if self.shared_index is None and self.per_example_index is None:
            if output.dim() not in (1, 2):
                raise ValueError(
                    "target=None constrains all outputs and needs a (batch, K) or (batch,) "
                    f"model output, got shape {tuple(output.shape)}; pass a target"
                )
            return
        index = (
            torch.tensor([self.shared_index])
            if self.per_example_index is None
            else self.per_example_index
        )
        if index.shape[1] > output.dim() - 1:
            raise ValueError(
                f"target {self.target!r} has {index.shape[1]} indices but the model "
                f"output of shape {tuple(output.shape)} has {output.dim() - 1} "
                "non-batch dimensions"
            )
        for dim in range(index.shape[1]):
            size = output.shape[dim + 1]
            if ((index[:, dim] < -size) | (index[:, dim] >= size)).any():
                raise ValueError(
                    f"target {self.target!r} is out of range for model output of shape "
                    f"{tuple(output.shape)}: accepted indices are -{size}..{size - 1} "
                    "(negative ones count from the end, as in Captum)"
                )

    def select(self, output: Tensor, examples: slice, n_draws: int) -> Tensor:
        """Returns the constrained outputs as ``(rows, K')``.

        Args:
            output (Tensor): Transformed model output (see :meth:`transform`)
                        of ``n_draws`` draws of the examples in ``examples``,
                        sample-major.
            examples (slice): Which examples of the batch the rows belong to.
            n_draws (int): Number of draws per example in ``output``.
        """
        if self.shared_index is not None:
            output = output[(slice(None),) + self.shared_index]
        elif self.per_example_index is not None:
            index = self.per_example_index[examples].to(output.device).repeat(n_draws, 1)
            rows = torch.arange(output.shape[0], device=output.device)
            output = output[(rows,) + index.unbind(1)]
        return output.reshape(output.shape[0], -1)

    def with_tolerance(self, tolerance: float) -> OutputConstraint:
        """A copy holding the same outputs to another tolerance (a tolerance path's point)."""
        copy = object.__new__(OutputConstraint)
        copy.__dict__.update(self.__dict__)
        copy.tolerance = tolerance
        return copy

    def change(self, clean: Tensor, noisy: Tensor, examples: slice) -> Tensor:
        """Per row and held output, ``|y_k - y'_k|`` in the constraint's units, ``(rows, K')``.

        Args:
            clean (Tensor): Selected clean outputs of the examples, ``(n, K')``.
            noisy (Tensor): Selected noisy outputs, ``(n_draws * n, K')``,
                        sample-major.
            examples (slice): Which examples of the batch ``clean`` holds.
        """
        change = (noisy.unflatten(0, (-1, clean.shape[0])) - clean).abs()
        if self.output_scale is not None:
            change = change / self.output_scale[examples].unsqueeze(-1)
        return change.flatten(0, 1)

    def violation(self, clean: Tensor, noisy: Tensor, examples: slice) -> Tensor:
        """Per row: ``penalty * sum_k max(|y_k - y'_k| - a, 0)`` (arguments of :meth:`change`)."""
        hinge = (self.change(clean, noisy, examples) - self.tolerance).clamp_min(0).sum(-1)
        return hinge if self.penalty == 1.0 else hinge * self.penalty


def _all_ints(values: Sequence[object]) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)

"""What an explanation call may and may not do to the caller's model.

Nothing of the model survives a call changed: no hook (the mask units only
live inside context managers), no ``requires_grad`` or ``.grad`` (the levels'
gradients come from ``torch.autograd.grad``), no ``training`` flag (never
touched) and, here, no buffer: a model left in training mode would fold the
noisy batches into its BatchNorm running statistics, so every buffer is
copied before the call and written back after it, whatever happens inside.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["preserved", "explained_module", "random_in_training"]

#: Modules whose output is random or batch-dependent in training mode.
_TRAINING_SENSITIVE = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._NormBase)


def explained_module(forward_func: Callable[..., Any]) -> nn.Module | None:
    """The module behind ``forward_func``: itself, a bound method's owner, or ``None``.

    ``nn.DataParallel`` and ``DistributedDataParallel`` wrappers are looked
    through (their replicas run the wrapped module's code).
    """
    module = forward_func if isinstance(forward_func, nn.Module) else None
    if module is None and isinstance(getattr(forward_func, "__self__", None), nn.Module):
        module = forward_func.__self__  # type: ignore[attr-defined]
    while isinstance(module, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        module = module.module
    return module


def random_in_training(model: nn.Module) -> list[str]:
    """Names of the dropout and normalisation layers left in training mode."""
    return [
        name or type(m).__name__
        for name, m in model.named_modules()
        if m.training and isinstance(m, _TRAINING_SENSITIVE)
    ]


@contextmanager
def preserved(
    model: nn.Module | None, forward_func: Callable[..., Any], warn: bool = True
) -> Iterator[None]:
    """Warns about a model in training mode and restores its buffers on exit.

    Args:
        model (nn.Module, optional): The explained module (``None`` for a
                    plain function: nothing to guard).
        forward_func (Callable): What the explainer calls.
        warn (bool, optional): Warn about training mode (once per call: a
                    step that runs before the guarded learning says nothing).
                    Default: True
    """
    module = explained_module(forward_func) if model is None else explained_module(model)
    if module is None:
        yield
        return
    training = random_in_training(module)
    if training and warn:
        shown = ", ".join(training[:3]) + (" ..." if len(training) > 3 else "")
        warnings.warn(
            f"layers of the model are in training mode ({shown}): dropout and batch "
            "statistics make its outputs random, so maps and certificates are too; call "
            "model.eval() before explaining (the running statistics are restored after "
            "this call)",
            stacklevel=6,
        )
    saved = _buffers(module) if training else []
    try:
        yield
    finally:
        with torch.no_grad():
            for buffer, copy in saved:
                buffer.copy_(copy)


def _buffers(model: nn.Module) -> list[tuple[Tensor, Tensor]]:
    return [(b, b.detach().clone()) for b in model.buffers()]

"""Forward hooks that live only inside a context."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn

__all__ = ["ForwardHook", "ForwardPreHook", "forward_hooks", "forward_pre_hooks"]

ForwardHook = Callable[[nn.Module, Any, Any], Any]
ForwardPreHook = Callable[[nn.Module, Any], Any]


@contextmanager
def forward_hooks(modules: Iterable[nn.Module], hook: ForwardHook) -> Iterator[None]:
    """Registers ``hook`` on every module for the duration of the context.

    The handles are removed in ``finally``, so no hook survives an exception
    (KeyboardInterrupt included) raised inside the context.
    """
    handles = []
    try:
        for module in modules:
            handles.append(module.register_forward_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()
        handles.clear()


@contextmanager
def forward_pre_hooks(modules: Iterable[nn.Module], hook: ForwardPreHook) -> Iterator[None]:
    """:func:`forward_hooks` for hooks that run before each module's forward."""
    handles = []
    try:
        for module in modules:
            handles.append(module.register_forward_pre_hook(hook))
        yield
    finally:
        for handle in handles:
            handle.remove()
        handles.clear()

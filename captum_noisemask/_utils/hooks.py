"""Forward hooks that live only inside a context."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from torch import nn
from torch.utils.hooks import RemovableHandle

__all__ = ["ForwardHook", "ForwardPreHook", "forward_hooks", "forward_pre_hooks"]

ForwardHook = Callable[[nn.Module, Any, Any], Any]
ForwardPreHook = Callable[[nn.Module, Any], Any]


def forward_hooks(modules: Iterable[nn.Module], hook: ForwardHook) -> AbstractContextManager[None]:
    """Registers ``hook`` on every module for the duration of the context.

    The handles are removed in ``finally``, so no hook survives an exception
    (KeyboardInterrupt included) raised inside the context.
    """
    return _registered(modules, lambda module: module.register_forward_hook(hook))


def forward_pre_hooks(
    modules: Iterable[nn.Module], hook: ForwardPreHook
) -> AbstractContextManager[None]:
    """:func:`forward_hooks` for hooks that run before each module's forward."""
    return _registered(modules, lambda module: module.register_forward_pre_hook(hook))


@contextmanager
def _registered(
    modules: Iterable[nn.Module], register: Callable[[nn.Module], RemovableHandle]
) -> Iterator[None]:
    handles = []
    try:
        for module in modules:
            handles.append(register(module))
        yield
    finally:
        for handle in handles:
            handle.remove()
        handles.clear()

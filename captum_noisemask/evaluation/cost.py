"""What a map costs: wall time, model evaluations and peak memory of one call.

The one cost harness of the project: ``compare``, ``bench-speed`` and
``reproduce`` all measure through :func:`measure_cost`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from .._utils.hooks import forward_hooks

__all__ = ["Cost", "measure_cost"]

_PROC_STATUS = Path("/proc/self/status")
_PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class Cost:
    """The price of one call, per map.

    Attributes:
        seconds_per_image (float): Wall time divided by the number of examples.
        evaluations_per_map (float): Examples the model saw (rows of every
                    forward call) divided by the number of examples explained.
        peak_memory_mib (float or None): Peak memory of the call above what
                    was in use when it started: CUDA's allocator counters
                    (``max_memory_allocated``) on a GPU; on Linux CPUs the
                    process's peak resident set (``VmHWM``), reset when the
                    call starts after freed heap pages are handed back to the
                    system, so memory an earlier call freed cannot hide this
                    call's. None where neither can be read.
    """

    seconds_per_image: float
    evaluations_per_map: float
    peak_memory_mib: float | None


def measure_cost(
    explain: Callable[[], Tensor],
    model: nn.Module,
    n_examples: int,
    device: str = "cpu",
    warm_up: bool = False,
) -> tuple[Tensor, Cost]:
    """Runs ``explain()`` once, timing it and counting the rows ``model`` is evaluated on.

    Args:
        explain (Callable): Computes the maps of ``n_examples`` examples.
        model (nn.Module): The module whose forward calls are counted.
        n_examples (int): How many examples ``explain`` explains.
        device (str, optional): Where it runs (``"cuda..."`` selects CUDA's
                    memory counters and synchronises before reading the clock).
                    Default: ``"cpu"``
        warm_up (bool, optional): Call ``explain`` once, unmeasured, first
                    (for short calls, where one-time costs such as thread-pool
                    start-up would dominate). Default: False

    Returns:
        *tuple*: the maps and their :class:`Cost`.

    Examples::

        >>> import torch
        >>> from torch import nn
        >>> from captum.attr import Saliency
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        >>> images, labels = torch.rand(5, 1, 2, 2), torch.tensor([0, 1, 2, 0, 1])
        >>> maps, cost = measure_cost(
        ...     lambda: Saliency(model).attribute(images, target=labels), model, len(images)
        ... )
        >>> cost.evaluations_per_map
        1.0
    """
    cuda = device.startswith("cuda")
    if warm_up:
        explain()
    rows = [0]

    def count(_module: nn.Module, args: tuple[object, ...], _output: object) -> None:
        first = args[0] if args else None
        rows[0] += int(first.shape[0]) if isinstance(first, Tensor) and first.dim() else 1

    baseline = _start_memory(cuda)
    with forward_hooks([model], count):
        start = time.perf_counter()
        maps = explain()
        if cuda:
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
    peak = _peak_memory(cuda, baseline)
    return maps, Cost(seconds / n_examples, rows[0] / n_examples, peak)


def _start_memory(cuda: bool) -> float | None:
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        return torch.cuda.memory_allocated() / 2**20
    _return_free_heap_pages()
    try:
        _PROC_CLEAR_REFS.write_text("5")  # resets VmHWM to the current resident size
        return _proc_mib("VmRSS")
    except OSError:
        return None


def _peak_memory(cuda: bool, baseline: float | None) -> float | None:
    if baseline is None:
        return None
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _proc_mib("VmHWM")
    return max(peak - baseline, 0.0)


def _return_free_heap_pages() -> None:
    """glibc's ``malloc_trim(0)``: without it, pages an earlier call freed stay resident
    and the next call reuses them without raising the resident set."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _proc_mib(field: str) -> float:
    found = re.search(rf"{field}:\s+(\d+) kB", _PROC_STATUS.read_text())
    if found is None:
        raise OSError(f"{field} missing from {_PROC_STATUS}")
    return int(found.group(1)) / 1024

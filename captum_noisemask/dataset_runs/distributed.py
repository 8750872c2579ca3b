"""torch.distributed plumbing for dataset runs: who am I, and wait for the others.

Launch with ``torchrun --nproc_per_node=K``; torchrun sets ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous variables that
:func:`process_group` reads. Without them everything runs as rank 0 of 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import torch
import torch.distributed as dist

__all__ = ["rank_and_world", "barrier", "process_group", "launched_by_torchrun"]


def launched_by_torchrun() -> bool:
    """Whether the environment describes a multi-process job (torchrun sets ``WORLD_SIZE``)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of the current process group, ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def barrier() -> None:
    """Waits for every rank (no-op without a process group)."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


@contextmanager
def process_group(timeout: timedelta = timedelta(hours=6)) -> Iterator[torch.device]:
    """Joins the torchrun job for the duration of the block, if there is one.

    Uses NCCL when CUDA is available (one GPU per local rank) and gloo
    otherwise. ``timeout`` bounds how long a rank waits at a barrier for a
    slower one: long, because ranks finish their shards at different times.

    Yields:
        *torch.device* this rank should compute on.
    """
    if not launched_by_torchrun():
        yield torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return
    cuda = torch.cuda.is_available()
    device = torch.device("cpu")
    if cuda:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timeout)
    try:
        yield device
    finally:
        dist.destroy_process_group()

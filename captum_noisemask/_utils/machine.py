"""Names the hardware a benchmark ran on, for its results file."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

__all__ = ["device_name", "machine_description"]


def device_name(device: str = "cpu") -> str:
    """The GPU's name for a CUDA device, else the CPU's model name (Linux ``/proc/cpuinfo``)."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def machine_description(device: str = "cpu") -> str:
    """What a results file says it ran on: the device's name, torch's threads and version."""
    return f"{device_name(device)}, {torch.get_num_threads()} threads, torch {torch.__version__}"

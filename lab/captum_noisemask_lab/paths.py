"""Files of a checkout that the benchmarks read, relative to the repository root."""

from pathlib import Path

__all__ = ["PAPER_MAPS"]

#: The committed paper-preset reference maps (``noisemask-lab make-paper-maps`` makes them).
PAPER_MAPS = Path("benchmarks/reference/paper_maps.npz")

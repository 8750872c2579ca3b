"""Files of the checkout the lab is installed from (``pip install -e lab``) that it reads."""

from pathlib import Path

__all__ = ["CHECKOUT", "PAPER_MAPS"]

#: The repository root: the lab package sits in its ``lab`` folder.
CHECKOUT = Path(__file__).resolve().parents[2]
#: The committed paper-preset reference maps (``noisemask-lab make-paper-maps`` makes them).
PAPER_MAPS = CHECKOUT / "benchmarks" / "reference" / "paper_maps.npz"

"""The committed paper-preset reference maps, refused when made with another model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..tasks import PreparedTask

__all__ = ["load_paper_maps"]


def load_paper_maps(path: Path, setup: PreparedTask) -> Any:
    """Loads ``path`` (an ``.npz`` written by ``noisemask-lab make-paper-maps``).

    Raises:
        ValueError: the maps were made with weights other than ``setup``'s:
                    comparing with them would measure two models, not two
                    presets.
    """
    reference = np.load(path)
    if str(reference["model_digest"]) != setup.state_digest():
        raise ValueError(
            f"the paper-preset maps in {path} were made with another model "
            f"({reference['model_digest']}, the cached one is {setup.state_digest()}); "
            "regenerate them with noisemask-lab make-paper-maps"
        )
    return reference

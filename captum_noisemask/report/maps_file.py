"""The maps file of a comparison (``maps.npz``): written by whoever compares methods (the
lab's ``compare`` and ``reproduce``), read by the report's comparison page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import Tensor

__all__ = ["save_maps"]


def save_maps(
    path: Path,
    images: Tensor,
    class_names: list[str],
    maps: dict[str, Tensor],
    signs: dict[str, str],
) -> None:
    """Writes a run's images, class names and maps (``method -> (N, 1, H, W)``) to ``path``.

    ``signs`` says, per method, how Captum's visualization reads its map
    (``"positive"`` or ``"absolute_value"``). Maps are stored as float16.
    """
    np.savez_compressed(
        path,
        images=images.cpu().numpy().astype(np.float32),
        class_names=np.array(class_names),
        methods=np.array(list(maps)),
        signs=np.array([signs[name] for name in maps]),
        maps=np.stack([m.detach().cpu().numpy() for m in maps.values()]).astype(np.float16),
    )

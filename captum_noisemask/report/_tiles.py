"""Pictures of maps as small tiles in sprite sheets: the input, the map, the map over the input.

Colours follow Captum's ``visualize_image_attr``: a ``"positive"`` map in
Greens, an ``"absolute_value"`` one in Blues, a signed (``"all"``) one from red
through white to green, blended at alpha 0.5 over the input drawn in grey
(``method="blended_heat_map"``). Captum scales a map to its 98th-percentile
cumulative value; NoiseMask's levels are absolute (0.5 is the line between
contributing and not), so those maps are drawn on the fixed scale 0 to 1.

Every example becomes a tile of at most :data:`MAX_TILE` pixels a side: the
last two dimensions are drawn as an image, a leading dimension of 3 as
colour and any other leading dimensions averaged; a 1-d example is a strip
one pixel high. Tiles go into sheets of :data:`PER_SHEET` (a 10 x 10 grid),
so a report of 10,000 maps loads 100 small files per kind, not 10,000.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch.nn import functional

from .._utils.compat import _initialize_cmap_and_vmin_vmax, _normalize_attr

__all__ = [
    "MAX_TILE",
    "PER_ROW",
    "PER_SHEET",
    "colour_map",
    "input_range",
    "tiles_of",
    "write_sheet",
]

#: The longest side of a tile, in pixels; larger examples are averaged down.
MAX_TILE = 64
#: Tiles per sprite sheet (a square grid).
PER_SHEET = 100
#: Tiles per row of a sheet.
PER_ROW = 10

Sign = Literal["positive", "absolute_value", "all"]


def colour_map(sign: Sign) -> tuple[np.ndarray, float, float]:
    """Captum's colours for ``sign``: a (256, 3) lookup table and its value range."""
    from matplotlib import colormaps
    from matplotlib.colors import Colormap

    cmap, vmin, vmax = _initialize_cmap_and_vmin_vmax(sign)
    resolved = cmap if isinstance(cmap, Colormap) else colormaps[cmap]
    table = resolved(np.linspace(0.0, 1.0, 256))[:, :3]
    return table.astype(np.float32), float(vmin), float(vmax)


def drawn_values(maps: np.ndarray, sign: Sign, absolute_scale: bool) -> np.ndarray:
    """The values a map is drawn with, ``(N, H, W)`` on the scale of ``sign``, full size.

    Args:
        maps (ndarray): ``(N, ...)`` maps.
        sign (str): How Captum would read them (see the module docstring).
        absolute_scale (bool): Keep the values as they are (NoiseMask's
                    levels, repeated over channels) instead of Captum's scaling
                    of each map to its own 98th-percentile value.
    """
    values = _as_pictures(np.asarray(maps, dtype=np.float32), downsample=False)
    if absolute_scale:
        return values.mean(-1)
    summed = values.sum(-1)  # Captum sums over channels
    return np.stack([_normalize_attr(v, sign) for v in summed])


def tiles_of(
    inputs: np.ndarray, values: np.ndarray, sign: Sign, shown_range: tuple[float, float]
) -> dict[str, np.ndarray]:
    """The three pictures of each example, as float RGB tiles ``(N, h, w, 3)`` in [0, 1].

    Args:
        inputs (ndarray): ``(N, ...)`` the explained inputs.
        values (ndarray): ``(N, H, W)`` their maps' :func:`drawn_values`.
        sign (str): The scale of ``values`` (its Captum colour map).
        shown_range (tuple of float): Input values drawn as black and white
                    (:func:`input_range` of the whole run, so that every
                    tile is drawn alike).

    Returns:
        *dict*: ``"input"``, ``"map"`` and ``"overlay"`` tiles.
    """
    pictures = _as_pictures(np.asarray(inputs, dtype=np.float32))
    small = _as_pictures(np.asarray(values, dtype=np.float32)[:, None])[..., 0]
    table, vmin, vmax = colour_map(sign)
    index = np.clip((small - vmin) / (vmax - vmin), 0.0, 1.0) * 255
    heat = table[np.rint(index).astype(np.int64)]
    low, high = shown_range
    shown = np.clip((pictures - low) / (high - low), 0, 1) if high > low else 0 * pictures
    grey = shown.mean(-1, keepdims=True)
    # imshow(cmap="gray") stretches each image to its own range before blending.
    least = grey.min(axis=(1, 2, 3), keepdims=True)
    spread = grey.max(axis=(1, 2, 3), keepdims=True) - least
    stretched = (grey - least) / np.maximum(spread, 1e-12)
    overlay = 0.5 * np.repeat(stretched, 3, -1) + 0.5 * heat
    colour = shown if shown.shape[-1] == 3 else np.repeat(shown, 3, -1)
    return {"input": colour, "map": heat, "overlay": overlay}


def input_range(inputs: np.ndarray, block: int = 1024) -> tuple[float, float]:
    """The values drawn black and white: [0, 1] when every input lies there, else min and max."""
    low, high = np.inf, -np.inf
    for start in range(0, len(inputs), block):
        chunk = np.asarray(inputs[start : start + block], dtype=np.float32)
        low, high = min(low, float(chunk.min())), max(high, float(chunk.max()))
    return (0.0, 1.0) if low >= 0.0 and high <= 1.0 else (low, high)


def write_sheet(tiles: np.ndarray, path: Path, per_row: int = PER_ROW) -> None:
    """Writes up to :data:`PER_SHEET` tiles ``(n, h, w, 3)`` as one PNG, row-major."""
    from PIL import Image

    n, height, width = tiles.shape[:3]
    rows = -(-n // per_row)
    canvas = np.zeros((rows * height, per_row * width, 3), dtype=np.uint8)
    as_bytes = np.rint(np.clip(tiles, 0.0, 1.0) * 255).astype(np.uint8)
    for cell, tile in enumerate(as_bytes):
        row, col = divmod(cell, per_row)
        canvas[row * height : (row + 1) * height, col * width : (col + 1) * width] = tile
    Image.fromarray(canvas).save(path, optimize=True)


def _as_pictures(batch: np.ndarray, downsample: bool = True) -> np.ndarray:
    """``(N, ...)`` examples as ``(N, h, w, c)`` pictures, c in {1, 3}, sides <= MAX_TILE."""
    if batch.ndim == 2:  # (N, D): one strip per example
        batch = batch[:, None, None, :]
    elif batch.ndim == 3:  # (N, H, W)
        batch = batch[:, None]
    elif batch.ndim > 4 or (batch.ndim == 4 and batch.shape[1] != 3):
        batch = batch.reshape(batch.shape[0], -1, *batch.shape[-2:]).mean(1, keepdims=True)
    height, width = batch.shape[-2:]
    scale = max(height, width) / MAX_TILE
    if downsample and scale > 1:
        size = (max(1, round(height / scale)), max(1, round(width / scale)))
        batch = functional.adaptive_avg_pool2d(torch.from_numpy(batch), size).numpy()
    return np.ascontiguousarray(batch.transpose(0, 2, 3, 1))

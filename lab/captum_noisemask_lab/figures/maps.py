"""Figures of the reproduction: the paper's Figure 6 and the side-by-side comparison.

A run's maps are saved first (:func:`captum_noisemask.report.save_maps`, the file the
report reads too) and the figures drawn from
that file (:func:`draw_figures`), so committed maps redraw the docs' figures
without the data or the model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from captum.attr import visualization
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

# The object-oriented API draws to files with no pyplot state and no GUI backend.
from matplotlib.figure import Figure
from torch import Tensor

__all__ = [
    "draw_figures",
    "draw_layer_maps",
    "plot_comparison",
    "plot_figure6",
    "plot_layer_maps",
    "save_layer_maps",
]

#: The method whose map :func:`plot_figure6` draws (as ``w = 1 - map``).
NOISEMASK = "NoiseMask"


def draw_figures(maps_path: Path, out: Path) -> None:
    """Draws ``figure6.png`` and ``comparison.png`` into ``out`` from a maps file
    (:func:`captum_noisemask.report.save_maps`)."""
    with np.load(maps_path) as saved:
        images = torch.from_numpy(saved["images"])
        names = [str(name) for name in saved["class_names"]]
        methods = [str(name) for name in saved["methods"]]
        signs = dict(zip(methods, (str(sign) for sign in saved["signs"]), strict=True))
        maps = dict(zip(methods, torch.from_numpy(saved["maps"].astype(np.float32)), strict=True))
    plot_figure6(images, 1.0 - maps[NOISEMASK], names, out / "figure6.png")
    plot_comparison(images, names, maps, signs, out / "comparison.png")


def plot_figure6(
    images: Tensor, non_contribution: Tensor, class_names: list[str], path: Path
) -> None:
    """Pairs of columns: input (its class) | non-contribution map ``w`` (red = non-contributing)."""
    n = images.shape[0]
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig = Figure(figsize=(2.2 * 2 * cols, 2.3 * rows))
    axes = fig.subplots(rows, 2 * cols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    shown = None
    for i in range(n):
        ax_in, ax_map = axes[i // cols, 2 * (i % cols)], axes[i // cols, 2 * (i % cols) + 1]
        ax_in.imshow(images[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        ax_in.set_title(f"input ({class_names[i]})", fontsize=9)
        shown = ax_map.imshow(non_contribution[i, 0].cpu().numpy(), cmap="jet", vmin=0, vmax=1)
        ax_map.set_title("non-contribution w", fontsize=9)
    fig.suptitle("Non-contributing pixels (red: w = 1, noise there leaves the outputs unchanged)")
    if shown is not None:
        fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01)
    fig.savefig(path, dpi=110, bbox_inches="tight")


def plot_comparison(
    images: Tensor,
    class_names: list[str],
    maps: dict[str, Tensor],
    signs: dict[str, str],
    path: Path,
) -> None:
    """Rows = images (class on the left); columns = input, then each method (Captum's drawing).

    Every method gets the same colour map: Captum would draw NoiseMask's
    positive-only maps in greens and the absolute-value maps in blues, which
    reads as two kinds of result. Captum scales each map to its own maximum,
    so one colour bar (0 to 1) serves every panel.
    """
    n, cols = images.shape[0], len(maps) + 1
    fig = Figure(figsize=(1.9 * cols + 0.6, 1.9 * n + 0.5))
    axes = fig.subplots(n, cols, squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(images[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        axes[i, 0].axis("off")
        if i == 0:
            axes[i, 0].set_title("input", fontsize=10)
        axes[i, 0].text(-4, 14, class_names[i], fontsize=11, va="center", ha="right")
        for j, (name, method_maps) in enumerate(maps.items(), start=1):
            attr = method_maps[i].permute(1, 2, 0).cpu().numpy()
            ax = axes[i, j]
            if np.abs(attr).max() == 0:  # Captum cannot normalise an all-zero map
                ax.imshow(np.zeros(attr.shape[:2]), cmap=_CMAP, vmin=0, vmax=1)
                ax.axis("off")
            else:
                visualization.visualize_image_attr(
                    attr,
                    method="heat_map",
                    sign=signs[name],
                    cmap=_CMAP,
                    plt_fig_axis=(fig, ax),
                    use_pyplot=False,
                )
            if i == 0:
                ax.set_title(name, fontsize=10)
    fig.suptitle(
        "Attribution maps of the same images (Captum's visualization; each map scaled to its "
        "maximum)",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 0.95, 1))
    bar = fig.colorbar(
        ScalarMappable(Normalize(0, 1), _CMAP),
        ax=axes.ravel().tolist(),
        fraction=0.015,
        pad=0.01,
    )
    bar.set_label("relevance (0 = none, 1 = the map's maximum)", fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")


#: One colour map for every method (see :func:`plot_comparison`).
_CMAP = "Blues"


def plot_layer_maps(images: Tensor, maps: dict[str, Tensor], path: Path) -> None:
    """One row per image: the image, then each map ``w`` upsampled to it (columns named by
    ``maps``' keys, e.g. ``"input"`` for the input map; red = non-contributing)."""
    n, columns = images.shape[0], 1 + len(maps)
    fig = Figure(figsize=(1.9 * columns, 1.9 * n))
    axes = fig.subplots(n, columns, squeeze=False)
    shown = None
    for i in range(n):
        axes[i, 0].imshow(images[i, 0].cpu().numpy(), cmap="gray")
        for j, (name, w) in enumerate(maps.items(), start=1):
            shown = axes[i, j].imshow(w[i, 0].cpu().numpy(), cmap="jet", vmin=0, vmax=1)
            if i == 0:
                axes[i, j].set_title(name, fontsize=8)
    axes[0, 0].set_title("image", fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    if shown is not None:
        fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.03, pad=0.01)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def save_layer_maps(path: Path, images: Tensor, maps: dict[str, Tensor]) -> None:
    """Images and their upsampled maps ``w`` by name, small enough to commit (float16)."""
    arrays: dict[str, np.ndarray] = {"images": images.cpu().numpy().astype(np.float16)}
    arrays.update({f"map:{name}": w.cpu().numpy().astype(np.float16) for name, w in maps.items()})
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def draw_layer_maps(maps_path: Path, out: Path) -> None:
    """:func:`plot_layer_maps` from a file :func:`save_layer_maps` wrote."""
    with np.load(maps_path) as saved:
        images = torch.from_numpy(saved["images"].astype(np.float32))
        maps = {
            key.removeprefix("map:"): torch.from_numpy(saved[key].astype(np.float32))
            for key in saved.files
            if key.startswith("map:")
        }
    plot_layer_maps(images, maps, out)

"""Figures of the reproduction: the paper's Figure 6 and the side-by-side comparison."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never opens a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from captum.attr import visualization  # noqa: E402
from matplotlib.cm import ScalarMappable  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from torch import Tensor  # noqa: E402

from ..evaluation.methods import ExplainedBatch, Method  # noqa: E402

__all__ = ["plot_figure6", "plot_comparison"]


def plot_figure6(images: Tensor, non_contribution: Tensor, labels: Tensor, path: Path) -> None:
    """Pairs of columns: input | non-contribution map ``w`` (red = non-contributing)."""
    n = images.shape[0]
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, 2 * cols, figsize=(2.2 * 2 * cols, 2.3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    shown = None
    for i in range(n):
        ax_in, ax_map = axes[i // cols, 2 * (i % cols)], axes[i // cols, 2 * (i % cols) + 1]
        ax_in.imshow(images[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        ax_in.set_title(f"input ({int(labels[i])})", fontsize=9)
        shown = ax_map.imshow(non_contribution[i, 0].cpu().numpy(), cmap="jet", vmin=0, vmax=1)
        ax_map.set_title("non-contribution w", fontsize=9)
    fig.suptitle("Non-contributing pixels (red: w = 1, noise there leaves the outputs unchanged)")
    if shown is not None:
        fig.colorbar(shown, ax=axes.ravel().tolist(), fraction=0.02, pad=0.01)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def plot_comparison(
    images: Tensor,
    labels: Tensor,
    methods: list[Method],
    results: dict[str, ExplainedBatch],
    path: Path,
) -> None:
    """Rows = digits; columns = input, then each method, drawn by Captum's visualization.

    Every method gets the same colour map: Captum would draw NoiseMask's
    positive-only maps in greens and the absolute-value maps in blues, which
    reads as two kinds of result. Captum scales each map to its own maximum,
    so one colour bar (0 to 1) serves every panel.
    """
    n, cols = images.shape[0], len(methods) + 1
    fig, axes = plt.subplots(n, cols, figsize=(1.9 * cols + 0.6, 1.9 * n + 0.5), squeeze=False)
    for i in range(n):
        axes[i, 0].imshow(images[i, 0].cpu().numpy(), cmap="gray", vmin=0, vmax=1)
        axes[i, 0].axis("off")
        if i == 0:
            axes[i, 0].set_title("input", fontsize=10)
        axes[i, 0].text(-4, 14, str(int(labels[i])), fontsize=11, va="center", ha="right")
        for j, method in enumerate(methods, start=1):
            attr = results[method.name].maps[i].permute(1, 2, 0).cpu().numpy()
            ax = axes[i, j]
            if np.abs(attr).max() == 0:  # Captum cannot normalise an all-zero map
                ax.imshow(np.zeros(attr.shape[:2]), cmap=_CMAP, vmin=0, vmax=1)
                ax.axis("off")
            else:
                visualization.visualize_image_attr(
                    attr,
                    method="heat_map",
                    sign=method.sign,
                    cmap=_CMAP,
                    plt_fig_axis=(fig, ax),
                    use_pyplot=False,
                )
            if i == 0:
                ax.set_title(method.name, fontsize=10)
    fig.suptitle(
        "Attribution maps of the same digits (Captum's visualization; each map scaled to its "
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
    plt.close(fig)


#: One colour map for every method (see :func:`plot_comparison`).
_CMAP = "Blues"

"""Figures of the benchmarks: pixel-flipping curves, the randomisation check, pattern maps."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# The object-oriented API draws to files with no pyplot state and no GUI backend.
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["plot_curves", "plot_randomisation", "plot_pattern_maps"]


def plot_curves(
    curves: dict[str, dict[str, list[float]]],
    layout: Sequence[tuple[str, str, str, bool]],
    path: Path,
) -> None:
    """Mean pixel-flipping curves: one panel per (curve kind, removal), one line per method."""
    fig = Figure(figsize=(11, 7.5))
    axes = fig.subplots(2, 2, sharex=True, sharey=True)
    titles = {"morf": "MoRF deletion (lower is better)", "lerf": "LeRF deletion (higher is better)"}
    for index, (key, kind, removal, _) in enumerate(layout):
        ax = axes[index % 2, index // 2]
        for name, method_curves in curves.items():
            ax.plot(method_curves["fractions"], method_curves[key], label=name, **_line(name))
        removed = "zero" if removal == "baseline" else "noise"
        ax.set_title(f"{titles[kind]}, removed = {removed}", fontsize=9)
        ax.grid(alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("fraction of pixels removed")
    for ax in axes[:, 0]:
        ax.set_ylabel("target probability (mean)")
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=4, fontsize=9)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=100)


def plot_randomisation(stages: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    """Absolute Spearman ρ with the trained model's maps as layers are randomised.

    A stage where most of a method's maps are constant has no score (the
    tables read "degenerate"): its point is left out, not drawn as a value.
    """
    fig = Figure(figsize=(9, 4.2))
    ax = fig.subplots()
    for name, per_stage in stages.items():
        labels = list(per_stage)
        means = [_defined_mean(per_stage[s]) for s in labels]
        ax.plot(range(len(labels)), means, marker="o", label=name, **_line(name))
    ax.set_xticks(range(len(labels)), [f"+{s.split('+')[-1]}" for s in labels])
    ax.set_xlabel("layers re-initialised, from the output down (cumulative)")
    ax.set_ylabel("absolute Spearman ρ of |map|\nvs the trained model's")
    ax.set_title("missing points: most maps constant, no score (see the table)", fontsize=9)
    ax.axhline(0, color="gray", lw=0.8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def _defined_mean(summary: dict[str, float]) -> float:
    undefined = summary.get("undefined", 0)
    return math.nan if undefined * 2 > summary["n"] + undefined else summary["mean"]


#: One colour per method in every evaluation figure.
_COLOURS = {
    "NoiseMask": "tab:blue",
    "Saliency": "tab:orange",
    "SmoothGrad": "tab:green",
    "Deep Taylor (LRP z+)": "tab:red",
    "DeepLift": "tab:purple",
    "Integrated Gradients": "tab:brown",
    "Occlusion": "tab:pink",
    "Random": "tab:gray",
}


def _line(name: str) -> dict[str, Any]:
    """Colour, width and dash of a method's line (variants share their method's colour)."""
    base = name.split(" (")[0] if name.startswith("NoiseMask") else name
    variant = base != name or name == "Random"
    return {
        "color": _COLOURS.get(base, "black"),
        "lw": 2.5 if base == "NoiseMask" else 1.2,
        "ls": "--" if variant else "-",
    }


def plot_pattern_maps(
    images: Any, boxes: Any, maps: dict[str, Any], path: Path, n_images: int = 3
) -> None:
    """The first ``n_images`` images with the pattern's box, and every method's map of them.

    Each map is shown by magnitude, scaled to its own maximum (the scores read
    ranks, not units).
    """
    n_images = min(n_images, len(images))
    columns = 1 + len(maps)
    fig = Figure(figsize=(1.6 * columns, 1.75 * n_images))
    axes = fig.subplots(n_images, columns, squeeze=False)
    for row in range(n_images):
        top, left, bottom, right = (int(v) for v in boxes[row])
        panels = [("input", images[row, 0])] + [
            (name, m[row].abs().sum(0)) for name, m in maps.items()
        ]
        for col, (name, panel) in enumerate(panels):
            ax = axes[row, col]
            peak = float(panel.max()) or 1.0
            shown = panel.detach().cpu().numpy()
            ax.imshow(shown, cmap="gray" if col == 0 else "viridis", vmin=0, vmax=peak)
            ax.add_patch(
                Rectangle(
                    (left - 0.5, top - 0.5), right - left, bottom - top, fill=False, color="red"
                )
            )
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name.replace(" (", "\n("), fontsize=8)
    fig.suptitle("Red box: the class pattern; maps by magnitude, each scaled to its maximum")
    fig.tight_layout()
    fig.savefig(path, dpi=90)

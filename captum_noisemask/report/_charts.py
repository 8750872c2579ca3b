"""Small static SVG charts for the report (no plotting library, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

__all__ = ["bar_chart", "histogram"]

_WIDTH, _HEIGHT, _LEFT, _BOTTOM, _TOP = 460, 240, 44, 64, 26


def bar_chart(labels: Sequence[str], values: Sequence[float], title: str, unit: str) -> str:
    """Vertical bars, one per label, values in [0, 1] read as percentages of ``unit``."""
    plot_w, plot_h = _WIDTH - _LEFT - 10, _HEIGHT - _BOTTOM - _TOP
    slot = plot_w / max(1, len(values))
    parts = [_frame(title, plot_h)]
    for k, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = _LEFT + k * slot
        shown = 0.0 if not np.isfinite(value) else float(value)
        height = plot_h * min(max(shown, 0.0), 1.0)
        y = _TOP + plot_h - height
        text = "no data" if not np.isfinite(value) else f"{100 * shown:.1f}%"
        parts.append(
            f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{height:.1f}" fill="#2e7d32"><title>{escape(label)}: {text} {unit}'
            "</title></rect>"
        )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{_TOP + plot_h + 12}" font-size="11" '
            f'text-anchor="end" transform="rotate(-40 {x + slot / 2:.1f} {_TOP + plot_h + 12})">'
            f"{escape(label)}</text>"
        )
    return _svg(title, parts)


def histogram(values: np.ndarray, title: str, bins: int = 20) -> str:
    """Counts of ``values`` in ``bins`` equal bins over [0, 1]."""
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(np.clip(finite, 0.0, 1.0), bins=bins, range=(0.0, 1.0))
    plot_w, plot_h = _WIDTH - _LEFT - 10, _HEIGHT - _BOTTOM - _TOP
    most = max(1, int(counts.max()) if counts.size else 1)
    slot = plot_w / bins
    parts = [_frame(title, plot_h, top_label=str(most), bottom_label="0")]
    for k, count in enumerate(counts):
        height = plot_h * count / most
        x, y = _LEFT + k * slot, _TOP + plot_h - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot - 1:.1f}" height="{height:.1f}" '
            f'fill="#0b5cad"><title>{edges[k]:.2f} to {edges[k + 1]:.2f}: {count}</title></rect>'
        )
    for tick in (0.0, 0.5, 1.0):
        x = _LEFT + tick * plot_w
        parts.append(
            f'<text x="{x:.1f}" y="{_TOP + plot_h + 14}" font-size="11" text-anchor="middle">'
            f"{tick:g}</text>"
        )
    return _svg(title, parts)


def _frame(title: str, plot_h: float, top_label: str = "100%", bottom_label: str = "0%") -> str:
    base = _TOP + plot_h
    return (
        f'<text x="{_LEFT}" y="16" font-size="13" font-weight="600">{escape(title)}</text>'
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{base}" stroke="#555"/>'
        f'<line x1="{_LEFT}" y1="{base}" x2="{_WIDTH - 10}" y2="{base}" stroke="#555"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + 4}" font-size="11" text-anchor="end">{top_label}</text>'
        f'<text x="{_LEFT - 4}" y="{base}" font-size="11" text-anchor="end">{bottom_label}</text>'
    )


def _svg(title: str, parts: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{escape(title)}">'
        + "".join(parts)
        + "</svg>"
    )

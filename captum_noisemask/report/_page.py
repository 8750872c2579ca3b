"""The report's HTML: one self-contained page (styles and script inline, no network)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import Any

import numpy as np

from ._tiles import Sign, colour_map

__all__ = ["colour_bar", "page", "settings", "table"]


def page(title: str, lead: str, body: str, data: dict[str, Any]) -> str:
    """The whole document; ``data`` goes into a JSON block that the script reads."""
    assets = resources.files(__package__).joinpath("assets")
    style = assets.joinpath("report.css").read_text(encoding="utf-8")
    script = assets.joinpath("report.js").read_text(encoding="utf-8")
    # "</" would end the script element early; JSON allows "<\/" for it.
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>\n{style}</style>\n</head>\n<body>\n"
        f'<header><h1>{escape(title)}</h1><p class="lead">{lead}</p></header>\n'
        f"<main>\n{body}\n</main>\n"
        f'<script type="application/json" id="report-data">{payload}</script>\n'
        f"<script>\n{script}</script>\n</body>\n</html>\n"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[object]], numbers: bool = False) -> str:
    """A plain table; every cell escaped."""
    head = "".join(f'<th scope="col">{escape(str(cell))}</th>' for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    kind = ' class="numbers"' if numbers else ""
    return f"<table{kind}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def settings(rows: Sequence[tuple[str, object]]) -> str:
    """A two-column table of a run's settings."""
    cells = "".join(
        f'<tr><th scope="row">{escape(name)}</th><td>{escape(str(value))}</td></tr>'
        for name, value in rows
    )
    return f'<table class="settings"><tbody>{cells}</tbody></table>'


def colour_bar(sign: Sign, low: str, high: str) -> str:
    """Captum's colours for ``sign`` as a CSS gradient, with what its two ends mean."""
    table_, _, _ = colour_map(sign)
    stops = ", ".join(
        "rgb({:.0f}, {:.0f}, {:.0f}) {:.0f}%".format(*(255 * table_[k]), 100 * k / 255)
        for k in np.linspace(0, 255, 11).astype(int)
    )
    return (
        f'<div class="colour-bar"><span>{escape(low)}</span>'
        f'<span class="bar" role="img" aria-label="colour bar from {escape(low)} to '
        f'{escape(high)}" style="background: linear-gradient(to right, {stops})"></span>'
        f"<span>{escape(high)}</span></div>"
    )

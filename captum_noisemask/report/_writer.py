"""Writes ``report/index.html`` for a dataset run or a comparison, from its files alone."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..dataset_runs.runner import DatasetResults, load_results
from . import _page as page
from ._charts import bar_chart, histogram
from ._tiles import PER_ROW, PER_SHEET, Sign, drawn_values, input_range, tiles_of, write_sheet

__all__ = ["write_report"]

#: Maps per page of the grid: a page draws at most this many thumbnails.
PAGE_SIZE = 200
_TILES = "tiles"
_NOISEMASK = "NoiseMaskAttribution"


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Writes an offline HTML report of ``run_dir`` and returns its ``index.html``.

    A finished ``explain-dataset`` run (``index.json``) gets a browsable grid
    of every map with filters, sorting, a detail view and summary charts; a
    ``compare`` or ``reproduce`` run (``results.json`` or ``summary.json``)
    gets its images across every method side by side (from ``maps.npz``) and
    its tables. The page opens from disk with no server and no network: its
    styles and script are inline and its pictures are PNG sprite sheets
    beside it.

    Args:
        run_dir (str or Path): The run's output directory.
        out (str or Path, optional): Where to write the report.
                    Default: ``run_dir / "report"``

    Returns:
        *Path*: the report's ``index.html``.

    Raises:
        ValueError: ``run_dir`` holds no finished run of either kind, or its
                    arrays are damaged.

    Examples::

        >>> import tempfile, torch
        >>> from captum_noisemask import LabelledImages, NoiseMaskAttribution
        >>> from captum_noisemask.dataset_runs.runner import attribute_dataset
        >>> from captum_noisemask.report import write_report
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval()
        >>> images = LabelledImages(torch.rand(5, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1]))
        >>> run = tempfile.mkdtemp()
        >>> _ = attribute_dataset(NoiseMaskAttribution(model), images, run, batch_size=5,
        ...                       attribute_kwargs={"preset": "coarse", "seed": 0})
        >>> write_report(run).name
        'index.html'
    """
    run_dir = Path(run_dir)
    target = Path(out) if out is not None else run_dir / "report"
    if (run_dir / "index.json").exists():
        results = load_results(run_dir)
        build = lambda folder: _dataset_page(results, folder)  # noqa: E731
    elif (run_dir / "results.json").exists() or (run_dir / "summary.json").exists():
        build = lambda folder: _comparison_page(run_dir, folder)  # noqa: E731
    else:
        raise ValueError(
            f"{run_dir}: no finished run here: neither an explain-dataset run (index.json) nor "
            "a compare or reproduce run (results.json or summary.json)"
        )
    shutil.rmtree(target / _TILES, ignore_errors=True)
    (target / _TILES).mkdir(parents=True)
    html = build(target / _TILES)
    (target / "index.html").write_text(html, encoding="utf-8")
    return target / "index.html"


def _dataset_page(results: DatasetResults, folder: Path) -> str:
    index = results.index
    n = len(results.labels)
    noisemask = index.get("method") == _NOISEMASK
    sign: Sign = "positive" if noisemask else "absolute_value"
    flip = noisemask and index.get("highlight") == "non_contributing"
    shown_range = input_range(results.inputs)
    area = np.empty(n, dtype=np.float64)
    tile_shape = (1, 1)
    for sheet, start in enumerate(range(0, n, PER_SHEET)):
        stop = min(n, start + PER_SHEET)
        maps = np.asarray(results.maps[start:stop], dtype=np.float32)
        values = drawn_values(1.0 - maps if flip else maps, sign, absolute_scale=noisemask)
        area[start:stop] = (np.abs(values) > 0.5).mean(axis=(1, 2))
        tiles = tiles_of(np.asarray(results.inputs[start:stop]), values, sign, shown_range)
        for kind, pictures in tiles.items():
            write_sheet(pictures, folder / f"{kind}-{sheet:04d}.png")
        tile_shape = tiles["overlay"].shape[1:3]
    labels = np.asarray(results.labels)
    predicted = np.asarray(results.predicted)
    names = _class_names(index, int(max(labels.max(), predicted.max())) + 1)
    masked = np.asarray(results.within_lower_masked, dtype=np.float64)
    plain = np.asarray(results.within_lower_plain, dtype=np.float64)
    data = {
        "kind": "dataset",
        "page_size": PAGE_SIZE,
        "classes": names,
        "tile": {
            "height": int(tile_shape[0]),
            "width": int(tile_shape[1]),
            "per_sheet": PER_SHEET,
            "per_row": PER_ROW,
            "folder": _TILES,
        },
        "items": {
            "label": labels.tolist(),
            "predicted": predicted.tolist(),
            "target": np.asarray(results.targets).tolist(),
            "area": np.round(area, 4).tolist(),
            "masked": _rounded(masked),
            "plain": _rounded(plain),
            "delta": _rounded(np.asarray(results.deltas, dtype=np.float64), digits=6),
        },
    }
    certified = bool(np.isfinite(masked).any())
    legend = (
        page.colour_bar(sign, "0: non-contributing (full noise allowed)", "1: contributing")
        if noisemask
        else page.colour_bar(sign, "0", "the map's 98th-percentile value")
    )
    body = "\n".join(
        [
            _section("Run", page.settings(_run_settings(index, labels, predicted))),
            _section("Maps", _grid_controls(legend, names, certified)),
            _section("Summary", _summary(names, labels, predicted, area, masked, plain)),
            _DETAIL.replace("{legend}", legend),
        ]
    )
    right = float((labels == predicted).mean()) if n else float("nan")
    lead = escape(
        f"{n} maps of {index.get('method')} ({right:.1%} of the examples classified correctly). "
        "Pick a class, wrong predictions, a range of contributing area or weak certificates "
        "below; click a map, or press Enter on it, for its detail. Arrow keys move between maps."
    )
    return page.page(f"Dataset run: {n} maps", lead, body, data)


def _run_settings(
    index: dict[str, Any], labels: np.ndarray, predicted: np.ndarray
) -> list[tuple[str, object]]:
    kwargs = json.loads(index.get("attribute_kwargs", "{}") or "{}")
    draws = int(index.get("certify_draws", 0))
    return [
        ("method", index.get("method")),
        ("model (weights digest)", index.get("model")),
        ("preset", _schedule(kwargs.get("preset", "fast (the default)"))),
        ("explained problem", _problem(index)),
        ("attribute keywords", json.dumps(kwargs, sort_keys=True)),
        ("explained class", index.get("target")),
        ("examples (dataset digest)", f"{len(labels)} ({index.get('dataset')})"),
        ("correctly classified", f"{int((labels == predicted).sum())} of {len(labels)}"),
        ("certificate draws per map", draws or "none (explain-dataset --certify DRAWS)"),
        ("machine", index.get("machine", "not recorded")),
        ("finished", index.get("finished", "not recorded")),
    ]


def _schedule(preset: object) -> object:
    """A preset as the run recorded it: its name, or a custom schedule's draws and steps."""
    if isinstance(preset, dict) and "n_samples" in preset:
        return f"custom: {preset['n_samples']} draws x {preset['n_steps']} steps"
    return preset


def _problem(index: dict[str, Any]) -> str:
    """The problem the maps were learnt for, in the words the run recorded."""
    if index.get("method") != _NOISEMASK:
        return "not a NoiseMask run"
    description = index.get("problem_description")
    if description is None:
        return (
            "not recorded (a run written before the explainer held its problem); explain the "
            "dataset again into a new directory to record it"
        )
    return str(description)


def _summary(
    names: Sequence[str],
    labels: np.ndarray,
    predicted: np.ndarray,
    area: np.ndarray,
    masked: np.ndarray,
    plain: np.ndarray,
) -> str:
    classes = sorted(set(labels.tolist()))
    means = [float(area[labels == c].mean()) for c in classes]
    wrong = [
        float(((labels != predicted) & (labels == c)).sum() / (labels == c).sum()) for c in classes
    ]
    shown = [names[c] for c in classes]
    figures = [
        _figure(
            bar_chart(shown, means, "Mean contributing area per true class", "of the positions"),
            "Share of each map's positions marked contributing (level above 0.5), averaged over "
            "the examples of each class.",
        ),
        _figure(
            bar_chart(shown, wrong, "Wrong predictions per true class", "of the class"),
            "Share of each class's examples that the model gets wrong.",
        ),
        _figure(
            histogram(area, "Contributing area of every map"),
            "How many maps mark a given share of their positions contributing.",
        ),
    ]
    if np.isfinite(masked).any():
        figures.append(
            _figure(
                histogram(masked, "Certificate lower bound, masked network"),
                "Per map: the 95% lower bound on the share of fresh draws at the map's levels "
                "that keep every held output within the tolerance, with the mask units on.",
            )
        )
        figures.append(
            _figure(
                histogram(plain, "Certificate lower bound, plain model"),
                "The same bound on the unmodified model (no mask units).",
            )
        )
    else:
        figures.append(
            '<p class="note">No certificates: run explain-dataset with --certify 1000 to '
            "measure each map's claim.</p>"
        )
    return f'<div class="charts">{"".join(figures)}</div>'


def _grid_controls(legend: str, names: Sequence[str], certified: bool) -> str:
    options = "".join(
        f'<option value="{c}">{escape(name)}</option>' for c, name in enumerate(names)
    )
    bound = (
        '<label>Certificate bound below <input id="f-bound" type="number" min="0" max="1" '
        'step="0.01" placeholder="any"></label>'
        if certified
        else '<input id="f-bound" type="hidden" value="">'
    )
    sorts = [
        ("index", "example number"),
        ("klass", "true class"),
        ("area-down", "largest area"),
        ("area-up", "smallest area"),
    ]
    if certified:
        sorts += [("bound-up", "weakest certificate"), ("bound-down", "strongest certificate")]
    sort_options = "".join(f'<option value="{key}">{label}</option>' for key, label in sorts)
    return f"""{legend}
<p class="note">Each thumbnail is the map over its input (Captum's blended heat map); the caption
gives the example number, its true class (an arrow and "wrong" when the prediction differs) and
the share of positions marked contributing.</p>
<form id="controls" class="controls" aria-label="Filter and sort the maps">
<label>True class <select id="f-class"><option value="">all</option>{options}</select></label>
<label>Prediction <select id="f-correct"><option value="">all</option>
<option value="correct">correct</option><option value="wrong">wrong</option></select></label>
<label>Contributing area from (%) <input id="f-area-min" type="number" min="0" max="100"
step="1" value="0"></label>
<label>to (%) <input id="f-area-max" type="number" min="0" max="100" step="1" value="100"></label>
{bound}
<label>Sort by <select id="sort">{sort_options}</select></label>
</form>
<p id="count" role="status" aria-live="polite"></p>
<nav class="pager" aria-label="Pages"><button type="button" id="prev">Previous page</button>
<span id="page"></span><button type="button" id="next">Next page</button></nav>
<ul id="grid" class="grid" aria-label="Maps"></ul>"""


_DETAIL = """<dialog id="detail" aria-labelledby="detail-title">
<h2 id="detail-title">Example</h2>
<div class="panels">
<figure><span id="detail-input" role="img"></span><figcaption>input</figcaption></figure>
<figure><span id="detail-map" role="img"></span><figcaption>map</figcaption></figure>
<figure><span id="detail-overlay" role="img"></span><figcaption>map over the input</figcaption>
</figure>
</div>
{legend}
<table class="settings"><tbody id="detail-numbers"></tbody></table>
<p class="note">Left and right arrow keys step through the matching maps; Escape closes.</p>
<div class="dialog-buttons"><button type="button" id="detail-prev">Previous</button>
<button type="button" id="detail-next">Next</button>
<button type="button" id="detail-close">Close</button></div>
</dialog>"""


def _comparison_page(run_dir: Path, folder: Path) -> str:
    summary_file = run_dir / "results.json"
    if not summary_file.exists():
        summary_file = run_dir / "summary.json"
    summary = json.loads(summary_file.read_text())
    config = summary.get("config", {})
    rows: list[tuple[str, object]] = [
        ("machine", summary.get("machine", "not recorded")),
        ("data", summary.get("data", "not recorded")),
        ("model", summary.get("model", "not recorded")),
        ("held-out accuracy", f"{summary.get('held_out_accuracy', float('nan')):.2%}"),
        ("NoiseMask preset", summary.get("preset", config.get("preset", "not recorded"))),
    ]
    if "seconds" in summary:
        rows.append(("run time", f"{summary['seconds']:.0f} s"))
    parts = [_section("Run", page.settings(rows))]
    maps_file = run_dir / "maps.npz"
    if maps_file.exists():
        parts.append(
            _section("The same images across every method", _side_by_side(maps_file, folder))
        )
    else:
        parts.append(
            _section(
                "The same images across every method",
                '<p class="note">This run saved no maps.npz (runs of compare before it wrote '
                "one); run it again to see its maps here.</p>",
            )
        )
    # The tables in results.md's order; any other table after them.
    order = ["pixel_flipping", "robustness", "cost", "randomisation", "roar", "paper_preset"]
    tables = sorted(
        run_dir.glob("table_*.csv"),
        key=lambda path: (_rank(path.stem.removeprefix("table_"), order), path.name),
    )
    if tables:
        parts.append(_section("Tables", "\n".join(_csv_table(path) for path in tables)))
    kind = "Comparison" if summary_file.name == "results.json" else "Reproduction"
    lead = escape(
        f"{kind} run in {run_dir.name}: each row one image, each column one method's map over it "
        "(Captum's colours: greens for positive maps, blues for absolute values); then the "
        "run's tables."
    )
    return page.page(f"{kind}: {run_dir.name}", lead, "\n".join(parts), {"kind": "comparison"})


def _side_by_side(maps_file: Path, folder: Path) -> str:
    with np.load(maps_file) as saved:
        images = saved["images"].astype(np.float32)
        names = [str(name) for name in saved["class_names"]]
        methods = [str(name) for name in saved["methods"]]
        signs = [cast(Sign, str(sign)) for sign in saved["signs"]]
        maps = saved["maps"].astype(np.float32)
    shown_range = input_range(images)
    header = ['<th scope="col">class</th><th scope="col">input</th>']
    cells: list[list[str]] = [[] for _ in images]
    side = 96
    for m, (method, sign) in enumerate(zip(methods, signs, strict=True)):
        absolute = method.startswith("NoiseMask")
        values = drawn_values(maps[m], sign, absolute_scale=absolute)
        tiles = tiles_of(images, values, sign, shown_range)
        write_sheet(tiles["overlay"], folder / f"method{m}-0000.png")
        if m == 0:
            write_sheet(tiles["input"], folder / "input-0000.png")
            for i in range(len(images)):
                cells[i].append(
                    _sprite_cell(
                        "input", i, tiles["input"].shape[1:3], side, f"input {i} ({names[i]})"
                    )
                )
        header.append(f'<th scope="col">{escape(method)}</th>')
        for i in range(len(images)):
            cells[i].append(
                _sprite_cell(
                    f"method{m}",
                    i,
                    tiles["overlay"].shape[1:3],
                    side,
                    f"{method} map over input {i} ({names[i]})",
                )
            )
    body = "".join(
        f'<tr><th scope="row">{escape(names[i])}</th>{"".join(cells[i])}</tr>'
        for i in range(len(images))
    )
    bars = "".join(
        page.colour_bar(sign, "0", "1: the map's 98th-percentile value (NoiseMask: its level)")
        for sign in dict.fromkeys(signs)
    )
    return (
        f'{bars}<table class="side-by-side"><thead><tr>{"".join(header)}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def _sprite_cell(prefix: str, i: int, shape: tuple[int, ...], side: int, label: str) -> str:
    height, width = int(shape[0]), int(shape[1])
    scale = side / max(height, width)
    w, h = width * scale, height * scale
    col, row = i % PER_ROW, i // PER_ROW
    style = (
        f"width:{w:.0f}px;height:{h:.0f}px;background-image:url('{_TILES}/{prefix}-0000.png');"
        f"background-size:{PER_ROW * w:.0f}px auto;"
        f"background-position:{-col * w:.0f}px {-row * h:.0f}px"
    )
    span = f'<span class="sprite" role="img" aria-label="{escape(label)}" style="{style}"></span>'
    return f"<td>{span}</td>"


def _rank(name: str, order: list[str]) -> int:
    return order.index(name) if name in order else len(order)


def _csv_table(path: Path) -> str:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    title = path.stem.removeprefix("table_").replace("_", " ").capitalize()
    return f"<h3>{escape(title)}</h3>" + page.table(rows[0], rows[1:], numbers=True)


def _class_names(index: dict[str, Any], count: int) -> list[str]:
    names = index.get("class_names")
    if isinstance(names, list) and len(names) >= count:
        return [str(name) for name in names]
    return [str(c) for c in range(count)]


def _rounded(values: np.ndarray, digits: int = 4) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), digits) for v in values]


def _section(title: str, content: str) -> str:
    anchor = title.lower().replace(" ", "-")
    return (
        f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{escape(title)}</h2>'
        f"{content}</section>"
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"

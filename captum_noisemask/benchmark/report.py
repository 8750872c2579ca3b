"""Tables of the evaluation benchmark, as markdown (``results.md``) and CSV (for the docs)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

__all__ = ["result_tables", "markdown_report", "write_tables"]

_PIXEL_FLIPPING = [
    ("MoRF ↓ zero", "morf_baseline"),
    ("MoRF ↓ noise", "morf_uniform"),
    ("LeRF ↑ zero", "lerf_baseline"),
    ("LeRF ↑ noise", "lerf_uniform"),
]
_OTHER = [
    ("infidelity ↓", "infidelity"),
    ("max-sensitivity ↓", "max_sensitivity"),
    ("randomisation |ρ| ↓", "randomisation_abs_spearman"),
    ("ρ of signed maps", "randomisation_spearman_signed"),
    ("localisation AUROC ↑", "localisation_auroc"),
]

Table = list[list[str]]


def result_tables(results: dict[str, Any]) -> dict[str, tuple[str, Table]]:
    """Every table of a :func:`~captum_noisemask.benchmark.compare.compare` result.

    Returns:
        *dict*: file stem -> (title, rows); the first row is the header.
        Metric cells read ``mean ± half-width of the 95% confidence interval``.
    """
    metrics = results["metrics"]
    tables = {
        "pixel_flipping": (
            "Pixel flipping (area under the target-probability curve)",
            _metric_table(metrics, _PIXEL_FLIPPING),
        ),
        "robustness": ("Robustness, sanity and localisation", _metric_table(metrics, _OTHER)),
        "cost": ("Cost", _cost_table(metrics)),
        "randomisation": (
            "Cascading randomisation: |Spearman ρ| of |map| vs the trained model's, per stage",
            _stage_table(results["randomisation"]),
        ),
    }
    paper = results.get("paper_preset", {})
    if "metrics" in paper:
        title = (
            f"Paper preset vs fast preset on the {len(paper['digits'])} reference digits "
            "(all outputs held)"
        )
        tables["paper_preset"] = (title, _metric_table(paper["metrics"], _PIXEL_FLIPPING))
    if "roar" in results:
        fractions = results["roar"]["fractions"]
        rows = [["method", *(f"{f:.0%} removed" for f in fractions)]]
        for name, accuracies in results["roar"]["accuracy"].items():
            rows.append([name, *(f"{a:.3f}" for a in accuracies)])
        tables["roar"] = ("ROAR: accuracy after retraining without the top fraction", rows)
    return tables


def markdown_report(results: dict[str, Any]) -> str:
    """``results.md``: a heading, the run's facts, then every table."""
    lines = [
        "# Attribution methods on the paper's MNIST CNN",
        "",
        f"Machine: {results['machine']}; model held-out accuracy "
        f"{results['held_out_accuracy']:.2%}; run took {results['seconds']:.0f} s.",
    ]
    for title, rows in result_tables(results).values():
        lines += ["", f"## {title}", "", _markdown_row(rows[0])]
        lines.append("|" + " --- |" * len(rows[0]))
        lines += [_markdown_row(row) for row in rows[1:]]
    return "\n".join(lines) + "\n"


def write_tables(results: dict[str, Any], out: Path) -> None:
    """Writes ``results.md`` and one ``table_<name>.csv`` per table into ``out``."""
    (out / "results.md").write_text(markdown_report(results))
    for stem, (_, rows) in result_tables(results).items():
        with (out / f"table_{stem}.csv").open("w", newline="") as handle:
            csv.writer(handle).writerows(rows)


def _metric_table(metrics: dict[str, Any], columns: list[tuple[str, str]]) -> Table:
    rows = [["method", *(title for title, _ in columns)]]
    for name, scores in metrics.items():
        rows.append([name, *(_cell(scores.get(key)) for _, key in columns)])
    return rows


def _cost_table(metrics: dict[str, Any]) -> Table:
    rows = [["method", "seconds / image", "model evaluations / map", "peak memory (MiB)"]]
    for name, scores in metrics.items():
        memory = scores["peak_memory_mib"]
        rows.append(
            [
                name,
                f"{scores['seconds_per_image']:.4f}",
                f"{scores['evaluations_per_map']:.0f}",
                "n/a" if memory is None else f"{memory:.0f}",
            ]
        )
    return rows


def _stage_table(stages: dict[str, dict[str, dict[str, float]]]) -> Table:
    names = list(next(iter(stages.values())))
    rows = [["method", *(f"+{name.split('+')[-1]}" for name in names)]]
    for method, per_stage in stages.items():
        rows.append([method, *(_cell(per_stage[name]) for name in names)])
    return rows


def _cell(summary: dict[str, float] | None) -> str:
    """``mean ± ci``; examples whose value is undefined (constant maps) are counted, and a
    summary where most are undefined reads as degenerate, never as a score."""
    if summary is None:
        return "n/a"
    undefined = int(summary.get("undefined", 0))
    total = int(summary["n"]) + undefined
    if undefined and (undefined * 2 > total or math.isnan(summary["mean"])):
        return f"degenerate ({undefined} of {total} constant)"
    if math.isnan(summary["mean"]):
        return "n/a"
    cell = f"{summary['mean']:.3f} ± {summary['ci95']:.3f}"
    return f"{cell} ({undefined} of {total} constant)" if undefined else cell


def _markdown_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"

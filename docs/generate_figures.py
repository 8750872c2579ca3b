"""Regenerates the documentation's figures; ``docs/conf.py`` runs it at every build.

    python docs/generate_figures.py

- ``docs/_generated/reproduce/``: ``figure6.png``, ``comparison.png`` and the tutorial's
  ``claim.rst`` from the main job (``noisemask-lab reproduce``, fast preset, 8 held-out
  digits; skipped while its files exist);
- ``docs/_generated/evaluation/``: ``curves.png`` and ``randomisation.png`` drawn from the
  committed benchmark result ``benchmarks/results/compare/results.json`` (instant);
- ``docs/_generated/performance/``: the performance page's tables, read from the committed
  ``noisemask-lab bench-speed`` results in ``benchmarks/results/`` (instant);
- ``docs/_generated/fashion/``: ``figure6.png`` and ``comparison.png`` redrawn from the maps
  the committed Fashion-MNIST run saved (``benchmarks/results/fashion/reproduce/maps.npz``;
  instant, needs neither the data nor the model);
- ``docs/_generated/layers/``: the layer page's figures, redrawn from the maps
  ``noisemask-lab bench-layer-maps`` saved (``benchmarks/results/layer_maps/*_maps.npz``),
  and its tables, read from that command's and ``bench-key-tokens``' committed results
  (instant).

Nothing here is committed: ``docs/_generated/`` is git-ignored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path

DOCS = Path(__file__).resolve().parent
BENCHMARKS = DOCS.parent / "benchmarks" / "results"
RESULTS = BENCHMARKS / "compare" / "results.json"
FASHION_MAPS = BENCHMARKS / "fashion" / "reproduce" / "maps.npz"
#: The paper preset's forward+backward rows per image: N = 100 draws x 15,000 steps.
PAPER_ROWS = 100 * 15_000


def generate(docs: Path = DOCS) -> None:
    """Writes every figure the pages include."""
    from captum_noisemask_lab.benchmarks.reproduce import ReproduceConfig, reproduce
    from captum_noisemask_lab.figures.curves import plot_curves, plot_randomisation
    from captum_noisemask_lab.figures.maps import draw_figures, draw_layer_maps
    from captum_noisemask_lab.metrics.pixel_flipping import CURVES

    reproduced = docs / "_generated" / "reproduce"
    outputs = ("figure6.png", "comparison.png", "summary.json")
    if not all((reproduced / name).exists() for name in outputs):
        reproduce(ReproduceConfig(out=reproduced, show_progress=False), log=False)
    claim_sentence(json.loads((reproduced / "summary.json").read_text()), reproduced)
    evaluation = docs / "_generated" / "evaluation"
    evaluation.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text())
    plot_curves(results["curves"], CURVES, evaluation / "curves.png")
    plot_randomisation(results["randomisation"], evaluation / "randomisation.png")
    performance_tables(BENCHMARKS, docs / "_generated" / "performance")
    fashion = docs / "_generated" / "fashion"
    fashion.mkdir(parents=True, exist_ok=True)
    draw_figures(FASHION_MAPS, fashion)
    run_summary(json.loads((FASHION_MAPS.parent / "summary.json").read_text()), fashion)
    layers = docs / "_generated" / "layers"
    layers.mkdir(parents=True, exist_ok=True)
    for maps in sorted((BENCHMARKS / "layer_maps").glob("*_maps.npz")):
        draw_layer_maps(maps, layers / f"{maps.name.removesuffix('_maps.npz')}.png")
    layer_tables(BENCHMARKS, layers)


def layer_tables(results: Path, out: Path) -> None:
    """``layer_maps.csv`` and ``key_tokens.csv``: the layer page's tables, from the committed
    ``bench-layer-maps`` and ``bench-key-tokens`` results."""
    rows = []
    for path in sorted((results / "layer_maps").glob("*.json")):
        task = json.loads(path.read_text())
        for name, row in task.items():
            if name == "_about":
                continue
            rows.append(
                [
                    path.stem,
                    name,
                    " x ".join(str(n) for n in row["map_shape"]),
                    f"{row['far_background_non_contributing']:.1%}",
                    f"{row['object_contributing']:.1%}",
                ]
            )
    header = [
        "network",
        "noise at",
        "layer tensor",
        "far background non-contributing",
        "object contributing",
    ]
    _write(out / "layer_maps.csv", header, rows)
    key_tokens = json.loads((results / "key_tokens" / "results.json").read_text())
    rows = [
        [name, f"{row['key_token_first']:.1%}", f"{row['seconds_per_sequence'] * 1000:.1f}"]
        for name, row in key_tokens.items()
        if name != "_about"
    ]
    _write(out / "key_tokens.csv", ["method", "key token first", "ms per sequence"], rows)


def claim_sentence(summary: dict, out: Path) -> None:
    """``claim.rst``: the tutorial's reading of the run it shows, from that run's summary."""
    claim = summary["claim"]
    verdict = "reproduces" if summary["claim_reproduced"] else "does not reproduce"
    (out / "claim.rst").write_text(
        f"On the {len(summary['labels'])} digits of this run, "
        f"{claim['far_background_non_contributing']:.0%} of the far background (4 px or more "
        f"from any stroke pixel) is non-contributing and {claim['stroke_contributing']:.0%} of "
        "the stroke pixels are contributing: the run "
        f"{verdict} the paper's picture (both shares above 50%).\n"
    )


def run_summary(summary: dict, out: Path) -> None:
    """``summary.csv``: a ``reproduce`` run's accuracy, claim shares and times, from its summary."""
    claim = summary["claim"]
    rows = [
        ["data", summary["data"].split(" IDX files")[0]],
        ["model, held-out accuracy", f"{summary['model']}, {summary['held_out_accuracy']:.1%}"],
        ["machine", summary["machine"]],
        [
            "far background (>= 4 px from the object) marked non-contributing",
            f"{claim['far_background_non_contributing']:.1%}",
        ],
        ["object pixels marked contributing", f"{claim['stroke_contributing']:.1%}"],
    ]
    rows += [
        [f"seconds per image, {name}", f"{seconds:.3f}"]
        for name, seconds in summary["seconds_per_image"].items()
    ]
    _write(out / "summary.csv", ["quantity", "value"], rows)


def performance_tables(results: Path, out: Path) -> None:
    """Writes the performance page's CSV tables from the bench-speed JSON files."""
    out.mkdir(parents=True, exist_ok=True)
    cpu = json.loads((results / "speed_cpu.json").read_text())
    agreement = cpu["agreement"]
    rows = []
    for name, runs in agreement.items():
        for seed in ("seed 0", "seed 1"):
            a = runs[seed]
            rows.append(
                [
                    f"{name}, {seed}",
                    f"{a['draws_times_steps']:,}",
                    f"{PAPER_ROWS / a['draws_times_steps']:.0f}",
                    f"{a['seconds_per_image']:.2f}",
                    f"{a['min_iou']:.3f}",
                    f"{_mean(r['iou'] for r in a['per_digit']):.3f}",
                    f"{a['min_pearson']:.3f}",
                ]
            )
        floor = runs["seed 0 vs seed 1"]
        rows.append(
            [
                f"{name}, seed 0 vs seed 1",
                "",
                "",
                "",
                f"{floor['min_iou']:.3f}",
                "",
                f"{floor['min_pearson']:.3f}",
            ]
        )
    _write(
        out / "agreement.csv",
        [
            "preset, seed",
            "draws x steps",
            "paper's cost /",
            "s per image",
            "min IoU",
            "mean IoU",
            "min Pearson r",
        ],
        rows,
    )
    fast, faithful = agreement["fast"]["seed 0"], agreement["faithful"]["seed 0"]
    _write(
        out / "agreement_digits.csv",
        ["test index", "label", "fast IoU", "fast r", "faithful IoU", "faithful r"],
        [
            [
                f["test_index"],
                f["label"],
                f"{f['iou']:.3f}",
                f"{f['pearson']:.3f}",
                f"{g['iou']:.3f}",
                f"{g['pearson']:.3f}",
            ]
            for f, g in zip(fast["per_digit"], faithful["per_digit"], strict=True)
        ],
    )
    schedules = json.loads((results / "schedules_cpu.json").read_text())["schedules"]
    _write(
        out / "schedules.csv",
        ["schedule", "seed", "draws x steps", "min IoU", "mean IoU", "min Pearson r"],
        [
            [
                r["schedule"],
                r["seed"],
                f"{r['draws_times_steps']:,}",
                f"{r['min_iou']:.3f}",
                f"{r['mean_iou']:.3f}",
                f"{r['min_pearson']:.3f}",
            ]
            for r in schedules["schedules"]
        ],
    )
    seconds = cpu["time"]["seconds_per_image"]
    _write(
        out / "time.csv",
        ["method", "seconds per image", "fast preset / method"],
        [
            [name, f"{value:.5f}", f"{seconds['noisemask_fast'] / value:.1f}"]
            for name, value in seconds.items()
        ],
    )
    devices = [cpu] + [
        json.loads((results / f"speed_{gpu}.json").read_text()) for gpu in ("h200", "h100")
    ]
    _write(
        out / "paper_cost.csv",
        [
            "device",
            "seconds per step (1 digit, N = 100)",
            "implied seconds per digit",
            "bare forward+backward (s)",
            "step / bare",
        ],
        [
            [
                d["device"],
                f"{c['seconds_per_step']:.4f}",
                f"{c['implied_seconds_per_image']:.0f}",
                f"{c['bare_forward_backward_seconds']:.4f}",
                f"{c['step_overhead']:.2f}",
            ]
            for d in devices
            for c in [d["paper-cost"]]
        ],
    )
    step = cpu["resnet-step"]
    _write(
        out / "resnet_step.csv",
        ["device", "rows per step", "seconds per step", "bare fwd+bwd (s)", "step / bare"],
        [
            [
                cpu["device"],
                step["rows_per_step"],
                f"{step['seconds_per_step']:.3f}",
                f"{step['bare_forward_backward_seconds']:.3f}",
                f"{step['step_overhead']:.2f}",
            ]
        ],
    )
    big = cpu["big-images"]
    names = {
        "noisemask_coarse": "NoiseMask, coarse preset, 16-px grid",
        "occlusion_15x15_s8": "Occlusion 15x15, stride 8",
        "integrated_gradients_50": "Integrated Gradients, 50 steps",
        "smoothgrad_25": "SmoothGrad, 25 samples",
        "saliency": "Saliency",
    }
    models = [m for m in ("resnet18", "resnet50") if m in big]
    _write(
        out / "big_images.csv",
        ["method", *(f"{m}: s per image" for m in models), *(f"{m}: rows" for m in models)],
        [
            [
                label,
                *(f"{big[m]['seconds_per_image'][key]:.1f}" for m in models),
                *(f"{big[m]['evaluations_per_map'][key]:.0f}" for m in models),
            ]
            for key, label in names.items()
        ],
    )
    _write(
        out / "batch.csv",
        ["digits per call", "fast preset, seconds per image"],
        [[n, f"{t:.3f}"] for n, t in cpu["batch"]["seconds_per_image_by_batch"].items()],
    )
    _write(
        out / "internal_batch.csv",
        ["internal_batch_size", "faithful preset, seconds per image (8 digits per call)"],
        [
            [size, f"{t:.2f}"]
            for size, t in cpu["batch"]["faithful_seconds_per_image_by_internal_batch_size"].items()
        ],
    )
    rows = cpu["memory"]["peak_memory"]
    _write(
        out / "memory.csv",
        ["n_samples", "internal_batch_size=None (MiB)", "internal_batch_size=64 (MiB)"],
        [
            [n, *(f"{r['peak_mib']:.0f}" for r in rows if r["n_samples"] == n)]
            for n in dict.fromkeys(r["n_samples"] for r in rows)
        ],
    )


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items)


def _write(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


if __name__ == "__main__":
    generate()

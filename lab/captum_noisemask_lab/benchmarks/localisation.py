"""Localisation benchmark with a known answer: which pixels decide the class is known.

Usage::

    noisemask-lab bench-localisation --out benchmarks/results/localisation

For each image size (64 and 128 by default) it trains the pattern task's CNN
(:func:`~captum_noisemask_lab.tasks.patterns.pattern_task`: a class pattern among
distractor shapes; BatchNorm and in-place ReLUs), explains held-out images the network
classifies correctly with NoiseMask (fast preset; graded over a path of
tolerances; with a relative tolerance; on a 4x4 grid) and Occlusion,
SmoothGrad, Integrated Gradients, Saliency and a Random map, and scores every
map with the pointing game and the share of its top-64 pixels inside the
pattern's box, with 95% confidence intervals. It writes ``results.json``,
``results.md``, one ``table_<size>.csv`` per size (the docs' tables) and
``examples_<size>.png`` (maps of three images).
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency
from torch import Tensor, nn

from captum_noisemask._utils.machine import machine_description
from captum_noisemask.cli.command import Command
from captum_noisemask.evaluation.localisation import pointing_game, top_k_in_box
from captum_noisemask.evaluation.summary import format_summary, summarise
from captum_noisemask.presets import FAST

from ..figures.curves import plot_pattern_maps
from ..methods import Method, RandomAttribution, noisemask_methods, running_methods
from ..tasks import prepare
from ..tasks.patterns import pattern_split, pattern_task

__all__ = [
    "COMMAND",
    "LocalisationConfig",
    "ExplainedImages",
    "explained_images",
    "pattern_methods",
    "localisation_scores",
    "run",
]


@dataclass
class LocalisationConfig:
    """Sizes and seeds of :func:`run` (the ``bench-localisation`` options).

    Args:
        out (Path): Output directory.
        sizes (tuple[int, ...], optional): Image sides. Default: (64, 128)
        n_train (int, optional): Training images per size. Default: 4000
        epochs (int, optional): Training epochs. Default: 4
        n_test (tuple[int, ...], optional): Held-out images explained, one
                    count per size (the first correctly classified ones).
                    Default: (32, 12)
        seed (int, optional): Seeds data, training and every method. Default: 0
        cache (Path, optional): Weight cache directory; see
                    :func:`~captum_noisemask_lab.tasks.training.cache_dir`.
        n_steps (int, optional): NoiseMask's steps; None keeps the fast
                    preset's 150 (tests shorten it). Default: None
        show_progress (bool, optional): Print progress. Default: True
    """

    out: Path
    sizes: tuple[int, ...] = (64, 128)
    n_train: int = 4000
    epochs: int = 4
    n_test: tuple[int, ...] = (32, 12)
    seed: int = 0
    cache: Path | None = None
    n_steps: int | None = None
    show_progress: bool = True

    def quick(self) -> LocalisationConfig:
        """A small configuration for tests and smoke runs."""
        return replace(self, sizes=(64,), n_train=600, epochs=2, n_test=(6,))


def pattern_methods(
    model: nn.Module, size: int, seed: int = 0, n_steps: int | None = None
) -> list[Method]:
    """The line-up: four NoiseMask settings, four Captum methods and a Random map."""
    preset = FAST if n_steps is None else FAST.replace(n_steps=n_steps)
    noisemask: dict[str, Any] = {"seed": seed, "highlight": "contributing", "preset": preset}
    variants = [
        "NoiseMask",
        "NoiseMask (graded)",
        "NoiseMask (relative tolerance 0.1)",
        "NoiseMask (4x4 grid)",
    ]
    return [
        *noisemask_methods(variants, model, size, **noisemask),
        Method(
            "Occlusion (8x8, stride 4)",
            Occlusion(model),
            {"sliding_window_shapes": (1, 8, 8), "strides": (1, 4, 4)},
        ),
        Method(
            "SmoothGrad",
            NoiseTunnel(Saliency(model)),
            {"nt_type": "smoothgrad", "nt_samples": 25, "stdevs": 0.15, "abs": True},
        ),
        Method("Integrated Gradients", IntegratedGradients(model), {"n_steps": 50}),
        Method("Saliency", Saliency(model), {"abs": True}),
        Method("Random", RandomAttribution(model, seed), sign="positive"),
    ]


def run(config: LocalisationConfig) -> dict[str, Any]:
    """Trains, explains and scores every size; writes the files after each size.

    Sizes already in ``config.out/results.json`` from a run with the same
    training settings and seed are kept, so sizes can be run one at a time.
    """
    say: Callable[..., None] = (
        functools.partial(print, flush=True) if config.show_progress else (lambda *a: None)
    )
    if len(config.n_test) != len(config.sizes):
        raise ValueError(
            f"n_test needs one count per size: {len(config.sizes)} sizes, "
            f"{len(config.n_test)} counts"
        )
    config.out.mkdir(parents=True, exist_ok=True)
    settings = {"n_train": config.n_train, "epochs": config.epochs, "seed": config.seed}
    results: dict[str, Any] = {"settings": settings, "sizes": {}}
    earlier_path = config.out / "results.json"
    if earlier_path.exists():
        earlier = json.loads(earlier_path.read_text())
        if earlier.get("settings") == settings:
            results["sizes"] = earlier["sizes"]
    started = time.perf_counter()
    for size, n_test in zip(config.sizes, config.n_test, strict=True):
        say(f"[{time.perf_counter() - started:6.0f} s] {size}x{size}: training")
        results["sizes"][str(size)] = _one_size(size, n_test, config, say)
        results["sizes"] = dict(sorted(results["sizes"].items(), key=lambda kv: int(kv[0])))
        _write(results, config.out)
    say(f"wrote results.json, results.md, table_<size>.csv and examples_<size>.png to {config.out}")
    return results


def _write(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2))
    (out / "results.md").write_text(markdown_report(results))
    for side, rows in result_tables(results).items():
        with open(out / f"table_{side}.csv", "w", newline="") as handle:
            csv.writer(handle).writerows(rows)


@dataclass
class ExplainedImages:
    """The trained pattern CNN and the held-out images it classifies correctly."""

    model: nn.Module
    accuracy: float
    training_seconds: float
    images: Tensor
    labels: Tensor
    boxes: Tensor


def explained_images(size: int, n_test: int, config: LocalisationConfig) -> ExplainedImages:
    """Trains the classifier of one size and picks the first ``n_test`` correct test images.

    The same ``config`` gives the same data, weights and images, so a script
    trying other settings scores the maps :func:`run` scored.
    """
    n_held_out = max(4 * n_test, 200)
    task = pattern_task(size, config.n_train, n_held_out, config.seed, config.epochs)
    start = time.perf_counter()
    ready = prepare(task, cache=config.cache)
    model, accuracy = ready.trained.model, ready.trained.accuracy
    training_seconds = time.perf_counter() - start
    test = pattern_split(size, config.n_train, n_held_out, config.seed)[1]
    with torch.no_grad():
        correct = (model(test.data.images).argmax(1) == test.data.labels).nonzero()[:, 0]
    chosen = correct[:n_test]
    return ExplainedImages(
        model,
        accuracy,
        training_seconds,
        test.data.images[chosen],
        test.data.labels[chosen],
        test.boxes[chosen],
    )


def localisation_scores(maps: Tensor, boxes: Tensor) -> dict[str, Any]:
    """Pointing game, top-64 in box (both read by magnitude) and the count of constant maps."""
    magnitude = maps.abs()  # signed methods: evidence either way
    return {
        "pointing_game": summarise(pointing_game(magnitude, boxes)),
        "top_64_in_box": summarise(top_k_in_box(magnitude, boxes)),
        "constant_maps": int((maps.flatten(1).std(1) == 0).sum()),
    }


def _one_size(
    size: int, n_test: int, config: LocalisationConfig, say: Callable[..., None]
) -> dict[str, Any]:
    start = time.perf_counter()
    explained = explained_images(size, n_test, config)
    say(f"  accuracy {explained.accuracy:.1%} after {explained.training_seconds:.0f} s")
    images, labels = explained.images, explained.labels
    scores, shown = {}, {}
    with running_methods(constant_maps_expected=True):
        for method in pattern_methods(explained.model, size, config.seed, config.n_steps):
            say(f"  {method.name}")
            torch.manual_seed(config.seed)
            maps = method.explain(images, labels, 8)
            shown[method.name] = maps[:3]
            scores[method.name] = localisation_scores(maps, explained.boxes)
    plot_pattern_maps(images[:3], explained.boxes[:3], shown, config.out / f"examples_{size}.png")
    return {
        "machine": machine_description(),
        "seconds": time.perf_counter() - start,
        "accuracy": explained.accuracy,
        "training_seconds": explained.training_seconds,
        "n_explained": len(images),
        "box_share": 64 / size**2,
        "methods": scores,
    }


def result_tables(results: dict[str, Any]) -> dict[str, list[list[str]]]:
    """Per image size, the table's rows (the first is the header)."""
    tables = {}
    for size, run_ in results["sizes"].items():
        rows = [["method", "pointing game ↑", "top-64 in box ↑", "constant maps"]]
        for name, s in run_["methods"].items():
            rows.append(
                [
                    name,
                    format_summary(s["pointing_game"]),
                    format_summary(s["top_64_in_box"]),
                    str(s["constant_maps"]),
                ]
            )
        tables[size] = rows
    return tables


def markdown_report(results: dict[str, Any]) -> str:
    """``results.md``: one table per image size."""
    lines = [
        "# Localisation of a known pattern among distractors",
        "",
        "Cells: mean ± half-width of the 95% confidence interval over the explained images "
        "(held-out, correctly classified). Maps are read by magnitude, summed over channels; "
        "ties are shared fairly. Cost is measured by `compare` and `bench-speed`, not here. "
        "Command: `noisemask-lab bench-localisation`.",
    ]
    for size, rows in result_tables(results).items():
        run_ = results["sizes"][size]
        lines += [
            "",
            f"## {size} x {size}",
            "",
            f"Machine: {run_['machine']}; {run_['seconds']:.0f} s for this size. Classifier "
            f"accuracy {run_['accuracy']:.1%} (trained in {run_['training_seconds']:.0f} s); "
            f"{run_['n_explained']} images explained; "
            f"the 8x8 box covers {run_['box_share']:.2%} of the image (a constant map's score).",
            "",
            "| " + " | ".join(rows[0]) + " |",
            "| " + " | ".join("---" for _ in rows[0]) + " |",
            *("| " + " | ".join(row) + " |" for row in rows[1:]),
        ]
    return "\n".join(lines) + "\n"


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--out", type=Path, required=True, help="output directory")
    command.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="image sides")
    command.add_argument(
        "--images",
        type=int,
        nargs="+",
        default=[32, 12],
        help="held-out images explained: one count per size, or one for every size",
    )
    command.add_argument("--quick", action="store_true", help="one small size (a smoke test)")
    command.add_argument("--seed", type=int, default=0, help="seeds data, training and methods")


def _run(args: argparse.Namespace) -> None:
    for size in args.sizes:
        if size < 32:
            raise ValueError(f"--sizes: every size must be at least 32, got {size}")
    counts = args.images * len(args.sizes) if len(args.images) == 1 else args.images
    if len(counts) != len(args.sizes) or min(counts) < 1:
        raise ValueError(
            f"--images: one positive count per size ({len(args.sizes)}) or one for all, "
            f"got {args.images}"
        )
    config = LocalisationConfig(
        out=args.out, sizes=tuple(args.sizes), n_test=tuple(counts), seed=args.seed
    )
    run(config.quick() if args.quick else config)


COMMAND = Command(
    "bench-localisation",
    "train CNNs on a pattern-among-distractors task and score how well each method finds "
    "the pattern (pointing game, top-64 in box); write results.md/.json",
    _options,
    _run,
)

"""The map's own question, asked of every method of ``compare``: noise deletion.

    noisemask-lab bench-noise-deletion --task mnist --images 100
    noisemask-lab bench-noise-deletion --task fashion-resnet --images 16

Each method of :func:`~captum_noisemask_lab.methods.standard_methods` (NoiseMask, its
graded map, Saliency, SmoothGrad, Deep Taylor, DeepLift, Integrated Gradients, Occlusion and a
random map) explains the first held-out images, target = the label; then
:func:`~captum_noisemask.evaluation.noise_deletion_curve` puts full noise on the positions each
map ranks least relevant, 5% more at each of 20 steps, 100 draws each, on the plain model, and
counts the draws whose label output stays within 0.4 x the image's full-noise response and whose
decision is kept. Writes ``<task>.json`` and ``<task>.csv`` (area and certified fraction, mean
± 95% CI) to ``benchmarks/results/noise_deletion`` (``--out``).
"""

from __future__ import annotations

import argparse
import csv
import time

import torch

from captum_noisemask.cli.command import Command
from captum_noisemask.evaluation import format_summary, noise_deletion_curve, summarise

from ..methods import noisemask_methods, running_methods, standard_methods
from .trained_models import add_model_options, held_out, write_rows

__all__ = ["COMMAND"]


def _options(command: argparse.ArgumentParser) -> None:
    add_model_options(command, "mnist", 100, "benchmarks/results/noise_deletion")


def _run(args: argparse.Namespace) -> None:
    setup, images, labels = held_out(args)
    model = setup.trained.model
    rows: dict[str, dict] = {}
    with running_methods(constant_maps_expected=True):
        methods = standard_methods(model, include_random=True, include_graded=True)
        # The same map learnt on the plain model: is the gap the mask units'?
        methods[2:2] = noisemask_methods(["NoiseMask (no mask units)"], model, **methods[0].kwargs)
        for method in methods:
            if args.only and method.name not in args.only:
                continue
            torch.manual_seed(0)
            started = time.perf_counter()
            maps = method.explain(images, labels, 16)
            curve = noise_deletion_curve(model, images, maps, labels, seed=0)
            rows[method.name] = {
                "noise_deletion": summarise(curve.area()),
                "certified_fraction": summarise(curve.certified_fraction()),
                "curve": curve.kept.mean(0).tolist(),
                "seconds": time.perf_counter() - started,
            }
            print(
                f"{method.name:24s} area {format_summary(rows[method.name]['noise_deletion'])}"
                f"  certified {format_summary(rows[method.name]['certified_fraction'])}",
                flush=True,
            )
    rows = write_rows(args, "bench-noise-deletion", setup, rows)
    with (args.out / f"{args.task}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["method", "noise deletion ↑", "certified fraction ↑"])
        for name, row in rows.items():
            if name.startswith("_"):
                continue
            writer.writerow(
                [
                    name,
                    format_summary(row["noise_deletion"]),
                    format_summary(row["certified_fraction"]),
                ]
            )


COMMAND = Command(
    "bench-noise-deletion",
    "the map's own question asked of every method: full noise on the least relevant "
    "positions first; share of draws within the tolerance",
    _options,
    _run,
)

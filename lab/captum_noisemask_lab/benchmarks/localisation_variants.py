"""NoiseMask settings tried against the 64x64 pattern task, beyond the benchmark's four rows.

    noisemask-lab bench-localisation-variants          # every variant, 16 images
    noisemask-lab bench-localisation-variants --only "NoiseMask (128 draws per step)"

Same data, classifier and seed as ``noisemask-lab bench-localisation --sizes 64``, on the
first ``--images`` of its 32 images, with Integrated Gradients rescored on the same images as
the bar to reach. Each variant asks whether another reading of "the outputs stay within the
tolerance", or a better-converged optimisation, ranks the class pattern higher. Results are
merged by name into ``benchmarks/results/localisation/variants_64.csv`` (and ``.json``), so
variants can be run one at a time; about 45 minutes for all of them on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path
from typing import Any

import torch
from captum.attr import IntegratedGradients
from torch import Tensor

from captum_noisemask._utils.machine import machine_description
from captum_noisemask.cli.command import Command
from captum_noisemask.evaluation import format_summary

from ..methods import noisemask_methods, running_methods
from .localisation import ExplainedImages, LocalisationConfig, explained_images, localisation_scores

__all__ = ["COMMAND", "VARIANTS"]


#: The rows it runs, from the one list of NoiseMask variants.
VARIANTS = [
    "NoiseMask",
    "NoiseMask (levels as learnt)",
    "NoiseMask (graded, relative tolerance 0.1)",
    "NoiseMask (graded, relative tolerance 0.05, up to 16x)",
    "NoiseMask (label's margin over the runner-up)",
    "NoiseMask (centred logits)",
    "NoiseMask (log-probabilities, tolerance 0.1)",
    "NoiseMask (no mask units)",
    "NoiseMask (64 draws per step)",
    "NoiseMask (128 draws per step)",
    "NoiseMask (relative tolerance 0.1, 64 draws per step)",
    "NoiseMask (capped rule)",
    "NoiseMask (reward exponent 4)",
    "NoiseMask (capped rule, reward exponent 4)",
]


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--images", type=int, default=16, help="held-out images explained")
    command.add_argument(
        "--only", nargs="+", choices=VARIANTS, metavar="VARIANT", help="variants to run"
    )
    command.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/localisation"), help="output directory"
    )


def _run(args: argparse.Namespace) -> None:
    # The benchmark's own training settings and image choice.
    explained = explained_images(64, args.images, LocalisationConfig(out=args.out))
    print(f"classifier accuracy {explained.accuracy:.1%}", flush=True)
    with running_methods():
        _variants(args, explained)


def _variants(args: argparse.Namespace, explained: ExplainedImages) -> None:
    record_path = args.out / "variants_64.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {}
    if record.get("images") != args.images:
        record = {"images": args.images, "rows": {}}
    record["machine"] = machine_description()
    started = time.perf_counter()
    bar = IntegratedGradients(explained.model).attribute(
        explained.images, target=explained.labels, n_steps=50
    )
    record["rows"]["Integrated Gradients (the bar)"] = _row(bar, explained.boxes, started)
    for name in args.only or VARIANTS:
        started = time.perf_counter()
        torch.manual_seed(0)
        (method,) = noisemask_methods([name], explained.model, 64, seed=0)
        maps = method.explain(explained.images, explained.labels, 8)
        record["rows"][name] = _row(maps, explained.boxes, started)
        print(json.dumps({"variant": name, **record["rows"][name]}), flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        record_path.write_text(json.dumps(record, indent=2))
        _write_table(record, args.out / "variants_64.csv")


def _row(maps: Tensor, boxes: Tensor, started: float) -> dict[str, Any]:
    scores = localisation_scores(maps.detach(), boxes)
    return {**scores, "seconds": round(time.perf_counter() - started)}


def _write_table(record: dict[str, Any], path: Path) -> None:
    """Rows in :data:`VARIANTS` order, the bar first."""
    order = ["Integrated Gradients (the bar)", *VARIANTS]
    rows = [["setting", "pointing game ↑", "top-64 in box ↑", "seconds"]]
    for name in order:
        if name in record["rows"]:
            row = record["rows"][name]
            rows.append(
                [
                    name,
                    format_summary(row["pointing_game"]),
                    format_summary(row["top_64_in_box"]),
                    str(row["seconds"]),
                ]
            )
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)


COMMAND = Command(
    "bench-localisation-variants",
    "more NoiseMask settings on the 64x64 pattern task, against Integrated Gradients "
    "(about 45 minutes for all)",
    _options,
    _run,
)

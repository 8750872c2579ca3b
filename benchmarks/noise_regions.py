"""Where noise changes the pattern network's decision: the box, a ring around it, the rest.

    python benchmarks/noise_regions.py      # about a minute on 2 cores

Same data, classifier and 32 images as ``captum-noisemask bench-localisation --sizes 64
--images 32`` (see :mod:`captum_noisemask.benchmark.noise_regions`). Writes
``benchmarks/results/localisation/noise_regions.json`` and ``noise_regions.csv``, the table
docs/evaluation.rst includes.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import torch

from captum_noisemask._utils.machine import device_name
from captum_noisemask.benchmark.noise_regions import REGIONS, noise_region_effects
from captum_noisemask.benchmark.pattern_localisation import LocalisationConfig, explained_images
from captum_noisemask.evaluation import format_summary

OUT = Path(__file__).resolve().parent / "results" / "localisation"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32, help="held-out images probed")
    parser.add_argument("--draws", type=int, default=100, help="noise draws per image and region")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    explained = explained_images(64, args.images, LocalisationConfig(out=args.out))
    effects = noise_region_effects(
        explained.model, explained.images, explained.labels, explained.boxes, n_draws=args.draws
    )
    args.out.mkdir(parents=True, exist_ok=True)
    record = {
        "machine": f"{device_name()}, torch {torch.__version__}",
        "size": 64,
        "images": len(explained.images),
        "draws": args.draws,
        "effects": effects,
    }
    (args.out / "noise_regions.json").write_text(json.dumps(record, indent=2))
    rows = [
        ["masking", "region", "pixels", "decision kept", "label-logit change", "change per pixel"]
    ]
    for masking, regions in effects.items():
        for region in REGIONS:
            scores = regions[region]
            rows.append(
                [
                    masking,
                    region,
                    f"{scores['pixels']:.0f}",
                    format_summary(scores["decision_kept"], 2),
                    format_summary(scores["logit_change"], 2),
                    format_summary(scores["change_per_pixel"], 4),
                ]
            )
    with open(args.out / "noise_regions.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    for row in rows:
        print(" | ".join(row))


if __name__ == "__main__":
    main()

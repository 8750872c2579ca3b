"""The certificate and the guarantee on trained networks (the paper CNN, the Fashion ResNet).

    python benchmarks/certificate.py --task mnist --digits 16
    python benchmarks/certificate.py --task fashion-resnet --digits 8

Prints, per setting (the fast preset on its default problem or on the paper's, held to the
plain or the masked clean output, with and without ``guarantee=0.95``): the masked and plain
certificate (mean ``within``, the share of digits whose lower bound reaches 0.95), the
necessity, the far background's non-contributing share, the strokes' contributing share, and
seconds per digit; writes
``benchmarks/results/certificate/<task>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from bn_picture import (
    TASKS,
    prepare_task,
    regions,
)  # the same tasks and regions (benchmarks/ is on the path)

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask.evaluation import measure_cost

OUT = Path(__file__).resolve().parent / "results" / "certificate"
PAPER_PROBLEM = {"mask_rule": "paper", "tolerance": 1.0}
SETTINGS = {
    "default (reference rule, response 0.4)": {},
    "default, guarantee 0.95": {"guarantee": 0.95},
    "paper's problem (paper rule, 1.0 logit)": PAPER_PROBLEM,
    "paper's problem, held to masked": {**PAPER_PROBLEM, "held_to": "masked"},
    "paper's problem, held to masked, guarantee 0.95": {
        **PAPER_PROBLEM,
        "held_to": "masked",
        "guarantee": 0.95,
    },
    "paper's problem, guarantee 0.95": {**PAPER_PROBLEM, "guarantee": 0.95},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="mnist")
    parser.add_argument("--digits", type=int, default=16)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    setup = prepare_task(args.task)
    model = setup.trained.model
    images = setup.test_set.images[: args.digits]
    strokes, far = regions(images)
    explainer = NoiseMaskAttribution(model)
    rows = {}
    for name, settings in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        problem = {k: v for k, v in settings.items() if k != "guarantee"}
        maps, cost = measure_cost(
            lambda s=settings: explainer.attribute(images, seed=0, **s), model, len(images)
        )
        cert = explainer.certify(images, maps, seed=1, **problem)
        rows[name] = {
            "masked_within": float(cert.masked.within.mean()),
            "masked_bound_met": float((cert.masked.within_lower >= 0.95).double().mean()),
            "plain_within": float(cert.plain.within.mean()),
            "plain_bound_met": float((cert.plain.within_lower >= 0.95).double().mean()),
            "masked_decision_kept": float(cert.masked.decision_kept.mean()),
            "plain_decision_kept": float(cert.plain.decision_kept.mean()),
            "necessity": float(cert.necessity.mean()),
            "far_background_non_contributing": float((maps[far] < 0.5).double().mean()),
            "strokes_contributing": float((maps[strokes] > 0.5).double().mean()),
            "seconds_per_digit": cost.seconds_per_image,
            # Forward rows per map: a row of the optimisation also runs a backward pass.
            "model_rows_per_digit": cost.evaluations_per_map,
        }
        print(name, json.dumps(rows[name]), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{args.task}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous.update(rows)
    previous["_about"] = {
        "task": args.task,
        "digits": args.digits,
        "machine": "2-core AMD EPYC, torch " + torch.__version__,
        "command": f"python benchmarks/certificate.py --task {args.task} --digits {args.digits}",
    }
    path.write_text(json.dumps(previous, indent=2) + "\n")


if __name__ == "__main__":
    main()

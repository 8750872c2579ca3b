"""The certificate and the guarantee on trained networks (the paper CNN, the Fashion ResNet).

    captum-noisemask bench-certificate --task mnist --images 16
    captum-noisemask bench-certificate --task fashion-resnet --images 8

Prints, per setting (the fast preset on its default problem or on the paper's, held to the
plain or the masked clean output, with and without ``guarantee=0.95``): the masked and plain
certificate (mean ``within``, the share of digits whose lower bound reaches 0.95), the
necessity, the far background's non-contributing share, the strokes' contributing share, and
seconds per digit; writes ``<task>.json`` to ``benchmarks/results/certificate`` (``--out``).
"""

from __future__ import annotations

import argparse
import functools
import json
from typing import Any

from ...attribution import NoiseMaskAttribution
from ...evaluation import measure_cost
from ..command import Command
from .trained_models import add_model_options, held_out, object_regions, write_rows

__all__ = ["COMMAND", "SETTINGS"]

PAPER_PROBLEM = {"mask_rule": "paper", "tolerance": 1.0}
SETTINGS: dict[str, dict[str, Any]] = {
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


def _options(command: argparse.ArgumentParser) -> None:
    add_model_options(command, "mnist", 16, "benchmarks/results/certificate")


def _run(args: argparse.Namespace) -> None:
    setup, images, _ = held_out(args)
    model = setup.trained.model
    strokes, far = object_regions(images)
    explainer = NoiseMaskAttribution(model)
    rows = {}
    for name, settings in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        problem = {k: v for k, v in settings.items() if k != "guarantee"}
        maps, cost = measure_cost(
            functools.partial(explainer.attribute, images, seed=0, **settings), model, len(images)
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
    write_rows(args, "bench-certificate", setup, rows)


COMMAND = Command(
    "bench-certificate",
    "the certificate and the guarantee on trained networks: how often the maps keep their "
    "promise, and what it costs",
    _options,
    _run,
)

"""The certificate and the guarantee on trained networks (the paper CNN, the Fashion ResNet).

    noisemask-lab bench-certificate --task mnist --images 16
    noisemask-lab bench-certificate --task fashion-resnet --images 8

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

from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command
from captum_noisemask.core.problem import NoiseMaskProblem
from captum_noisemask.evaluation import measure_cost

from .trained_models import add_model_options, held_out, object_regions, write_rows

__all__ = ["COMMAND", "SETTINGS"]

_PAPER = NoiseMaskProblem.paper()
#: The rows: a problem and the guarantee ``attribute`` is called with (``None``: none).
SETTINGS: dict[str, tuple[NoiseMaskProblem, float | None]] = {
    "default (reference rule, response 0.4)": (NoiseMaskProblem(), None),
    "default, guarantee 0.95": (NoiseMaskProblem(), 0.95),
    "paper's problem (paper rule, 1.0 logit)": (_PAPER, None),
    "paper's problem, held to masked": (_PAPER.replace(held_to="masked"), None),
    "paper's problem, held to masked, guarantee 0.95": (_PAPER.replace(held_to="masked"), 0.95),
    "paper's problem, guarantee 0.95": (_PAPER, 0.95),
}


def _options(command: argparse.ArgumentParser) -> None:
    add_model_options(command, "mnist", 16, "benchmarks/results/certificate")


def _run(args: argparse.Namespace) -> None:
    setup, images, _ = held_out(args)
    model = setup.trained.model
    strokes, far = object_regions(images)
    rows = {}
    for name, (problem, guarantee) in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        explainer = NoiseMaskAttribution(model, problem)
        maps, cost = measure_cost(
            functools.partial(explainer.attribute, images, seed=0, guarantee=guarantee),
            model,
            len(images),
        )
        # A fixed certificate: these rows are shares to compare across runs, not decisions.
        cert = explainer.certify(images, maps, seed=1, bound_target=None)
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

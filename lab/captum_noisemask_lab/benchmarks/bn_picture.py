"""Right way up on BatchNorm networks? Mask rules and tolerances on Fashion-MNIST and MNIST.

    noisemask-lab bench-bn-picture --task fashion-resnet --images 16
    noisemask-lab bench-bn-picture --task mnist --images 16

Per setting: the far background's non-contributing share (0-valued pixels at least 2 pixels
from the object), the object's contributing share (pixels > 0.5), the zero-removal MoRF area
of the map and of a random map, and seconds per image. Writes ``<task>.json`` to
``benchmarks/results/bn_picture`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch

from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command
from captum_noisemask.core.problem import NoiseMaskProblem
from captum_noisemask.evaluation import deletion_curve

from .trained_models import add_model_options, held_out, object_regions, write_rows

__all__ = ["COMMAND", "SETTINGS"]

_PAPER_RULE = NoiseMaskProblem(mask_rule="paper")
_REFERENCE_RULE = NoiseMaskProblem(mask_rule="reference")
#: The rows: a problem (a mask rule and a tolerance) and a guarantee (``None``: none) each.
SETTINGS: dict[str, tuple[NoiseMaskProblem, float | None]] = {
    "paper rule, tolerance 1.0": (_PAPER_RULE.replace(tolerance=1.0, unit="output"), None),
    "paper rule, response 0.4": (_PAPER_RULE, None),
    "reference rule, tolerance 1.0": (
        _REFERENCE_RULE.replace(tolerance=1.0, unit="output"),
        None,
    ),
    "reference rule, response 0.4": (_REFERENCE_RULE, None),
    "reference rule, response 0.4, levels as learnt": (
        _REFERENCE_RULE.replace(order="levels"),
        None,
    ),
    "reference rule, response 0.3": (_REFERENCE_RULE.replace(tolerance=0.3), None),
    "reference rule, response 0.4, guarantee 0.95": (_REFERENCE_RULE, 0.95),
    "capped rule, response 0.4": (NoiseMaskProblem(mask_rule="capped"), None),
    "reference rule, response 0.4, reward exponent 4": (
        _REFERENCE_RULE.replace(reward_exponent=4.0),
        None,
    ),
    "capped rule, response 0.4, reward exponent 4": (
        NoiseMaskProblem(mask_rule="capped", reward_exponent=4.0),
        None,
    ),
}


def morf(
    model: torch.nn.Module, images: torch.Tensor, maps: torch.Tensor, target: torch.Tensor
) -> float:
    return float(deletion_curve(model, images, maps, target, "morf", "baseline").area().mean())


def _options(command: argparse.ArgumentParser) -> None:
    add_model_options(command, "fashion-resnet", 16, "benchmarks/results/bn_picture")


def _run(args: argparse.Namespace) -> None:
    setup, images, labels = held_out(args)
    model = setup.trained.model
    objects, far = object_regions(images)
    random_maps = torch.rand(images.shape, generator=torch.Generator().manual_seed(0))
    rows: dict[str, Any] = {"random map": {"morf_zero": morf(model, images, random_maps, labels)}}
    for name, (problem, guarantee) in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        explainer = NoiseMaskAttribution(model, problem)
        started = time.perf_counter()
        maps = explainer.attribute(images, target=labels, seed=0, guarantee=guarantee)
        seconds = (time.perf_counter() - started) / len(images)
        rows[name] = {
            "far_background_non_contributing": float((maps[far] < 0.5).double().mean()),
            "object_contributing": float((maps[objects] > 0.5).double().mean()),
            "morf_zero": morf(model, images, maps, labels),
            "seconds_per_image": seconds,
        }
        print(
            f"{name:48s}", json.dumps({k: round(v, 3) for k, v in rows[name].items()}), flush=True
        )
    print("random map", rows["random map"])
    write_rows(args, "bench-bn-picture", setup, rows)


COMMAND = Command(
    "bench-bn-picture",
    "mask rules and tolerances on BatchNorm networks: is the map the right way up "
    "(background non-contributing, object contributing)?",
    _options,
    _run,
)

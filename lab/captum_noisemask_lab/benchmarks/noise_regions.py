"""Where does noise change the decision? A probe of the localisation task's network.

NoiseMask's objective asks which pixels can be drowned in noise without moving
the outputs. On the pattern task (:mod:`.localisation`) the answer is
known where the *evidence* lies, not where noise does harm, and the two can
differ. This probe measures the latter directly, with no optimisation: it fills
one region of each image with full-strength noise ``U``, ``U ~ Uniform[-1, 1]``
(the noise of a map with ``w = 1`` there and 0 elsewhere), and records how often
the decision survives and how far the label's logit moves. The regions:

- ``box``: the class pattern's 8x8 box;
- ``ring``: the pixels within ``ring`` pixels of the box, outside it;
- ``rest``: everything else (distractors and background).

Each region is probed with NoiseMask's mask units (the paper's rule, as
:class:`~captum_noisemask.NoiseMaskAttribution` applies it) and without. A
region where noise changes nothing is one no NoiseMask map can rank high,
and a ring that moves the outputs about as much as the box does means the
map's contributing blob extends past the box.

Usage::

    noisemask-lab bench-noise-regions   # the 64x64 benchmark's network and 32 images

It writes ``noise_regions.json`` and ``noise_regions.csv`` (the table docs/evaluation.rst
includes) to ``benchmarks/results/localisation`` (``--out``).
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from captum_noisemask._utils.machine import machine_description
from captum_noisemask._utils.typing import Thresholds
from captum_noisemask.cli.command import Command
from captum_noisemask.core.mask_units import MaskUnits, resolve_thresholds
from captum_noisemask.evaluation.localisation import box_masks
from captum_noisemask.evaluation.summary import format_summary, summarise

from .localisation import LocalisationConfig, explained_images

__all__ = ["COMMAND", "REGIONS", "region_masks", "noise_region_effects"]

#: The regions probed, in table order.
REGIONS = ("box", "ring", "rest")


def region_masks(boxes: Tensor, height: int, width: int, ring: int = 3) -> dict[str, Tensor]:
    """``{region: (N, height, width) bool}``: the box, a ring around it, the rest.

    The three regions partition every image; the ring is clipped at the
    image's border.

    Args:
        boxes (Tensor): ``(N, 4)`` ``(top, left, bottom, right)``, bottom and
                    right exclusive.
        height (int): Image height.
        width (int): Image width.
        ring (int, optional): Width of the ring in pixels. Default: 3
    """
    if ring < 1:
        raise ValueError(f"ring must be a width of at least 1 pixel, got {ring}")
    box = box_masks(boxes, height, width)
    grown = boxes + torch.tensor([-ring, -ring, ring, ring])
    around = box_masks(grown, height, width) & ~box
    return {"box": box, "ring": around, "rest": ~(box | around)}


@torch.no_grad()
def noise_region_effects(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    boxes: Tensor,
    ring: int = 3,
    n_draws: int = 100,
    seed: int = 0,
    thresholds: Thresholds = None,
) -> dict[str, dict[str, dict[str, Any]]]:
    """Full noise in one region at a time, with NoiseMask's mask units and without.

    Args:
        model (nn.Module): A classifier of ``(N, 1, H, W)`` images, in eval mode.
        images (Tensor): ``(N, 1, H, W)`` images the model classifies correctly.
        labels (Tensor): ``(N,)`` their labels.
        boxes (Tensor): ``(N, 4)`` the evidence boxes.
        ring (int, optional): Width of the ring region. Default: 3
        n_draws (int, optional): Noise draws per image and region. Default: 100
        seed (int, optional): Seeds the noise. Default: 0
        thresholds (Mapping, float or None, optional): The mask units'
                    thresholds, as in
                    :class:`~captum_noisemask.NoiseMaskAttribution`; the
                    change is measured from the unmasked clean output, as
                    the objective does. Default: None (the paper's rule)

    Returns:
        *dict*: ``{"mask units" | "no masking": {region: scores}}``, where
        ``scores`` holds ``"decision_kept"`` (per image, the share of draws
        whose prediction is still the label), ``"logit_change"`` (per image,
        the mean ``|Δ|`` of the label's logit) and ``"change_per_pixel"``
        (that divided by the region's pixel count), each summarised over
        images (:func:`~captum_noisemask.evaluation.summarise`), and
        ``"pixels"``, the region's mean size.
    """
    generator = torch.Generator().manual_seed(seed)
    regions = region_masks(boxes, images.shape[-2], images.shape[-1], ring)
    resolved = resolve_thresholds(model, thresholds)
    maskings = ("mask units", "no masking")
    # kept[masking][region] and change[masking][region]: one value per image.
    kept: dict[str, dict[str, list[float]]] = {m: {r: [] for r in REGIONS} for m in maskings}
    change: dict[str, dict[str, list[float]]] = {m: {r: [] for r in REGIONS} for m in maskings}
    for i in range(images.shape[0]):
        clean = images[i : i + 1]
        masks, clean_output = MaskUnits.record(model, resolved, functools.partial(model, clean))
        label = int(labels[i])
        for name, region in regions.items():
            noise = torch.rand(n_draws, *clean.shape[1:], generator=generator) * 2 - 1
            noisy = clean + noise * region[i].to(clean.dtype)
            with masks.active():
                masked = model(noisy)
            for masking, output in zip(maskings, (masked, model(noisy)), strict=True):
                kept[masking][name].append(float((output.argmax(1) == label).float().mean()))
                change[masking][name].append(
                    float((output[:, label] - clean_output[0, label]).abs().mean())
                )
    results: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in maskings}
    for name, region in regions.items():
        pixels = region.flatten(1).sum(1).double()
        for masking in maskings:
            logit_change = torch.tensor(change[masking][name], dtype=torch.float64)
            results[masking][name] = {
                "decision_kept": summarise(torch.tensor(kept[masking][name])),
                "logit_change": summarise(logit_change),
                "change_per_pixel": summarise(logit_change / pixels),
                "pixels": float(pixels.mean()),
            }
    return results


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--images", type=int, default=32, help="held-out images probed")
    command.add_argument("--draws", type=int, default=100, help="noise draws per image and region")
    command.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/localisation"), help="output directory"
    )


def _run(args: argparse.Namespace) -> None:
    explained = explained_images(64, args.images, LocalisationConfig(out=args.out))
    effects = noise_region_effects(
        explained.model, explained.images, explained.labels, explained.boxes, n_draws=args.draws
    )
    record = {
        "machine": machine_description(),
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


COMMAND = Command(
    "bench-noise-regions",
    "fill the pattern's box, a ring around it, or the rest with full noise and measure how "
    "often the 64x64 pattern CNN's decision survives (about a minute)",
    _options,
    _run,
)

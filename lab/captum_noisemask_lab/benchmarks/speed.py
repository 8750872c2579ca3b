"""Speed benchmark of NoiseMaskAttribution on the paper's MNIST CNN.

Usage::

    noisemask-lab bench-speed          # CPU, the first seven sections (minutes on 2 cores)
    noisemask-lab bench-speed --paper-batch 64 --device cuda --sections paper-batch

Sections:

- ``agreement``: fast and faithful presets (seeds 0 and 1) vs the committed
  paper-preset reference maps (IoU of ``w > 0.5``, Pearson r, seconds per image), and
  the two seeds' runs against each other (the noise floor of the preset's estimate);
- ``time``: time per image, fast preset vs Captum Occlusion (4x4, stride 2) and Saliency;
- ``paper-cost``: paper preset time per step, implied time per image, and the step's
  overhead over a bare forward+backward of the same noisy batch (gradient w.r.t. the
  input only);
- ``resnet-step``: the same overhead for the fast preset's 16-row step on ResNet-18 at
  112x112 (random weights, an ImageNet-normalised image);
- ``big-images``: one ImageNet-normalised 224x224 image on ResNet-18 and ResNet-50 (random
  weights): NoiseMask's coarse preset on a 16-pixel grid against Captum Occlusion (15x15,
  stride 8), Integrated Gradients (50 steps), SmoothGrad (25 samples) and Saliency, and the
  coarse map's agreement with the fast preset's full budget on the same grid (ResNet-18);
- ``batch``: fast-preset throughput at 1, 8, 64 digits per call, and the faithful
  preset's with and without ``internal_batch_size=128``;
- ``memory``: peak memory as ``n_samples`` grows, with and without ``internal_batch_size``;
- ``schedules``: agreement of several candidate schedules with the paper preset, two seeds;
- ``paper-batch``: the full paper preset on ``--paper-batch`` digits at once (for a GPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency
from torch import Tensor

from captum_noisemask._utils.machine import device_name
from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command, check_out_file
from captum_noisemask.core.problem import NoiseMaskProblem
from captum_noisemask.evaluation.cost import measure_cost
from captum_noisemask.feature_masks import grid_feature_mask
from captum_noisemask.presets import COARSE, FAITHFUL, FAST, PAPER, Preset

from ..architectures import build
from ..paths import PAPER_MAPS
from ..tasks import TASKS, PreparedTask, prepare
from ..tasks.classifiers import PaperCNN
from .paper_maps import load_paper_maps

__all__ = [
    "COMMAND",
    "DEFAULT_SECTIONS",
    "SECTIONS",
    "SpeedRun",
    "agreement",
    "preset_agreement",
    "schedules",
    "time_per_image",
    "paper_cost",
    "resnet_step",
    "big_images",
    "batch_throughput",
    "memory",
    "paper_batch",
    "run",
]


def _timed(fn: Callable[[], object], device: str, repeats: int = 3) -> float:
    """Best wall time of ``repeats`` calls, in seconds (after one warm-up).

    Only for the per-step ratios of ``paper-cost`` and ``resnet-step`` (differences
    of run lengths); whole calls are measured by ``measure_cost``.
    """
    fn()
    best = float("inf")
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return best


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


#: The problem of the committed reference maps: the paper's mask rule and 1.0 logit.
PAPER_PROBLEM = NoiseMaskProblem.paper()


def agreement(
    setup: PreparedTask,
    device: str,
    fixture: Path = PAPER_MAPS,
    preset: Preset = FAST,
    seed: int = 0,
) -> dict:
    """IoU of the non-contributing sets and Pearson r of w, ``preset`` vs the paper preset.

    Also reports the wall time of the one ``attribute`` call on the reference digits.
    """
    reference = load_paper_maps(fixture, setup)
    maps, seconds = _reference_digit_maps(setup, device, reference, preset, PAPER_PROBLEM, seed)
    return _agreement_with_reference(reference, maps, seconds, preset, seed)


def preset_agreement(
    setup: PreparedTask,
    device: str,
    preset: Preset,
    fixture: Path = PAPER_MAPS,
    problem: NoiseMaskProblem = PAPER_PROBLEM,
) -> dict:
    """:func:`agreement` for seeds 0 and 1, and the agreement of those two runs.

    The two runs' agreement is the noise floor of the preset's estimate: no
    schedule at its budget can agree with a third map better than two of its
    own runs agree with each other. ``problem`` is the reference maps' (the paper's).
    """
    reference = load_paper_maps(fixture, setup)
    runs = [
        _reference_digit_maps(setup, device, reference, preset, problem, seed) for seed in (0, 1)
    ]
    overlaps = [_overlap(a, b) for a, b in zip(runs[0][0], runs[1][0], strict=True)]
    return {
        **{
            f"seed {seed}": _agreement_with_reference(reference, maps, seconds, preset, seed)
            for seed, (maps, seconds) in enumerate(runs)
        },
        "seed 0 vs seed 1": {
            "min_iou": min(o["iou"] for o in overlaps),
            "min_pearson": min(o["pearson"] for o in overlaps),
        },
    }


def _agreement_with_reference(
    reference: Any, maps: np.ndarray, seconds: float, preset: Preset, seed: int
) -> dict:
    rows = [
        {"test_index": int(i), "label": int(label), **_overlap(ours, theirs)}
        for i, label, ours, theirs in zip(
            reference["test_indices"], reference["labels"], maps, reference["maps"], strict=True
        )
    ]
    return {
        "reference_device": str(reference["device"]),
        "reference_seconds": float(reference["seconds"]),
        "seed": seed,
        "draws_times_steps": preset.n_samples * preset.n_steps,
        "seconds_per_image": seconds / len(rows),
        "per_digit": rows,
        "min_iou": min(r["iou"] for r in rows),
        "min_pearson": min(r["pearson"] for r in rows),
    }


def _reference_digit_maps(
    setup: PreparedTask,
    device: str,
    reference: Any,
    preset: Preset,
    problem: NoiseMaskProblem,
    seed: int,
) -> tuple[np.ndarray, float]:
    """``preset``'s maps ``w`` of the reference digits on ``problem``, and the call's seconds.

    The schedule is what is compared, so it runs on the reference maps' problem.
    """
    images = setup.test_set.images[torch.from_numpy(reference["test_indices"])].to(device)
    explainer = NoiseMaskAttribution(setup.trained.model, problem)
    maps, cost = measure_cost(
        lambda: explainer.attribute(images, preset=preset, highlight="non_contributing", seed=seed),
        setup.trained.model,
        len(images),
        device,
    )
    return maps[:, 0].cpu().numpy(), cost.seconds_per_image * len(images)


def _overlap(ours: np.ndarray, theirs: np.ndarray) -> dict:
    """IoU of the ``w > 0.5`` sets and Pearson r of two maps."""
    a, b = ours > 0.5, theirs > 0.5
    union = int((a | b).sum())
    return {
        "iou": float((a & b).sum() / union) if union else 1.0,  # two empty sets are equal
        "pearson": float(np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]),
    }


#: Schedules tried against the reference maps (``--sections schedules``): (name, preset).
#: The last one is FAITHFUL without the emulated gradient noise: what the variance term adds.
CANDIDATE_SCHEDULES = [
    ("fast (16 x 150, cosine 0.02 -> 0.005)", FAST),
    ("16 x 150, constant 0.01", FAST.replace(lr=0.01, lr_final=None)),
    ("32 x 150, cosine 0.02 -> 0.005", FAST.replace(n_samples=32)),
    (
        "64 x 300, cosine 0.01 -> 0.0025",
        FAST.replace(n_samples=64, n_steps=300, lr=0.01, lr_final=0.0025),
    ),
    (
        "128 x 300, cosine 0.01 -> 0.0025",
        FAST.replace(n_samples=128, n_steps=300, lr=0.01, lr_final=0.0025),
    ),
    ("paper emulated, 16 x 150", PAPER.emulated(n_samples=16, n_steps=150)),
    ("paper emulated, 64 x 150", PAPER.emulated(n_samples=64, n_steps=150)),
    ("paper emulated, 64 x 300", PAPER.emulated(n_samples=64, n_steps=300)),
    ("paper emulated, 128 x 300", PAPER.emulated(n_samples=128, n_steps=300)),
    ("faithful (paper emulated, 128 x 400)", FAITHFUL),
    (
        "faithful without the emulated noise term",
        dataclasses.replace(FAITHFUL, emulated_samples=None),
    ),
]


def schedules(setup: PreparedTask, device: str, fixture: Path = PAPER_MAPS) -> dict:
    """Agreement with the paper preset of each candidate schedule, for seeds 0 and 1."""
    rows = []
    for name, preset in CANDIDATE_SCHEDULES:
        for seed in (0, 1):
            result = agreement(setup, device, fixture, preset, seed)
            ious = [r["iou"] for r in result["per_digit"]]
            rows.append(
                {
                    "schedule": name,
                    "seed": seed,
                    "draws_times_steps": result["draws_times_steps"],
                    "min_iou": result["min_iou"],
                    "mean_iou": sum(ious) / len(ious),
                    "min_pearson": result["min_pearson"],
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return {"schedules": rows}


def certified_cost(setup: PreparedTask, device: str, n_digits: int = 16) -> dict:
    """What a certified map costs: the map, ``guarantee=0.95`` and ``certify``, against
    Occlusion (4x4, stride 2) in the same run.

    The same ``n_digits`` digits (``target`` = the label) are explained by Occlusion, by the
    fast preset on its default problem with and without the guarantee, and the guaranteed
    maps (and the plain ones) certified twice on the same fresh seed: sequentially (the
    default, deciding against 0.95) and with 1,000 fixed draws. Each call is measured by
    :func:`~captum_noisemask.evaluation.measure_cost` after a warm-up call; rows are forward
    rows of the model (a map's rows also run a backward pass).
    """
    model = setup.trained.model
    images = setup.test_set.images[:n_digits].to(device)
    labels = setup.test_set.labels[:n_digits].to(device)
    explainer = NoiseMaskAttribution(model)

    def measured(call: Callable[[], Any]) -> tuple[Any, Any]:
        return measure_cost(call, model, n_digits, device, warm_up=True)

    _, occlusion = measured(
        lambda: Occlusion(model).attribute(
            images, target=labels, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2)
        )
    )
    plain, map_cost = measured(lambda: explainer.attribute(images, target=labels, seed=0))
    guaranteed, guarantee_cost = measured(
        lambda: explainer.attribute(images, target=labels, seed=0, guarantee=0.95)
    )
    sequential, sequential_cost = measured(
        lambda: explainer.certify(images, guaranteed, target=labels, seed=1)
    )
    fixed, fixed_cost = measured(
        lambda: explainer.certify(images, guaranteed, target=labels, seed=1, bound_target=None)
    )
    costs = {
        "occlusion_4x4_s2": occlusion,
        "map": map_cost,
        "guaranteed_map": guarantee_cost,
        "certify_sequential": sequential_cost,
        "certify_fixed_1000": fixed_cost,
    }
    decided = sequential.masked.within_lower >= 0.95
    # The default maps' shares spread around 0.95 more than the guaranteed ones: the decision
    # agreement is measured on both.
    plain_sequential = explainer.certify(images, plain, target=labels, seed=1)
    plain_fixed = explainer.certify(images, plain, target=labels, seed=1, bound_target=None)
    return {
        "digits": n_digits,
        "seconds_per_image": {name: c.seconds_per_image for name, c in costs.items()},
        "rows_per_map": {name: c.evaluations_per_map for name, c in costs.items()},
        "over_occlusion": {
            name: c.seconds_per_image / occlusion.seconds_per_image for name, c in costs.items()
        },
        "guaranteed_over_map": guarantee_cost.seconds_per_image / map_cost.seconds_per_image,
        "certify_over_map": sequential_cost.seconds_per_image / map_cost.seconds_per_image,
        "bound_met_sequential": float(decided.double().mean()),
        "bound_met_fixed": float((fixed.masked.within_lower >= 0.95).double().mean()),
        "same_decision_as_fixed": float(
            (decided == (fixed.masked.within_lower >= 0.95)).double().mean()
        ),
        "certificate_draws_mean": float(sequential.masked.draws.double().mean()),
        "map_same_decision_as_fixed": float(
            (
                (plain_sequential.masked.within_lower >= 0.95)
                == (plain_fixed.masked.within_lower >= 0.95)
            )
            .double()
            .mean()
        ),
        "map_bound_met_fixed": float((plain_fixed.masked.within_lower >= 0.95).double().mean()),
        "map_certificate_draws_mean": float(plain_sequential.masked.draws.double().mean()),
        "mean_level_change": float((guaranteed - plain).mean()),
    }


def time_per_image(setup: PreparedTask, device: str, n_digits: int = 16) -> dict:
    """Fast preset against Occlusion (4x4, stride 2) and Saliency, same digits, same process.

    Each method explains ``n_digits`` digits in one call (``compare``'s chunk
    size), measured by :func:`~captum_noisemask.evaluation.measure_cost` after
    one warm-up call, as ``compare`` measures its cost table.
    """
    model = setup.trained.model
    images = setup.test_set.images[:n_digits].to(device)
    labels = setup.test_set.labels[:n_digits].to(device)
    methods = {
        "noisemask_fast": lambda: NoiseMaskAttribution(model).attribute(images, seed=0),
        "occlusion_4x4_s2": lambda: Occlusion(model).attribute(
            images, target=labels, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2)
        ),
        "saliency": lambda: Saliency(model).attribute(images, target=labels),
    }
    seconds = {
        name: measure_cost(fn, model, n_digits, device, warm_up=True)[1].seconds_per_image
        for name, fn in methods.items()
    }
    return {
        "digits_per_call": n_digits,
        "seconds_per_image": seconds,
        "fast_over_occlusion": seconds["noisemask_fast"] / seconds["occlusion_4x4_s2"],
        "fast_over_saliency": seconds["noisemask_fast"] / seconds["saliency"],
    }


def paper_cost(setup: PreparedTask, device: str, steps: int = 60) -> dict:
    """Paper preset per-step time, implied per-image time, and step overhead."""
    image = setup.test_set.images[:1].to(device)
    cost = _step_cost(setup.trained.model, image, PAPER, NoiseMaskProblem.paper(), device, steps)
    return {**cost, "implied_seconds_per_image": cost["seconds_per_step"] * PAPER.n_steps}


def resnet_step(device: str, size: int = 112, steps: int = 6) -> dict:
    """Fast-preset step overhead on ResNet-18 (random weights, one normalised RGB image)."""
    model = build("resnet18").to(device)
    image, std = _normalised_image(size, device)
    cost = _step_cost(model, image, FAST, NoiseMaskProblem(noise_scale=1 / std), device, steps)
    return {"model": "resnet18", "image_size": size, **cost}


def big_images(
    device: str, size: int = 224, cell: int = 16, models: tuple[str, ...] = ("resnet18", "resnet50")
) -> dict:
    """NoiseMask (coarse preset, ``cell``-pixel grid) against Captum's methods, one image each.

    Random weights (torchvision's layouts, randomised BatchNorm statistics), so
    NoiseMask holds the target logit within 0.1 x the logits' spread (``unit="spread"``), with the
    paper's mask rule: the problem the committed timings were measured on (the default
    problem adds a reference pass and 64 response passes per map).
    Every method explains the same ImageNet-normalised image for class 0; each
    call is measured once by :func:`~captum_noisemask.evaluation.measure_cost`.
    On the first model the coarse map is compared with the fast preset's
    (16 x 150) on the same grid: what the 1/6 budget changes.
    """
    image, std = _normalised_image(size, device)
    target = torch.zeros(1, dtype=torch.long, device=device)
    problem = NoiseMaskProblem(tolerance=0.1, unit="spread", mask_rule="paper", noise_scale=1 / std)
    noisemask = {
        "target": target,
        "feature_mask": grid_feature_mask(size, size, cell).to(device),
        "seed": 0,
    }
    results: dict[str, Any] = {"image_size": size, "grid_cell": cell, "images_per_call": 1}
    for name in models:
        model = build(name).to(device)
        explainer = NoiseMaskAttribution(model, problem)
        results[name] = _big_image_costs(
            model, explainer, image, noisemask, device, name == models[0]
        )
        print(f"{name}: {json.dumps(results[name]['seconds_per_image'])}", flush=True)
    return results


def _big_image_costs(
    model: torch.nn.Module,
    explainer: NoiseMaskAttribution,
    image: Tensor,
    noisemask: dict[str, Any],
    device: str,
    with_agreement: bool,
) -> dict[str, Any]:
    target = noisemask["target"]
    calls: dict[str, Callable[[], Tensor]] = {
        "noisemask_coarse": lambda: explainer.attribute(image, preset=COARSE, **noisemask),
        "occlusion_15x15_s8": lambda: Occlusion(model).attribute(
            image,
            target=target,
            sliding_window_shapes=(3, 15, 15),
            strides=(3, 8, 8),
            perturbations_per_eval=16,
        ),
        "integrated_gradients_50": lambda: IntegratedGradients(model).attribute(
            image, target=target, n_steps=50, internal_batch_size=16
        ),
        "smoothgrad_25": lambda: NoiseTunnel(Saliency(model)).attribute(
            image,
            target=target,
            nt_type="smoothgrad",
            nt_samples=25,
            stdevs=0.15,
            nt_samples_batch_size=16,
        ),
        "saliency": lambda: Saliency(model).attribute(image, target=target),
    }
    measured = {method: measure_cost(call, model, 1, device) for method, call in calls.items()}
    costs = {method: cost for method, (_, cost) in measured.items()}
    row: dict[str, Any] = {
        "seconds_per_image": {m: c.seconds_per_image for m, c in costs.items()},
        "evaluations_per_map": {m: c.evaluations_per_map for m, c in costs.items()},
        "peak_memory_mib": {m: c.peak_memory_mib for m, c in costs.items()},
    }
    seconds = row["seconds_per_image"]
    row["coarse_over_occlusion"] = seconds["noisemask_coarse"] / seconds["occlusion_15x15_s8"]
    if with_agreement:
        full, cost = measure_cost(
            lambda: explainer.attribute(image, preset=FAST, **noisemask),
            model,
            1,
            device,
        )
        coarse = measured["noisemask_coarse"][0]
        row["fast_seconds_per_image"] = cost.seconds_per_image
        row["coarse_vs_fast"] = _overlap(coarse[0, 0].cpu().numpy(), full[0, 0].cpu().numpy())
    return row


def _normalised_image(size: int, device: str) -> tuple[Tensor, Tensor]:
    """A seeded random RGB image after ImageNet normalisation, and the per-channel std."""
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(3, 1, 1)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(3, 1, 1)
    generator = torch.Generator().manual_seed(0)
    pixels = torch.rand(1, 3, size, size, generator=generator).to(device)
    return (pixels - mean) / std, std


def _step_cost(
    model: torch.nn.Module,
    image: Tensor,
    preset: Preset,
    problem: NoiseMaskProblem,
    device: str,
    steps: int,
) -> dict:
    """One step's time against a bare forward+backward of the same number of noisy rows.

    The step time is the difference of two run lengths, which removes the
    per-call setup (clean pass, masks). The bare pass takes the gradient with
    respect to the input only, as the step does.
    """
    explainer = NoiseMaskAttribution(model, problem)

    def run(n_steps: int) -> Callable[[], object]:
        return lambda: explainer.attribute(image, preset=preset.replace(n_steps=n_steps), seed=0)

    per_step = (_timed(run(2 * steps), device) - _timed(run(steps), device)) / steps
    rows = preset.n_samples * image.shape[0]
    noise = torch.rand(rows, *image.shape[1:], generator=torch.Generator().manual_seed(0))
    noisy = (image + noise.to(device) * 0.5).requires_grad_()

    def bare() -> None:
        for _ in range(steps):
            torch.autograd.grad(model(noisy).sum(), noisy)

    bare_step = _timed(bare, device) / steps
    return {
        "rows_per_step": rows,
        "seconds_per_step": per_step,
        "bare_forward_backward_seconds": bare_step,
        "step_overhead": per_step / bare_step,
    }


def batch_throughput(setup: PreparedTask, device: str, faithful_steps: int = 40) -> dict:
    """Seconds per image by digits per call (fast preset) and by ``internal_batch_size``.

    The faithful preset's 8-digit calls send 1,024 rows per pass; the second
    table times it with and without ``internal_batch_size=128`` over its first
    ``faithful_steps`` steps and scales to its 400 (the steps all cost the same).
    """
    model = setup.trained.model
    explainer = NoiseMaskAttribution(model)

    def seconds_per_image(call: Callable[[], Tensor], n: int, warm_up: bool = False) -> float:
        return measure_cost(call, model, n, device, warm_up)[1].seconds_per_image

    by_batch = {}
    for n in (1, 8, 64):
        images = setup.test_set.images[:n].to(device)
        call = functools.partial(explainer.attribute, images, seed=0)
        by_batch[str(n)] = seconds_per_image(call, n, warm_up=n < 64)
    images = setup.test_set.images[:8].to(device)
    shortened = FAITHFUL.replace(n_steps=faithful_steps)
    paper = NoiseMaskAttribution(model, NoiseMaskProblem.paper())
    by_internal_batch = {
        str(ibs): seconds_per_image(
            functools.partial(
                paper.attribute, images, preset=shortened, seed=0, internal_batch_size=ibs
            ),
            len(images),
        )
        * (FAITHFUL.n_steps / faithful_steps)
        for ibs in (None, 128)
    }
    return {
        "seconds_per_image_by_batch": by_batch,
        "faithful_seconds_per_image_by_internal_batch_size": by_internal_batch,
    }


def memory(device: str) -> dict:
    """Peak memory of one ``attribute`` call (1 digit, 3 steps) by ``n_samples``.

    Measured by :func:`~captum_noisemask.evaluation.measure_cost`: the call's
    peak above the memory in use when it starts. An untrained PaperCNN has the
    same activation sizes as the trained one.
    """
    torch.manual_seed(0)
    model, image = PaperCNN().eval().to(device), torch.rand(1, 1, 28, 28, device=device)
    explainer = NoiseMaskAttribution(model)
    rows = []
    for n_samples in (256, 1024, 4096):
        for ibs in (None, 64):
            call = functools.partial(
                explainer.attribute,
                image,
                preset=FAST.replace(n_samples=n_samples, n_steps=3),
                internal_batch_size=ibs,
                seed=0,
            )
            peak = measure_cost(call, model, 1, device)[1].peak_memory_mib
            rows.append({"n_samples": n_samples, "internal_batch_size": ibs, "peak_mib": peak})
    return {"peak_memory": rows}


def paper_batch(setup: PreparedTask, device: str, n_digits: int) -> dict:
    """Wall time of the full paper preset on ``n_digits`` digits in one call (for a GPU)."""
    images = setup.test_set.images[:n_digits].to(device)
    explainer = NoiseMaskAttribution(setup.trained.model, NoiseMaskProblem.paper())
    _, cost = measure_cost(
        lambda: explainer.attribute(images, preset="paper", seed=0, show_progress=True),
        setup.trained.model,
        n_digits,
        device,
    )
    return {
        "digits": n_digits,
        "seconds": cost.seconds_per_image * n_digits,
        "peak_memory_mib": cost.peak_memory_mib,
        "forward_backward_passes": n_digits * 100 * 15_000,
    }


#: The sections, in the order ``--sections`` lists them; each maps the run's settings to its
#: JSON entry.
SECTIONS: dict[str, Callable[[SpeedRun], dict]] = {
    "agreement": lambda run: {
        name: preset_agreement(run.setup, run.device, preset, run.reference)
        for name, preset in (("fast", FAST), ("faithful", FAITHFUL))
    },
    "time": lambda run: time_per_image(run.setup, run.device),
    "paper-cost": lambda run: paper_cost(run.setup, run.device),
    "resnet-step": lambda run: resnet_step(run.device),
    "batch": lambda run: batch_throughput(run.setup, run.device),
    "memory": lambda run: memory(run.device),
    "certified": lambda run: certified_cost(run.setup, run.device),
    "schedules": lambda run: schedules(run.setup, run.device, run.reference),
    "big-images": lambda run: big_images(run.device),
    "paper-batch": lambda run: paper_batch(run.setup, run.device, run.paper_batch),
}

#: The sections run when none are named (the others take long or want a GPU).
DEFAULT_SECTIONS = list(SECTIONS)[:7]


@dataclasses.dataclass
class SpeedRun:
    """What every section reads: the paper's MNIST setting on ``device`` and the options."""

    setup: PreparedTask
    device: str
    reference: Path
    paper_batch: int


def run(
    sections: list[str] | None = None,
    device: str = "cpu",
    out: Path = Path("benchmarks/results/speed.json"),
    reference: Path = PAPER_MAPS,
    paper_batch: int = 64,
) -> dict:
    """Runs the chosen sections (default :data:`DEFAULT_SECTIONS`), prints each, writes the
    JSON to ``out``; returns it.

    An existing ``out`` from the same device keeps the sections not run now.
    """
    sections = DEFAULT_SECTIONS if sections is None else sections
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown sections {unknown}; accepted: {', '.join(SECTIONS)}")
    if {"agreement", "schedules"} & set(sections) and not reference.exists():
        raise ValueError(
            f"{reference}: no reference maps (pass --reference, or leave out the agreement section)"
        )
    torch.manual_seed(0)
    setup = prepare(TASKS["mnist"])
    setup.trained.model.to(device)
    context = SpeedRun(setup, device, reference, paper_batch)
    results: dict = {
        "device": f"{device} ({device_name(device)})",
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    for section in sections:
        results[section] = SECTIONS[section](context)
        print(f"== {section}\n{json.dumps(results[section], indent=2)}", flush=True)
    earlier = json.loads(out.read_text()) if out.exists() else {}
    if earlier.get("device") == results["device"]:
        # Sections run now replace their entries; the file keeps the others.
        results = {**earlier, **results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")
    return results


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=DEFAULT_SECTIONS,
        choices=list(SECTIONS),
        metavar="SECTION",
        help=f"any of {', '.join(SECTIONS)} (schedules and big-images take about 20 and "
        "10 minutes on 2 CPU cores, paper-batch is for a GPU)",
    )
    parser.add_argument("--paper-batch", type=int, default=64, help="digits of paper-batch")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results/speed.json"),
        help="JSON output; an existing file from the same device keeps the sections not run now",
    )
    parser.add_argument(
        "--reference", type=Path, default=PAPER_MAPS, help="paper-preset reference maps (.npz)"
    )


COMMAND = Command(
    "bench-speed",
    "time the fast and paper presets against Occlusion and Saliency; write JSON",
    _options,
    lambda args: run(args.sections, args.device, args.out, args.reference, args.paper_batch),
    check_out_file,
)

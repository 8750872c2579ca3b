"""The main job, ``reproduce``: train (or load) the paper's CNN, explain held-out digits, write
the figures, measure the paper's claim."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor
from torch.nn import functional as F

from captum_noisemask._utils.machine import machine_description
from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command
from captum_noisemask.core.problem import NoiseMaskProblem
from captum_noisemask.labelled import LabelledImages
from captum_noisemask.presets import PAPER
from captum_noisemask.report import save_maps

from ..command import add_task_options, check_task_options, task_of, training_of
from ..figures.maps import NOISEMASK, draw_figures
from ..methods import explain_all, running_methods, standard_methods
from ..tasks import TASKS, Task, prepare
from ..tasks.mnist import STROKE_LEVEL
from ..tasks.training import TrainingConfig

__all__ = ["COMMAND", "ReproduceConfig", "claim_scores", "pick_examples", "reproduce"]


#: The row of the library's default problem, shown beside the paper's ("NoiseMask").
DEFAULT_ROW = "NoiseMask (default problem)"

#: Far background: at least this many pixels (Chebyshev distance) from any stroke pixel.
FAR_DISTANCE = 4


@dataclass
class ReproduceConfig:
    """Settings of :func:`reproduce` (the ``reproduce`` subcommand's options)."""

    out: Path
    preset: str = "fast"
    task: Task = TASKS["mnist"]
    data_dir: Path | None = None
    n_images: int = 8
    seed: int = 0
    show_progress: bool = True
    training: TrainingConfig | None = None
    cache: Path | None = None


def pick_examples(test_set: LabelledImages, n: int, n_classes: int = 10) -> LabelledImages:
    """The first held-out example of each class in turn (0, 1, 2, ...), ``n`` in all."""
    chosen: list[int] = []
    for round_ in range(n):
        for label in range(n_classes):
            hits = (test_set.labels == label).nonzero().flatten()
            if len(hits) > round_ and len(chosen) < n:
                chosen.append(int(hits[round_]))
        if len(chosen) >= n:
            break
    return test_set.subset(torch.tensor(chosen[:n]))


def claim_scores(images: Tensor, non_contribution: Tensor) -> dict[str, float]:
    """The paper's qualitative claim as numbers.

    The paper's Figure 6 shows the background far from the stroke as
    non-contributing and the stroke as contributing. A map reproduces that
    when most of each is so: both shares above 0.5.

    Returns:
        *dict* with ``far_background_non_contributing`` (share of pixels at
        least :data:`FAR_DISTANCE` px from every stroke pixel with ``w > 0.5``)
        and ``stroke_contributing`` (share of stroke pixels with ``w <= 0.5``).
    """
    stroke = images > STROKE_LEVEL
    near = F.max_pool2d(stroke.float(), 2 * FAR_DISTANCE - 1, stride=1, padding=FAR_DISTANCE - 1)
    far = near == 0
    non_contributing = non_contribution > 0.5
    return {
        "far_background_non_contributing": float(non_contributing[far].float().mean()),
        "stroke_contributing": float((~non_contributing[stroke]).float().mean()),
    }


def reproduce(config: ReproduceConfig, log: bool = True) -> dict[str, object]:
    """Runs the experiment; writes the figures, ``maps.npz`` and ``summary.json/.md``.

    Returns:
        *dict*: the summary written to ``summary.json``.
    """
    say = print if log else (lambda *a, **k: None)
    task = config.task
    training = task.training if config.training is None else config.training
    setup = prepare(task, config.data_dir, training, config.show_progress, config.cache, say)
    source = setup.source
    state = "loaded from cache" if setup.trained.from_cache else "trained"
    accuracy = f"held-out accuracy {setup.trained.accuracy:.2%}"
    say(f"{training.architecture} {state}: {accuracy} ({source})")
    digits = pick_examples(setup.test_set, config.n_images, len(task.class_names))
    class_names = [task.class_names[label] for label in digits.labels.tolist()]
    # The paper's problem is the experiment; the library's default problem is shown beside it.
    methods = standard_methods(
        setup.trained.model,
        config.preset,
        config.seed,
        config.show_progress,
        noisemask={
            NOISEMASK: "NoiseMask (paper's problem)",
            DEFAULT_ROW: "NoiseMask (default problem)",
        },
    )
    if config.preset == "paper":
        say(_paper_estimate(setup.trained.model, digits.images))

    def starting(name: str) -> None:
        say(f"explaining with {name}")
        # SmoothGrad draws from torch's global generator: seed it for every method alike.
        torch.manual_seed(config.seed)

    # The caller's global generator state is restored afterwards.
    with running_methods():
        results = explain_all(methods, digits.images, digits.labels, starting)
    config.out.mkdir(parents=True, exist_ok=True)
    maps = {name: batch.maps for name, batch in results.items()}
    save_maps(
        config.out / "maps.npz",
        digits.images,
        class_names,
        maps,
        {method.name: method.sign for method in methods},
    )
    draw_figures(config.out / "maps.npz", config.out)
    claim = claim_scores(digits.images, 1.0 - results[NOISEMASK].maps)
    default_claim = claim_scores(digits.images, 1.0 - results[DEFAULT_ROW].maps)
    reproduced = min(claim.values()) > 0.5
    summary: dict[str, object] = {
        "data": source,
        "model": training.architecture,
        "machine": machine_description(),
        "held_out_accuracy": setup.trained.accuracy,
        "preset": config.preset,
        "problem": NoiseMaskProblem.paper().describe(),
        "labels": digits.labels.tolist(),
        "classes": class_names,
        "seconds_per_image": {name: r.cost.seconds_per_image for name, r in results.items()},
        "claim": claim,
        "claim_definition": {
            "stroke_pixel": f"intensity > {STROKE_LEVEL}",
            "far_background_pixel": f">= {FAR_DISTANCE} px (Chebyshev) from every stroke pixel",
            "non_contributing_pixel": "w > 0.5",
            "reproduced_when": "both shares > 0.5",
        },
        "claim_reproduced": reproduced,
        "default_problem": NoiseMaskProblem().describe(),
        "default_problem_claim": default_claim,
    }
    (config.out / "summary.json").write_text(json.dumps(summary, indent=2))
    (config.out / "summary.md").write_text(_markdown(summary))
    say(_verdict(claim, reproduced, config.preset))
    say(
        f"beside it, the library's default problem ({DEFAULT_ROW}): far background "
        f"{default_claim['far_background_non_contributing']:.1%} non-contributing, object "
        f"{default_claim['stroke_contributing']:.1%} contributing"
    )
    say(f"wrote figure6.png, comparison.png, maps.npz, summary.json, summary.md to {config.out}")
    return summary


def _verdict(claim: dict[str, float], reproduced: bool, preset: str) -> str:
    """The paper's claim on one line: the verdict and the two shares it rests on."""
    return (
        f"the paper's claim: {'REPRODUCED' if reproduced else 'NOT REPRODUCED'} (paper's "
        f"problem, {preset} schedule): far background "
        f"{claim['far_background_non_contributing']:.1%} non-contributing, object "
        f"{claim['stroke_contributing']:.1%} contributing (both must exceed 50%)"
    )


def _paper_estimate(model: torch.nn.Module, images: Tensor) -> str:
    """Times a few paper-preset steps and extrapolates to 15,000."""

    start = time.perf_counter()
    explainer = NoiseMaskAttribution(model, NoiseMaskProblem.paper())
    explainer.attribute(images, preset=PAPER.replace(n_steps=20), seed=0)
    seconds = (time.perf_counter() - start) / 20 * PAPER.n_steps
    return (
        f"paper preset: {PAPER.n_steps:,} Adam steps x N = {PAPER.n_samples} draws for "
        f"{images.shape[0]} digits; estimated {seconds / 60:.0f} min on this machine "
        f"({seconds / images.shape[0]:.0f} s per digit)"
    )


def _markdown(summary: dict) -> str:
    claim, default = summary["claim"], summary["default_problem_claim"]
    lines = [
        "# Reproduction of Ikeno, Hara & Washio",
        "",
        f"- data: {summary['data']}",
        f"- model: {summary['model']}",
        f"- machine: {summary['machine']}",
        f"- held-out accuracy: {summary['held_out_accuracy']:.2%}",
        f"- NoiseMask preset: `{summary['preset']}`",
        f"- NoiseMask problem: {summary['problem']}",
        f"- the images' classes: {', '.join(summary['classes'])}",
        "",
        "## The paper's claim, measured",
        "",
        "The paper shows the far background as non-contributing and the object (a digit's "
        "stroke; here every pixel brighter than the level below) as contributing; the claim "
        "counts as reproduced when both shares exceed 50%: "
        f"**{'reproduced' if summary['claim_reproduced'] else 'not reproduced'}**.",
        "",
        "| quantity | value |",
        "| --- | --- |",
        f"| far background (>= {FAR_DISTANCE} px from the object) marked non-contributing "
        f"(w > 0.5) | {claim['far_background_non_contributing']:.1%} |",
        f"| object pixels (> {STROKE_LEVEL}) marked contributing (w <= 0.5) "
        f"| {claim['stroke_contributing']:.1%} |",
        "",
        f"Beside it, the library's default problem ({summary['default_problem']}): far "
        f"background {default['far_background_non_contributing']:.1%} non-contributing, "
        f"object {default['stroke_contributing']:.1%} contributing.",
        "",
        "## Time per image",
        "",
        "| method | seconds |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {s:.4f} |" for name, s in summary["seconds_per_image"].items()]
    return "\n".join(lines) + "\n"


def _options(command: argparse.ArgumentParser) -> None:
    add_task_options(command, images=8, images_help="how many held-out images to explain")


def _run(args: argparse.Namespace) -> None:
    reproduce(
        ReproduceConfig(
            out=args.out,
            task=task_of(args),
            training=training_of(args),
            preset=args.preset,
            data_dir=args.data_dir,
            n_images=args.images,
            seed=args.seed,
            show_progress=not args.no_progress,
        )
    )


COMMAND = Command(
    "reproduce",
    "train the paper's MNIST CNN, explain digits, write figure6.png and comparison.png",
    _options,
    _run,
    check_task_options,
)

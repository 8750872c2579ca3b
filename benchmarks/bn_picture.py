"""Right way up on BatchNorm networks? Mask rules and tolerances on Fashion-MNIST and MNIST.

    python benchmarks/bn_picture.py --task fashion-resnet --images 16
    python benchmarks/bn_picture.py --task mnist --images 16

Per setting: the far background's non-contributing share (0-valued pixels at least 2 pixels
from the object), the object's contributing share (pixels > 0.5), the zero-removal MoRF area
of the map and of a random map, and seconds per image. Writes
``benchmarks/results/bn_picture/<task>.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask.evaluation import deletion_curve
from captum_noisemask.mnist.data import find_fashion_mnist
from captum_noisemask.mnist.setup import MnistSetup, prepare_mnist
from captum_noisemask.mnist.training import DEFAULT_TRAINING, TrainingConfig

OUT = Path(__file__).resolve().parent / "results" / "bn_picture"
SETTINGS: dict[str, dict[str, Any]] = {
    "paper rule, tolerance 1.0": {"mask_rule": "paper", "tolerance": 1.0},
    "paper rule, response 0.4": {"mask_rule": "paper", "response_tolerance": 0.4},
    "reference rule, tolerance 1.0": {"mask_rule": "reference", "tolerance": 1.0},
    "reference rule, response 0.4": {"mask_rule": "reference", "response_tolerance": 0.4},
    "reference rule, response 0.3": {"mask_rule": "reference", "response_tolerance": 0.3},
    "reference rule, response 0.4, guarantee 0.95": {
        "mask_rule": "reference",
        "response_tolerance": 0.4,
        "guarantee": 0.95,
    },
}
TASKS = {
    "mnist": (None, DEFAULT_TRAINING),
    "fashion-resnet": (
        "fashion",
        TrainingConfig(epochs=5, max_examples=10_000, architecture="resnet"),
    ),
    "fashion-mobilenet": (
        "fashion",
        TrainingConfig(epochs=5, max_examples=10_000, architecture="mobilenet"),
    ),
}


def prepare_task(task: str) -> MnistSetup:
    """The trained classifier and held-out images of one of :data:`TASKS` (cached weights)."""
    data, config = TASKS[task]
    return prepare_mnist(None if data is None else find_fashion_mnist(), config)


def regions(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The object (pixels > 0.5) and the far background (0, at least 2 pixels from any ink)."""
    ink = (images > 0).float()
    near = F.max_pool2d(ink, kernel_size=5, stride=1, padding=2) > 0
    return images > 0.5, (images == 0) & ~near


def morf(
    model: torch.nn.Module, images: torch.Tensor, maps: torch.Tensor, target: torch.Tensor
) -> float:
    return float(deletion_curve(model, images, maps, target, "morf", "baseline").area().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="fashion-resnet")
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args()
    setup = prepare_task(args.task)
    model = setup.trained.model
    images, labels = setup.test_set.images[: args.images], setup.test_set.labels[: args.images]
    objects, far = regions(images)
    random_maps = torch.rand(images.shape, generator=torch.Generator().manual_seed(0))
    rows: dict[str, Any] = {"random map": {"morf_zero": morf(model, images, random_maps, labels)}}
    explainer = NoiseMaskAttribution(model)
    for name, settings in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        maps = explainer.attribute(images, target=labels, seed=0, **settings)
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
    rows["_about"] = {
        "task": args.task,
        "images": args.images,
        "accuracy": setup.trained.accuracy,
        "machine": "2-core AMD EPYC, torch " + torch.__version__,
        "command": f"python benchmarks/bn_picture.py --task {args.task} --images {args.images}",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{args.task}.json"
    previous = json.loads(path.read_text()) if path.exists() else {}
    previous.update(rows)
    path.write_text(json.dumps(previous, indent=2) + "\n")


if __name__ == "__main__":
    main()

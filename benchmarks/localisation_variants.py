"""NoiseMask settings tried against the 64x64 pattern task, beyond the benchmark's four rows.

    python benchmarks/localisation_variants.py            # 32 images, about 30 minutes on 2 cores

Same data, classifier, images and seed as ``captum-noisemask bench-localisation --sizes 64
--images 32``, so the scores compare with ``benchmarks/results/localisation/table_64.csv``.
Each variant asks whether a different reading of "the outputs stay within the tolerance" ranks
the class pattern higher: graded maps over relative tolerances, and output transforms that
ignore a shift shared by every logit (centred logits) or keep only the label's margin.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from typing import Any

import torch
from torch import Tensor

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask.benchmark.pattern_localisation import train_pattern_cnn
from captum_noisemask.evaluation import make_pattern_task, pointing_game, summarise, top_k_in_box


def margin(logits: Tensor) -> Tensor:
    """Each logit minus the largest other one (for the label: its lead over the runner-up)."""
    top2 = logits.topk(2, dim=-1).values
    other = torch.where(logits >= top2[..., :1], top2[..., 1:], top2[..., :1])
    return logits - other


def centred(logits: Tensor) -> Tensor:
    """Logits minus their mean: a shift shared by every class does not count."""
    return logits - logits.mean(-1, keepdim=True)


VARIANTS: dict[str, dict[str, Any]] = {
    "graded, relative 0.1 x (1, 2, 4, 8)": {
        "relative_tolerance": 0.1,
        "tolerance_path": (1.0, 2.0, 4.0, 8.0),
    },
    "graded, relative 0.05 x (1, 2, 4, 8, 16)": {
        "relative_tolerance": 0.05,
        "tolerance_path": (1.0, 2.0, 4.0, 8.0, 16.0),
    },
    "label's margin over the runner-up": {"output_transform": margin},
    "centred logits": {"output_transform": centred},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=32, help="held-out images explained")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    size = 64
    train = make_pattern_task(4000, size, seed=args.seed)
    test = make_pattern_task(max(4 * args.images, 200), size, seed=args.seed + 1)
    model, accuracy = train_pattern_cnn(train, test, epochs=4, seed=args.seed)
    print(f"classifier accuracy {accuracy:.1%}", flush=True)
    with torch.no_grad():
        correct = (model(test.data.images).argmax(1) == test.data.labels).nonzero()[:, 0]
    chosen = correct[: args.images]
    images, labels, boxes = test.data.images[chosen], test.data.labels[chosen], test.boxes[chosen]
    warnings.filterwarnings("ignore", message=".*(require gradients|hooks and attributes).*")
    for name, extra in VARIANTS.items():
        started = time.perf_counter()
        torch.manual_seed(args.seed)
        explainer = NoiseMaskAttribution(model)
        maps = torch.cat(
            [
                explainer.attribute(
                    images[i : i + 8], target=labels[i : i + 8], seed=args.seed, **extra
                )
                for i in range(0, len(images), 8)
            ]
        ).sum(1)
        row = {
            "variant": name,
            "pointing_game": summarise(pointing_game(maps, boxes)),
            "top_64_in_box": summarise(top_k_in_box(maps, boxes)),
            "seconds": round(time.perf_counter() - started),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()

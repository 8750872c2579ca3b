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
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask.benchmark.pattern_localisation import (
    LocalisationConfig,
    explained_images,
    localisation_scores,
)
from captum_noisemask.evaluation.methods import Method


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
    # The benchmark's own training settings and image choice (its output folder is unused).
    config = LocalisationConfig(out=Path("unused"), seed=args.seed)
    explained = explained_images(64, args.images, config)
    print(f"classifier accuracy {explained.accuracy:.1%}", flush=True)
    warnings.filterwarnings("ignore", message=".*(require gradients|hooks and attributes).*")
    for name, extra in VARIANTS.items():
        started = time.perf_counter()
        torch.manual_seed(args.seed)
        method = Method(name, NoiseMaskAttribution(explained.model), {"seed": args.seed, **extra})
        maps = method.explain(explained.images, explained.labels, 8)
        scores = localisation_scores(maps, explained.boxes)
        print(
            json.dumps(
                {"variant": name, **scores, "seconds": round(time.perf_counter() - started)}
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

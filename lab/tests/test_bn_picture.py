"""Right way up on BatchNorm networks: a BN-ResNet and a MobileNet trained on textured shapes
on black (Fashion-MNIST in miniature). With the paper's rule the picture comes out wrong;
the default problem (reference mask rule, response tolerance) gives the paper's picture."""

from __future__ import annotations

import pytest
import torch
from lab_support import garments
from torch.nn import functional as F

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask.evaluation import deletion_curve
from captum_noisemask_lab.tasks.training import TrainingConfig, accuracy, train


def _regions(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    ink = (images > 0).float()
    near = F.max_pool2d(ink, kernel_size=5, stride=1, padding=2) > 0
    return images > 0.5, (images == 0) & ~near


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["resnet", "mobilenet"])
def test_the_default_call_gives_the_papers_picture_on_bn_networks(architecture: str) -> None:
    model = train(garments(1600), TrainingConfig(epochs=3, architecture=architecture))
    held_out = garments(16, seed=1)
    assert accuracy(model, held_out) >= 0.9  # a model worth explaining
    images, labels = held_out.images, held_out.labels
    objects, far = _regions(images)
    explainer = NoiseMaskAttribution(model)
    default = explainer.attribute(images, target=labels, seed=0)
    assert float((default[far] < 0.5).float().mean()) >= 0.9  # far background: not needed
    assert float((default[objects] > 0.5).float().mean()) >= 0.5  # the garment: needed
    random = torch.rand(images.shape, generator=torch.Generator().manual_seed(0))

    def morf(maps: torch.Tensor) -> float:
        return float(deletion_curve(model, images, maps, labels, "morf").area().mean())

    assert morf(default) <= 0.8 * morf(random)

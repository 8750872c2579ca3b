"""The lab's method line-up and task pieces: Deep Taylor, the random map, grid variants,
distractor pasting."""

from __future__ import annotations

import copy

import pytest
import torch
from captum.attr import LRP
from support import make_tiny_cnn
from torch import nn

from captum_noisemask import LabelledImages
from captum_noisemask._utils.compat import Alpha1_Beta0_Rule
from captum_noisemask_lab.methods import DeepTaylorLRP, RandomAttribution
from captum_noisemask_lab.tasks.classifiers import PaperCNN
from captum_noisemask_lab.tasks.distractors import paste_distractors


def test_paste_distractors_layout() -> None:
    generator = torch.Generator().manual_seed(0)
    digits = LabelledImages(torch.rand(5, 1, 28, 28, generator=generator), torch.arange(5))
    pool = LabelledImages(torch.rand(7, 1, 28, 28, generator=generator), torch.arange(7))
    task = paste_distractors(digits, pool, seed=1)
    assert task.digits.images.shape == (5, 1, 28, 56)
    assert torch.equal(task.digits.images[..., :28], digits.images)
    assert torch.equal(task.digits.labels, digits.labels)
    assert not task.used[..., 28:].any() and not task.ignored[..., :28].any()
    assert torch.equal(task.used[..., :28], digits.images > 0.5)
    assert torch.equal(task.digits.images, paste_distractors(digits, pool, seed=1).digits.images)


def test_random_attribution_ignores_the_model_and_is_reproducible() -> None:
    images = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    first = RandomAttribution(make_tiny_cnn(seed=0), seed=4).attribute(images)
    other_model = RandomAttribution(make_tiny_cnn(seed=1), seed=4).attribute(images)
    assert torch.equal(first, other_model)
    explainer = RandomAttribution(make_tiny_cnn(), seed=4)
    explainer.attribute(images)
    assert not torch.equal(explainer.attribute(images), first)  # fresh noise per call


def test_deep_taylor_keeps_the_z_plus_rule_on_every_call() -> None:
    torch.manual_seed(0)
    model = PaperCNN().eval()
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    target = model(images).argmax(1)
    explainer = DeepTaylorLRP(model)
    first = explainer.attribute(images, target=target)
    assert torch.equal(first, explainer.attribute(images, target=target))
    assert (first >= 0).all()  # z+ on non-negative inputs and a positive output
    assert not any(hasattr(m, "rule") for m in model.modules())
    # What the class guards against: plain LRP drops custom rules after one call.
    plain_model = copy.deepcopy(model)
    for m in plain_model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.rule = Alpha1_Beta0_Rule()  # type: ignore[assignment]
    plain = LRP(plain_model)
    torch.testing.assert_close(plain.attribute(images, target=target), first)
    assert not torch.allclose(plain.attribute(images, target=target), first)


def test_a_grid_variant_needs_the_image_size() -> None:
    tiny_cnn = make_tiny_cnn()
    from captum_noisemask_lab.methods import noisemask_methods

    with pytest.raises(ValueError, match="image_size"):
        noisemask_methods(["NoiseMask (4x4 grid)"], tiny_cnn)
    (grid,) = noisemask_methods(["NoiseMask (4x4 grid)"], tiny_cnn, 8, seed=0)
    # 4x4-pixel cells on an 8x8 image: four groups.
    assert grid.kwargs["feature_mask"].unique().numel() == 4 and grid.kwargs["seed"] == 0

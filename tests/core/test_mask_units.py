"""Mask units: which layers, where the zero goes, and that it really propagates."""

from __future__ import annotations

import pytest
import torch
from support import TinyCNN, make_tiny_cnn
from torch import Tensor, nn

from captum_noisemask import NoiseMaskAttribution
from captum_noisemask._utils.hooks import forward_hooks
from captum_noisemask.core.mask_units import MaskUnits, resolve_thresholds


def _record(model: nn.Module, thresholds: object, x: Tensor) -> MaskUnits:
    resolved = resolve_thresholds(model, thresholds)  # type: ignore[arg-type]
    with torch.no_grad():
        return MaskUnits.record(model, resolved, lambda: model(x))[0]


def test_automatic_rule_masks_all_but_the_output_layer(tiny_cnn: TinyCNN, images: Tensor) -> None:
    masks = _record(tiny_cnn, None, images)
    assert masks.sites == [tiny_cnn.conv1, tiny_cnn.conv2, tiny_cnn.fc1]
    with torch.no_grad():
        conv1 = tiny_cnn.conv1(images)
    torch.testing.assert_close(masks.keep[tiny_cnn.conv1], (conv1 > 0.2).float())


def test_names_and_modules_resolve_to_the_same_layer(tiny_cnn: TinyCNN) -> None:
    assert resolve_thresholds(tiny_cnn, {"conv2": 0.1}) == {tiny_cnn.conv2: 0.1}
    assert resolve_thresholds(tiny_cnn, {tiny_cnn.conv2: 0.1}) == {tiny_cnn.conv2: 0.1}


def test_unknown_layer_name_lists_the_valid_ones(tiny_cnn: TinyCNN) -> None:
    with pytest.raises(ValueError, match=r"unknown layer 'conv9'.*'conv1'.*'fc2'"):
        NoiseMaskAttribution(tiny_cnn, thresholds={"conv9": 0.0})


def test_empty_mapping_disables_masking(tiny_cnn: TinyCNN, images: Tensor) -> None:
    assert _record(tiny_cnn, {}, images).sites == []


def _post_relu1(model: TinyCNN, masks: MaskUnits, x: Tensor) -> Tensor:
    """relu1's output on noisy copies of ``x`` with the masks active."""
    seen: list[Tensor] = []
    with (
        forward_hooks([model.relu1], lambda m, i, o: seen.append(o)),
        masks.for_examples(slice(0, x.shape[0])),
        masks.active(),
        torch.no_grad(),
    ):
        model((x + torch.rand(4, *x.shape)).flatten(0, 1))
    return seen[0].unflatten(0, (4, x.shape[0]))


@pytest.mark.parametrize("batch_norm", [False, True], ids=["conv-relu", "conv-bn-relu"])
def test_masked_units_are_zero_after_the_activation(batch_norm: bool, images: Tensor) -> None:
    model = make_tiny_cnn(batch_norm)
    masks = _record(model, {"conv1": 0.1}, images)
    expected_site = model.bn1 if batch_norm else model.conv1
    assert masks.sites == [expected_site]
    silenced = masks.keep[expected_site] == 0
    assert silenced.any() and (~silenced).any()
    after_relu = _post_relu1(model, masks, images)
    assert torch.all(after_relu[:, silenced] == 0)
    assert torch.any(after_relu[:, ~silenced] != 0)


def test_zeroing_the_conv_of_a_batchnorm_net_would_not_silence_units(images: Tensor) -> None:
    """Why the zero goes after BatchNorm: a zero before it comes out shifted."""
    model = make_tiny_cnn(batch_norm=True)
    zeros = torch.zeros(1, 3, 6, 6)
    assert (model.relu1(model.bn1(zeros)) != 0).any()


def test_layer_running_twice_is_refused(images: Tensor) -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.out = nn.Linear(64, 2)

        def forward(self, x: Tensor) -> Tensor:
            return self.out(self.fc(self.fc(x.flatten(1))))

    with pytest.raises(ValueError, match="runs 2 times"):
        NoiseMaskAttribution(Twice().eval()).attribute(images, n_steps=1)


def test_layer_that_never_runs_is_refused(tiny_cnn: TinyCNN, images: Tensor) -> None:
    with pytest.raises(ValueError, match="did not run"):
        NoiseMaskAttribution(tiny_cnn, thresholds={nn.Linear(2, 2): 0.0}).attribute(images)


def test_masks_change_the_map(tiny_cnn: TinyCNN, images: Tensor) -> None:
    settings = dict(n_steps=10, n_samples=4, seed=0, tolerance=0.01)
    masked = NoiseMaskAttribution(tiny_cnn).attribute(images, **settings)
    unmasked = NoiseMaskAttribution(tiny_cnn, thresholds={}).attribute(images, **settings)
    assert not torch.equal(masked, unmasked)

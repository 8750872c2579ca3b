"""Mask units: where the sites are, that masking alone never changes the clean network,
and that a silenced unit really stays silent under noise."""

from __future__ import annotations

import pytest
import torch
from architectures import ARCHITECTURES, build, example_inputs
from support import TinyCNN, make_tiny_cnn, steps
from torch import Tensor, nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem
from captum_noisemask._utils.hooks import forward_hooks
from captum_noisemask.core.mask_units import MaskUnits, resolve_thresholds


def _record(model: nn.Module, thresholds: object, x: Tensor) -> MaskUnits:
    resolved = resolve_thresholds(model, thresholds)  # type: ignore[arg-type]
    with torch.no_grad():
        return MaskUnits.record(model, resolved, lambda: model(x))[0]


def _masked_output(model: nn.Module, masks: MaskUnits, x: Tensor) -> Tensor:
    with masks.for_examples(slice(0, x.shape[0])), masks.active(), torch.no_grad():
        return model(x)


def _inputs(name: str, batch: int = 2) -> Tensor:
    """Standard-normal inputs: the invariants hold for normalised images too."""
    return (example_inputs(name, batch) - 0.5) * 3.5


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_masking_alone_at_threshold_zero_leaves_the_outputs_unchanged(name: str) -> None:
    model, x = build(name), _inputs(name)
    with torch.no_grad():
        clean = model(x)
    masks = _record(model, 0.0, x)
    assert masks.sites, "no site found"
    silenced = sum(int((m == 0).sum()) for m in masks.masks)
    assert silenced > 0  # the invariant is not vacuous: units are zeroed
    torch.testing.assert_close(_masked_output(model, masks, x), clean, rtol=0, atol=1e-6)


def test_paper_rule_on_the_paper_cnn() -> None:
    model, x = build("paper_cnn"), example_inputs("paper_cnn")
    masks = _record(model, None, x)
    assert [(s.name, s.threshold) for s in masks.sites] == [
        ("conv1", 0.2),
        ("conv2", 0.0),
        ("fc1", 0.0),
    ]
    with torch.no_grad():
        conv1 = model.conv1(x)
    assert torch.equal(masks.masks[0], conv1 > 0.2)


def test_a_resnet_gets_a_site_in_every_block_and_none_where_no_relu_reads() -> None:
    model = build("resnet")
    masks = _record(model, None, _inputs("resnet"))
    names = [s.name for s in masks.sites]
    blocks = ["layer1", "layer2"]
    for block in blocks:
        # bn1 feeds the block's ReLU; the block output (after the in-place add) feeds it again.
        assert f"{block}.bn1" in names and f"{block}.relu" in names
        assert f"{block}.bn2" not in names  # read only after `out += identity`
    assert not any("downsample" in n for n in names)  # conv -> BN with no ReLU after it
    assert names[0] == "stem.1" and masks.sites[0].threshold == 0.0  # a BN-scale stem: see docs


def test_the_off_state_is_read_before_in_place_operations() -> None:
    model = build("resnet")
    x = _inputs("resnet")
    seen: list[Tensor] = []
    block = model.layer1
    with forward_hooks([block.bn1], lambda m, i, o: seen.append(o.clone())), torch.no_grad():
        masks = MaskUnits.record(model, 0.0, lambda: model(x))[0]
    index = [s.name for s in masks.sites].index("layer1.bn1")
    assert torch.equal(masks.masks[index], seen[0] > 0)


def test_functional_relus_are_sites() -> None:
    model = build("functional_cnn")
    masks = _record(model, None, _inputs("functional_cnn"))
    assert [s.name for s in masks.sites] == ["conv1", "conv2", "relu:2", "fc1"]
    assert [s.threshold for s in masks.sites] == [0.2, 0.0, 0.0, 0.0]


def test_mobilenet_has_no_site_at_a_linear_bottleneck() -> None:
    model = build("mobilenet")
    masks = _record(model, None, _inputs("mobilenet"))
    modules = dict(model.named_modules())
    for site in masks.sites:
        producer = modules[site.name.split("#")[0]]
        assert isinstance(producer, nn.BatchNorm2d)
        assert isinstance(site.activation, nn.ReLU6)
    bottlenecks = [
        f"{n}.conv.{len(m.conv) - 1}"
        for n, m in model.named_modules()
        if type(m).__name__ == "InvertedResidual"
    ]
    assert bottlenecks and not set(bottlenecks) & {s.name for s in masks.sites}


def test_names_and_modules_resolve_to_the_same_layer(tiny_cnn: TinyCNN) -> None:
    assert resolve_thresholds(tiny_cnn, {"conv2": 0.1}) == {tiny_cnn.conv2: 0.1}
    assert resolve_thresholds(tiny_cnn, {tiny_cnn.conv2: 0.1}) == {tiny_cnn.conv2: 0.1}


def test_a_threshold_can_name_the_relu_module(images: Tensor) -> None:
    model = make_tiny_cnn()
    by_relu = _record(model, {"relu2": 0.0}, images)
    by_conv = _record(model, {"conv2": 0.0}, images)
    assert [s.name for s in by_relu.sites] == [s.name for s in by_conv.sites] == ["conv2"]


def test_unknown_layer_name_lists_the_valid_ones(tiny_cnn: TinyCNN) -> None:
    with pytest.raises(ValueError, match=r"unknown layer 'conv9'.*'conv1'.*'fc2'"):
        NoiseMaskAttribution(tiny_cnn, NoiseMaskProblem(thresholds={"conv9": 0.0}))


def test_a_layer_no_relu_reads_is_refused(tiny_cnn: TinyCNN, images: Tensor) -> None:
    with pytest.raises(ValueError, match=r"'fc2' feeds no ReLU.*sites: conv1, conv2, fc1"):
        explainer = NoiseMaskAttribution(tiny_cnn, NoiseMaskProblem(thresholds={"fc2": 0.0}))
        explainer.attribute(images, preset=steps(1))
    with pytest.raises(ValueError, match="feeds no ReLU"):
        stranger = NoiseMaskProblem(thresholds={nn.Linear(2, 2): 0.0})
        NoiseMaskAttribution(tiny_cnn, stranger).attribute(images)


@pytest.mark.parametrize("bad", [-0.1, float("nan")])
def test_negative_or_nan_thresholds_are_refused(tiny_cnn: TinyCNN, bad: float) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        NoiseMaskProblem(thresholds={"conv1": bad})
    with pytest.raises(ValueError, match=">= 0"):
        NoiseMaskProblem(thresholds=bad)


def test_empty_mapping_disables_masking(tiny_cnn: TinyCNN, images: Tensor) -> None:
    assert _record(tiny_cnn, {}, images).sites == []


def test_a_module_called_twice_gets_a_site_per_call(images: Tensor) -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 64)
            self.relu = nn.ReLU()
            self.out = nn.Linear(64, 2)

        def forward(self, x: Tensor) -> Tensor:
            return self.out(self.relu(self.fc(self.relu(self.fc(x.flatten(1))))))

    masks = _record(Twice().eval(), 0.0, images)
    assert [s.name for s in masks.sites] == ["fc", "fc#2"]


def test_a_plain_function_gets_numbered_sites(tiny_cnn: TinyCNN, images: Tensor) -> None:
    with torch.no_grad():
        masks = MaskUnits.record(None, None, lambda: tiny_cnn(images))[0]
    assert [s.name for s in masks.sites] == ["relu:0", "relu:1", "relu:2"]


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
    assert [s.name for s in masks.sites] == ["bn1" if batch_norm else "conv1"]
    silenced = masks.masks[0] == 0
    assert silenced.any() and (~silenced).any()
    after_relu = _post_relu1(model, masks, images)
    assert torch.all(after_relu[:, silenced] == 0)
    assert torch.any(after_relu[:, ~silenced] != 0)


def test_a_different_control_flow_is_refused(images: Tensor) -> None:
    class Branchy(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 2)
            self.calls = 0

        def forward(self, x: Tensor) -> Tensor:
            self.calls += 1
            y = self.fc(x.flatten(1))
            return y.relu() if self.calls == 1 else y

    model = Branchy()
    masks = _record(model, 0.0, images)
    with pytest.raises(RuntimeError, match="fewer ReLU-family calls"):
        _masked_output(model, masks, images)


def test_masks_change_the_map(tiny_cnn: TinyCNN, images: Tensor) -> None:
    # The levels as learnt: an evidence order reads the caller's model, unmasked either way.
    problem = NoiseMaskProblem(tolerance=0.01, unit="output", mask_rule="paper", order="levels")
    settings = dict(preset=steps(10, n_samples=4), seed=0)
    masked = NoiseMaskAttribution(tiny_cnn, problem).attribute(images, **settings)
    unmasked = NoiseMaskAttribution(tiny_cnn, problem.replace(thresholds={})).attribute(
        images, **settings
    )
    assert not torch.equal(masked, unmasked)

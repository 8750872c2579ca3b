"""LayerNoiseMaskAttribution: the input method with the noise entering at a layer."""

from __future__ import annotations

import warnings

import pytest
import torch
from support import TinyCNN, caller_state, make_tiny_cnn, same_state, steps
from torch import Tensor, nn

from captum_noisemask import (
    DegenerateMapWarning,
    GuaranteeWarning,
    LayerNoiseMaskAttribution,
    NoiseMaskAttribution,
    NoiseMaskProblem,
)
from captum_noisemask.layer import channel_peaks, layer_map_shape

SHORT = dict(preset=steps(30), seed=0)


def _unit_peak(images: Tensor) -> Tensor:
    """Images whose largest value is 1: the layer scale of an identity layer is then 1."""
    return images / images.amax(dim=(1, 2, 3), keepdim=True)


@pytest.mark.parametrize("problem", [NoiseMaskProblem(), NoiseMaskProblem.paper()], ids=str)
def test_an_identity_layer_at_the_input_gives_the_input_map(images: Tensor, problem) -> None:
    """Noise entering through an identity layer on images of peak 1 is the input method's noise:
    the same draws, the same masked network, the same map and certificate."""
    model = nn.Sequential(nn.Identity(), make_tiny_cnn()).eval()
    x = _unit_peak(images)
    plain = NoiseMaskAttribution(model, problem)
    layer = LayerNoiseMaskAttribution(model, model[0], problem=problem)
    expected = plain.attribute(x, target=1, **SHORT)
    maps = layer.attribute(x, target=1, **SHORT)
    torch.testing.assert_close(maps, expected)
    assert 0.05 < float(maps.mean()) < 0.99  # neither no noise nor full noise everywhere
    certificate = layer.certify(x, maps, target=1, n_draws=64, seed=3)
    torch.testing.assert_close(
        certificate.masked.within,
        plain.certify(x, expected, target=1, n_draws=64, seed=3).masked.within,
    )


def test_maps_have_the_layers_shape_and_upsample_with_captum(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    explainer = LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv2)
    maps = explainer.attribute(images, target=0, **SHORT)
    with torch.no_grad():
        activation = tiny_cnn.conv2(tiny_cnn.relu1(tiny_cnn.conv1(images)))
    assert maps.shape == activation.shape
    assert bool(((maps >= 0) & (maps <= 1)).all())
    # One level per position, shared by the channels.
    assert torch.equal(maps, maps[:, :1].expand_as(maps))
    inputs_of_layer = explainer.attribute(images, target=0, attribute_to_layer_input=True, **SHORT)
    assert inputs_of_layer.shape[1] == tiny_cnn.conv2.in_channels
    upsampled = LayerNoiseMaskAttribution.interpolate(maps, images.shape[-2:])
    assert upsampled.shape[-2:] == images.shape[-2:]


def test_an_example_map_does_not_depend_on_its_batch(tiny_cnn: TinyCNN, images: Tensor) -> None:
    """The layer's noise scale is each example's own (its channels' peaks)."""
    explainer = LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv1)
    together = explainer.attribute(images, target=0, **SHORT)
    alone = explainer.attribute(images[1:2], target=0, **SHORT)
    torch.testing.assert_close(together[1:2], alone)


def test_channel_peaks_are_per_example_and_channel() -> None:
    feature_maps = torch.zeros(2, 3, 4, 4)
    feature_maps[0, 1, 2, 3] = -5.0
    feature_maps[1, 2, 0, 0] = 2.0
    peaks = channel_peaks(feature_maps, layer_map_shape(feature_maps))
    assert peaks.shape == (2, 3, 1, 1)
    assert peaks.flatten().tolist() == [0.0, 5.0, 0.0, 0.0, 0.0, 2.0]
    tokens = torch.randn(2, 5, 7)
    assert layer_map_shape(tokens) == (2, 5, 1)
    assert channel_peaks(tokens, layer_map_shape(tokens)).shape == (2, 1, 7)


class KeyTokenModel(nn.Module):
    """Token ids -> embeddings -> a ReLU feature per token -> masked sum -> 2 logits.

    The one feature detects the key token: its embedding lies along the feature's weights,
    every other token's (padding id 0 included) is orthogonal to them, so only the key token
    switches the feature on."""

    def __init__(self, vocabulary: int = 12, dim: int = 6, key: int = 5) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, dim)
        self.feature = nn.Linear(dim, 1)
        with torch.no_grad():
            table = torch.randn(vocabulary, dim, generator=torch.Generator().manual_seed(0))
            table[:, 0] = 0.0
            table[key] = 0.0
            table[key, 0] = 3.0
            self.embedding.weight.copy_(table)
            self.feature.weight.zero_()
            self.feature.weight[0, 0] = 1.0
            self.feature.bias.zero_()

    def forward(self, ids: Tensor, attention_mask: Tensor) -> Tensor:
        features = torch.relu(self.feature(self.embedding(ids))) * attention_mask.unsqueeze(-1)
        total = features.sum(1)
        return torch.cat([total, -total], dim=1)


def test_text_model_key_token_first_and_padding_non_contributing() -> None:
    model = KeyTokenModel().eval()
    ids = torch.tensor([[1, 5, 2, 3, 0, 0], [4, 6, 7, 5, 2, 0]])
    attention_mask = (torch.arange(6) < torch.tensor([[4], [5]])).float()
    explainer = LayerNoiseMaskAttribution(model, model.embedding)
    maps = explainer.attribute(ids, target=0, additional_forward_args=(attention_mask,), seed=0)
    assert maps.shape == (2, 6, 6)
    per_token = maps[..., 0]
    assert per_token.argmax(1).tolist() == [1, 3]  # the key token ranks first
    key = ids == 5
    assert bool((per_token[key] > 0.5).all())
    # The mask units hold the other tokens' features (off, as on the padding id): noise there
    # cannot move the outputs, nor at padding the attention mask hides.
    assert bool((per_token[~key] < 0.05).all())
    assert torch.equal(ids, torch.tensor([[1, 5, 2, 3, 0, 0], [4, 6, 7, 5, 2, 0]]))


def test_a_feature_mask_groups_the_layers_positions(tiny_cnn: TinyCNN, images: Tensor) -> None:
    groups = torch.arange(36).view(1, 1, 6, 6) // 18  # top half, bottom half of conv1's map
    maps = LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv1).attribute(
        images, target=0, feature_mask=groups, **SHORT
    )
    assert maps.shape == (3, 3, 6, 6)
    for example in maps:
        assert example[:, :3].unique().numel() == 1 and example[:, 3:].unique().numel() == 1


class Failing(nn.Module):
    def __init__(self, model: nn.Module, fail_at: int) -> None:
        super().__init__()
        self.model, self.fail_at, self.calls = model, fail_at, 0

    def forward(self, x: Tensor) -> Tensor:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("boom")
        return self.model(x)


@pytest.mark.parametrize(
    "fail_at", [None, 1, 2, 5], ids=["no-failure", "clean", "reference", "loop"]
)
def test_the_caller_keeps_its_model_whatever_happens(images: Tensor, fail_at: int | None) -> None:
    inner = make_tiny_cnn()
    inner.fc2.register_forward_hook(lambda module, inputs, output: None)
    inner.fc1.weight.grad = torch.ones_like(inner.fc1.weight)
    model = Failing(inner, 10**9 if fail_at is None else fail_at).eval()
    before, original = caller_state(model), images.clone()
    explainer = LayerNoiseMaskAttribution(model, inner.conv1)
    if fail_at is None:
        with warnings.catch_warnings():  # a random example may need no contributing position
            warnings.simplefilter("ignore", GuaranteeWarning)
            explainer.attribute(images, target=0, guarantee=0.9, **SHORT)
    else:
        with pytest.raises(RuntimeError, match="boom"):
            explainer.attribute(images, target=0, **SHORT)
    assert same_state(before, caller_state(model))
    assert torch.equal(images, original)


def test_warnings_point_at_the_caller(half_blind: nn.Module) -> None:
    """A warning names the line that called attribute, for both variants."""
    x = torch.zeros(2, 1, 4, 4)
    wrapped = nn.Sequential(nn.Identity(), half_blind).eval()
    for explainer in (
        NoiseMaskAttribution(wrapped, NoiseMaskProblem(tolerance=5.0, unit="output")),
        LayerNoiseMaskAttribution(
            wrapped, wrapped[0], problem=NoiseMaskProblem(tolerance=5.0, unit="output")
        ),
    ):
        with pytest.warns(DegenerateMapWarning) as record:
            explainer.attribute(x + 1.0, preset=steps(5), seed=0)
        assert {r.filename for r in record if r.category is DegenerateMapWarning} == {__file__}


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.shared = nn.Linear(4, 4)

    def forward(self, x: Tensor) -> Tensor:
        return self.shared(self.shared(x))


class TupleLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(4, 3, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.rnn(x)[0].sum(1)


def test_bad_layers_and_options_are_refused(tiny_cnn: TinyCNN, images: Tensor) -> None:
    with pytest.raises(TypeError, match="layer must be one nn.Module"):
        LayerNoiseMaskAttribution(tiny_cnn, "conv1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="multiply_by_inputs"):
        LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv1, multiply_by_inputs=True)
    with pytest.raises(ValueError, match="DataParallel"):
        LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv1, device_ids=[0])
    twice = Twice()
    with pytest.raises(ValueError, match="ran 2 times"):
        LayerNoiseMaskAttribution(twice, twice.shared).attribute(torch.rand(2, 4), **SHORT)
    recurrent = TupleLayer()
    with pytest.raises(TypeError, match="one floating point tensor"):
        LayerNoiseMaskAttribution(recurrent, recurrent.rnn).attribute(torch.rand(2, 5, 4), **SHORT)
    with pytest.raises(TypeError, match="attribute_to_layer_input"):
        LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv1).attribute(
            images,
            attribute_to_layer_input="yes",
            **SHORT,  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="attributions"):
        LayerNoiseMaskAttribution(tiny_cnn, tiny_cnn.conv1).certify(images, images)


def test_a_guaranteed_layer_map_meets_its_bound_on_fresh_draws(tiny_cnn: TinyCNN) -> None:
    x = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    explainer = LayerNoiseMaskAttribution(
        tiny_cnn, tiny_cnn.conv1, problem=NoiseMaskProblem(held_to="masked")
    )
    maps = explainer.attribute(x, target=0, guarantee=0.95, seed=0)
    unguaranteed = explainer.attribute(x, target=0, seed=0)
    fresh = explainer.certify(x, maps, target=0, seed=7)
    before = explainer.certify(x, unguaranteed, target=0, seed=7)
    assert torch.all(fresh.masked.within_lower >= 0.95)
    assert bool((before.masked.within_lower < 0.95).any())  # the calibration had work to do
    assert torch.all(maps >= unguaranteed - 1e-6)  # levels only go down

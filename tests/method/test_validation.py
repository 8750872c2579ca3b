"""Bad input gets a clear ValueError or TypeError saying what is accepted."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support import TinyCNN
from torch import Tensor, nn

from captum_noisemask import FAST, NoiseMaskAttribution, Preset


def _preset(**fields: object) -> Preset:
    return dataclasses.replace(FAST, **fields)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"n_samples": 0}, ValueError, "n_samples must be a positive int"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be a positive int"),
        ({"n_steps": -1}, ValueError, "n_steps must be a positive int"),
        ({"lr": 0.0}, ValueError, r"lr must be a finite number > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be a finite number"),
        ({"tolerance": -0.1}, ValueError, r"tolerance must be a finite number >= 0"),
        (
            {"preset": "slow"},
            ValueError,
            r"unknown preset 'slow'; accepted: \['coarse', 'faithful', 'fast', 'paper'\]",
        ),
        ({"preset": 3}, TypeError, "preset must be one of"),
        ({"preset": _preset(betas=(0.9, 1.0))}, ValueError, r"betas\[1\] must be in \[0, 1\)"),
        ({"preset": _preset(betas=0.9)}, TypeError, "betas must be a tuple of two numbers"),
        ({"preset": _preset(emulated_samples=0)}, ValueError, "emulated_samples must be a"),
        ({"highlight": "both"}, ValueError, "unknown highlight 'both'; accepted"),
        ({"noise_scale": 0.0}, ValueError, "noise_scale must be a finite number > 0"),
        ({"noise_scale": (1.0, 2.0)}, ValueError, "a tuple with one per input"),
        ({"internal_batch_size": 0}, ValueError, "internal_batch_size must be a positive int"),
        ({"seed": "1"}, TypeError, "seed must be an int, a torch.Generator or None"),
        ({"target": 3}, ValueError, r"out of range .* accepted indices are -3..2"),
        ({"target": -4}, ValueError, "out of range"),
        ({"target": [0, 1]}, ValueError, "one entry per example"),
        ({"target": 1.5}, TypeError, "target must be None, an int"),
        ({"target": (0, 1)}, ValueError, "has 2 indices"),
    ],
)
def test_bad_arguments(
    tiny_cnn: TinyCNN, images: Tensor, kwargs: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        NoiseMaskAttribution(tiny_cnn).attribute(images, **{"n_steps": 1, **kwargs})


@pytest.mark.parametrize(
    ("inputs", "error", "message"),
    [
        (torch.full((1, 1, 8, 8), float("nan")), ValueError, "NaN or inf"),
        (torch.full((1, 1, 8, 8), float("inf")), ValueError, "NaN or inf"),
        (torch.zeros(0, 1, 8, 8), ValueError, "non-empty batch"),
        (torch.zeros(1, 1, 8, 8, dtype=torch.long), TypeError, "floating point"),
        ((), ValueError, "non-empty tuple"),
        ("image", TypeError, "inputs must be a torch.Tensor or a tuple"),
    ],
)
def test_bad_inputs(tiny_cnn: TinyCNN, inputs: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        NoiseMaskAttribution(tiny_cnn).attribute(inputs, n_steps=1)


def test_mismatched_batch_sizes(tiny_cnn: TinyCNN) -> None:
    with pytest.raises(ValueError, match="share the batch size"):
        NoiseMaskAttribution(tiny_cnn, thresholds={}).attribute(
            (torch.rand(2, 1, 8, 8), torch.rand(3, 4)), n_steps=1
        )


def test_output_not_batch_by_classes_needs_a_target(images: Tensor) -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3)).eval()
    with pytest.raises(ValueError, match=r"or \(batch,\) model output.*pass a target"):
        NoiseMaskAttribution(model, thresholds={}).attribute(images, n_steps=1)
    out = NoiseMaskAttribution(model, thresholds={}).attribute(images, target=(0, 2, 2), n_steps=1)
    assert out.shape == images.shape


def test_a_plain_function_gets_mask_units_too(tiny_cnn: TinyCNN, images: Tensor) -> None:
    settings = dict(n_steps=5, n_samples=4, seed=0, tolerance=0.05)
    by_function = NoiseMaskAttribution(lambda x: tiny_cnn(x)).attribute(images, **settings)
    by_module = NoiseMaskAttribution(tiny_cnn).attribute(images, **settings)
    torch.testing.assert_close(by_function, by_module)
    named = NoiseMaskAttribution(lambda x: tiny_cnn(x), thresholds={tiny_cnn.conv1: 0.2})
    assert named.attribute(images, n_steps=1).shape == images.shape


def test_bad_thresholds(tiny_cnn: TinyCNN) -> None:
    with pytest.raises(TypeError, match="mapping from layer to threshold"):
        NoiseMaskAttribution(tiny_cnn, thresholds=[0.2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nn.Module objects or their names"):
        NoiseMaskAttribution(tiny_cnn, thresholds={1: 0.2})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="must be a finite number >= 0"):
        NoiseMaskAttribution(tiny_cnn, thresholds={"conv1": float("inf")})


@settings(max_examples=25, deadline=None)
@given(
    batch=st.integers(1, 3),
    shape=st.sampled_from([(5,), (2, 3, 3), (1, 4, 5), (2, 2, 2, 2)]),
    n_samples=st.integers(1, 5),
    n_steps=st.integers(1, 3),
    internal_batch_size=st.one_of(st.none(), st.integers(1, 12)),
    highlight=st.sampled_from(["contributing", "non_contributing"]),
)
def test_any_valid_shape_and_setting(
    batch: int,
    shape: tuple[int, ...],
    n_samples: int,
    n_steps: int,
    internal_batch_size: int | None,
    highlight: str,
) -> None:
    n_features = int(torch.tensor(shape).prod())
    model = nn.Sequential(nn.Flatten(), nn.Linear(n_features, 4), nn.ReLU(), nn.Linear(4, 3))
    x = torch.rand(batch, *shape)
    out = NoiseMaskAttribution(model.eval()).attribute(
        x,
        n_samples=n_samples,
        n_steps=n_steps,
        internal_batch_size=internal_batch_size,
        highlight=highlight,  # type: ignore[arg-type]
        seed=0,
    )
    assert out.shape == x.shape
    assert ((out >= 0) & (out <= 1)).all()

"""Bad input gets a clear ValueError or TypeError saying what is accepted."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from support import TinyCNN, steps
from torch import Tensor, nn

from captum_noisemask import FAST, NoiseMaskAttribution, NoiseMaskProblem

NO_MASKS = NoiseMaskProblem(thresholds={})


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"n_samples": 0}, ValueError, "n_samples must be a positive int"),
        ({"n_samples": 2.5}, TypeError, "n_samples must be a positive int"),
        ({"n_steps": -1}, ValueError, "n_steps must be a positive int"),
        ({"lr": 0.0}, ValueError, r"lr must be a finite number > 0"),
        ({"lr": float("nan")}, ValueError, "lr must be a finite number"),
        ({"lr_final": -1.0}, ValueError, r"lr_final must be a finite number > 0"),
        ({"init": 1.5}, ValueError, r"init must be a noise level in \[0, 1\]"),
        ({"antithetic": 1}, TypeError, "antithetic must be True or False"),
        ({"betas": (0.9, 1.0)}, ValueError, r"betas\[1\] must be in \[0, 1\)"),
        ({"betas": 0.9}, TypeError, "betas must be a tuple of two numbers"),
        ({"emulated_samples": 0}, ValueError, "emulated_samples must be a"),
    ],
)
def test_bad_schedules(fields: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        dataclasses.replace(FAST, **fields)


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"tolerance": -0.1, "unit": "output"}, ValueError, r"tolerance must be a finite .*>= 0"),
        ({"tolerance": 0.0}, ValueError, r"tolerance must be a finite number > 0"),
        ({"unit": "logits"}, ValueError, r"unknown unit 'logits'; accepted: \['output'"),
        ({"penalty": 0.0}, ValueError, r"penalty must be a finite number > 0"),
        ({"mask_rule": "zero"}, ValueError, r"unknown mask_rule 'zero'; accepted"),
        ({"held_to": "clean"}, ValueError, r"unknown held_to 'clean'; accepted"),
        ({"output_transform": "softmax"}, TypeError, "output_transform must be a callable"),
        ({"noise_scale": 0.0}, ValueError, "noise_scale must be a finite number > 0"),
        ({"noise_scale": ()}, ValueError, "noise_scale must be a number, a tensor or"),
        ({"thresholds": [0.2]}, TypeError, "mapping from layer to threshold"),
        ({"thresholds": {1: 0.2}}, TypeError, "nn.Module objects or their names"),
        ({"thresholds": {"conv1": float("inf")}}, ValueError, "must be a finite number >= 0"),
        ({"tolerance_path": ()}, ValueError, "at least one multiplier"),
        ({"tolerance_path": (2.0, 1.0)}, ValueError, "must increase strictly"),
        ({"tolerance_path": (1.0, 2.0)}, ValueError, "ordered by its path; pass order='levels'"),
        (
            {"order": "rank"},
            ValueError,
            r"unknown order 'rank'; accepted: \['evidence', 'levels'\]",
        ),
    ],
)
def test_bad_problems(fields: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        NoiseMaskProblem(**fields)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"preset": "slow"},
            ValueError,
            r"unknown preset 'slow'; accepted: \['coarse', 'faithful', 'fast', 'paper'\]",
        ),
        ({"preset": 3}, TypeError, "preset must be one of"),
        ({"highlight": "both"}, ValueError, "unknown highlight 'both'; accepted"),
        ({"internal_batch_size": 0}, ValueError, "internal_batch_size must be a positive int"),
        ({"guarantee": 1.0}, ValueError, r"guarantee must be a number in \(0, 1\)"),
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
        NoiseMaskAttribution(tiny_cnn).attribute(images, **{"preset": steps(1), **kwargs})


def test_a_problem_that_does_not_fit_the_inputs(tiny_cnn: TinyCNN, images: Tensor) -> None:
    two_scales = NoiseMaskProblem(noise_scale=(1.0, 2.0))
    with pytest.raises(ValueError, match="a tuple with one per input"):
        NoiseMaskAttribution(tiny_cnn, two_scales).attribute(images, preset=steps(1))
    with pytest.raises(ValueError, match="baselines are the reference of mask_rule='reference'"):
        NoiseMaskAttribution(tiny_cnn, NoiseMaskProblem.paper()).attribute(
            images, baselines=0.5, preset=steps(1)
        )
    with pytest.raises(ValueError, match="unknown layer 'conv9'"):
        NoiseMaskAttribution(tiny_cnn, NoiseMaskProblem(thresholds={"conv9": 0.1}))


def test_the_explainer_takes_a_problem_or_none(tiny_cnn: TinyCNN) -> None:
    assert NoiseMaskAttribution(tiny_cnn).problem == NoiseMaskProblem()
    with pytest.raises(TypeError, match="problem must be a NoiseMaskProblem or None, got dict"):
        NoiseMaskAttribution(tiny_cnn, {"tolerance": 1.0})  # type: ignore[arg-type]


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
        NoiseMaskAttribution(tiny_cnn).attribute(inputs, preset=steps(1))


def test_mismatched_batch_sizes(tiny_cnn: TinyCNN) -> None:
    with pytest.raises(ValueError, match="share the batch size"):
        NoiseMaskAttribution(tiny_cnn, NO_MASKS).attribute(
            (torch.rand(2, 1, 8, 8), torch.rand(3, 4)), preset=steps(1)
        )


def test_output_not_batch_by_classes_needs_a_target(images: Tensor) -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3)).eval()
    with pytest.raises(ValueError, match=r"or \(batch,\) model output.*pass a target"):
        NoiseMaskAttribution(model, NO_MASKS).attribute(images, preset=steps(1))
    out = NoiseMaskAttribution(model, NO_MASKS).attribute(images, target=(0, 2, 2), preset=steps(1))
    assert out.shape == images.shape


def test_a_plain_function_gets_mask_units_too(tiny_cnn: TinyCNN, images: Tensor) -> None:
    problem = NoiseMaskProblem(tolerance=0.05, unit="output")
    schedule = steps(5, n_samples=4)
    by_function = NoiseMaskAttribution(lambda x: tiny_cnn(x), problem)
    by_module = NoiseMaskAttribution(tiny_cnn, problem)
    torch.testing.assert_close(
        by_function.attribute(images, preset=schedule, seed=0),
        by_module.attribute(images, preset=schedule, seed=0),
    )
    named = NoiseMaskAttribution(
        lambda x: tiny_cnn(x), NoiseMaskProblem(thresholds={tiny_cnn.conv1: 0.2})
    )
    assert named.attribute(images, preset=steps(1)).shape == images.shape


# One to three steps rarely separate the levels: constant maps are expected here.
@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")
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
        preset=steps(n_steps, n_samples=n_samples),
        internal_batch_size=internal_batch_size,
        highlight=highlight,  # type: ignore[arg-type]
        seed=0,
    )
    assert out.shape == x.shape
    assert ((out >= 0) & (out <= 1)).all()

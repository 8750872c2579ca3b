"""Property-based: random shapes, dtypes, targets, feature masks and option values thrown at
every public entry point either give maps of the right shape in [0, 1] or a ValueError,
TypeError or RuntimeError naming the argument; no call leaves state behind."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import caller_state, same_state
from torch import nn

from captum_noisemask import (
    LayerNoiseMaskAttribution,
    NoiseMaskAttribution,
    NoiseMaskProblem,
    Preset,
)

#: Words an error message may use to name what was wrong.
NAMES = (
    "inputs",
    "target",
    "feature_mask",
    "tolerance",
    "unit",
    "mask_rule",
    "penalty",
    "held_to",
    "noise_scale",
    "n_samples",
    "n_steps",
    "guarantee",
    "attributions",
    "n_draws",
    "confidence",
    "highlight",
)
THREE_STEPS = Preset(n_samples=4, n_steps=3, lr=0.02, antithetic=True)
PROPERTY_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _model(channels: int, height: int, width: int, classes: int, dtype: torch.dtype) -> nn.Module:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(channels, 2, 1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(2 * height * width, classes),
    )
    return model.to(dtype).eval()


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    batch = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 2))
    height, width = draw(st.integers(2, 4)), draw(st.integers(2, 4))
    classes = draw(st.integers(1, 4))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    x = torch.rand(batch, channels, height, width, generator=torch.Generator().manual_seed(1))
    target = draw(
        st.one_of(
            st.none(),
            st.integers(-classes - 1, classes),
            st.lists(st.integers(0, classes - 1), min_size=1, max_size=4),
            st.just(torch.zeros(batch, dtype=torch.long)),
            st.just(1.5),
        )
    )
    feature_mask = draw(
        st.one_of(
            st.none(),
            st.just(torch.arange(height * width).view(1, 1, height, width) % 3),
            st.just(torch.zeros(1, 1, height + 1, width, dtype=torch.long)),
        )
    )
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "tolerance": st.sampled_from([0.0, 0.1, 0.5, 2.0, -1.0, float("nan")]),
                "unit": st.sampled_from(["output", "spread", "response", "logits"]),
                "mask_rule": st.sampled_from(["paper", "reference", "zero"]),
                "penalty": st.sampled_from([0.5, 0.0]),
                "held_to": st.sampled_from(["plain", "masked", "clean"]),
                "noise_scale": st.sampled_from([1.0, 0.5, -1.0, (1.0, 1.0)]),
            },
        )
    )
    return {
        "model": _model(channels, height, width, classes, dtype),
        "x": x.to(dtype),
        "target": target,
        "feature_mask": feature_mask,
        "options": options,
    }


def _check(call: Any, model: nn.Module, expect_shape: tuple[int, ...] | None) -> Any:
    before = caller_state(model)
    result = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call()
        except (ValueError, TypeError, RuntimeError) as error:
            message = str(error)
            assert any(name in message for name in NAMES), message
    assert same_state(before, caller_state(model))
    if result is not None and expect_shape is not None:
        assert tuple(result.shape) == expect_shape
        assert bool(((result >= 0) & (result <= 1)).all())
    return result


@PROPERTY_SETTINGS
@given(problems(), st.sampled_from([None, 0.9]))
def test_attribute_works_or_names_the_argument(problem: dict[str, Any], guarantee: Any) -> None:
    model, x = problem["model"], problem["x"]

    def call() -> Any:
        explainer = NoiseMaskAttribution(model, NoiseMaskProblem(**problem["options"]))
        return explainer.attribute(
            x,
            target=problem["target"],
            feature_mask=problem["feature_mask"],
            preset=THREE_STEPS,
            seed=0,
            guarantee=guarantee,
        )

    _check(call, model, tuple(x.shape))


@PROPERTY_SETTINGS
@given(problems(), st.sampled_from([0.0, 0.5, 1.0, 2.0]), st.sampled_from([10, 0]))
def test_certify_delta_and_masks_work_or_name_the_argument(
    problem: dict[str, Any], level: float, n_draws: int
) -> None:
    model, x = problem["model"], problem["x"]
    try:
        explainer = NoiseMaskAttribution(model, NoiseMaskProblem(**problem["options"]))
    except (ValueError, TypeError) as error:  # a bad problem is refused when it is built
        assert any(name in str(error) for name in NAMES), str(error)
        return
    maps = torch.full_like(x, level)
    certificate = _check(
        lambda: explainer.certify(x, maps, target=problem["target"], n_draws=n_draws, seed=0),
        model,
        None,
    )
    if certificate is not None:
        for network in (certificate.masked, certificate.plain):
            assert network.within.shape == (x.shape[0],)
            assert bool((network.within_lower <= network.within + 1e-12).all())
    _check(
        lambda: explainer.compute_convergence_delta(
            maps, x, target=problem["target"], n_samples=4, seed=0
        ),
        model,
        None,
    )
    _check(lambda: explainer.inspect_masks(x), model, None)


@PROPERTY_SETTINGS
@given(problems(), st.sampled_from([None, 0.9]), st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_the_layer_variant_works_or_names_the_argument(
    problem: dict[str, Any], guarantee: Any, level: float
) -> None:
    """The same problems through the conv layer: maps shaped like its output, or a named error;
    its certificate of constant maps likewise."""
    model, x = problem["model"], problem["x"]
    try:
        explainer = LayerNoiseMaskAttribution(
            model, model[0], problem=NoiseMaskProblem(**problem["options"])
        )
    except (ValueError, TypeError) as error:
        assert any(name in str(error) for name in NAMES), str(error)
        return
    layer_shape = (x.shape[0], 2, *x.shape[2:])

    def call() -> Any:
        return explainer.attribute(
            x,
            target=problem["target"],
            feature_mask=problem["feature_mask"],
            preset=THREE_STEPS,
            seed=0,
            guarantee=guarantee,
        )

    _check(call, model, layer_shape)
    maps = torch.full(layer_shape, level, dtype=x.dtype)
    certificate = _check(
        lambda: explainer.certify(x, maps, target=problem["target"], n_draws=20, seed=0),
        model,
        None,
    )
    if certificate is not None:
        assert certificate.masked.within.shape == (x.shape[0],)

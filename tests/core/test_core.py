"""The method itself: ground truth, a slow reference of the objective, one Adam step."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from support import HalfBlindLinear, TinyCNN, steps
from torch import Tensor

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem, Preset
from captum_noisemask.core.adam import ProjectedAdam
from captum_noisemask.core.levels import PerPosition
from captum_noisemask.core.mask_units import MaskUnits
from captum_noisemask.core.noise import UniformNoise
from captum_noisemask.core.objective import OutputConstraint
from captum_noisemask.core.optimisation import NoisyNetwork, optimise_noise_levels

#: Half a logit, no mask units: the half-blind model's answer is worked out by hand.
HALF_A_LOGIT = NoiseMaskProblem(tolerance=0.5, unit="output", thresholds={})


def test_ignored_region_is_fully_non_contributing(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    w = NoiseMaskAttribution(half_blind, HALF_A_LOGIT).attribute(
        x, highlight="non_contributing", seed=0
    )
    assert torch.equal(w[..., :2], torch.ones_like(w[..., :2]))
    # Full noise on a used pixel moves the logits by up to 4 > 0.5: it must stay low.
    assert w[..., 2:].max() < 0.3


def test_faithful_preset_finds_the_ignored_region(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    w = NoiseMaskAttribution(half_blind, HALF_A_LOGIT).attribute(
        x, preset="faithful", highlight="non_contributing", seed=0
    )
    # No hinge gradient and no draw variance there: Adam travels lr x 400 steps = 1.5 > 1.
    assert torch.equal(w[..., :2], torch.ones_like(w[..., :2]))
    assert w[..., 2:].max() < 0.3


def test_contributing_is_one_minus_non_contributing(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    explainer = NoiseMaskAttribution(half_blind, NoiseMaskProblem(thresholds={}))
    w = explainer.attribute(x, highlight="non_contributing", seed=3, preset=steps(10))
    c = explainer.attribute(x, highlight="contributing", seed=3, preset=steps(10))
    torch.testing.assert_close(c, 1 - w)


def _reference_hinge(
    model: TinyCNN, x: Tensor, w: Tensor, noise: Tensor, tolerance: float, threshold: float
) -> Tensor:
    """Plain loops: the paper's hinge with conv1 masked at ``threshold``, per example."""
    hinges = []
    for b in range(x.shape[0]):
        clean_conv1 = model.conv1(x[b : b + 1])
        keep = (clean_conv1 > threshold).float()
        clean = model(x[b : b + 1])[0]
        total = torch.zeros(())
        for n in range(noise.shape[0]):
            noisy_input = x[b : b + 1] + noise[n] * w[b : b + 1]
            h = model.relu1(model.conv1(noisy_input) * keep)
            h = model.relu2(model.conv2(h))
            noisy = model.fc2(model.relu3(model.fc1(h.flatten(1))))[0]
            for k in range(clean.shape[0]):
                total = total + torch.clamp(torch.abs(clean[k] - noisy[k]) - tolerance, min=0)
        hinges.append(total / noise.shape[0])
    return torch.stack(hinges)


def _reference_draw_gradients(model: TinyCNN, x: Tensor, w: Tensor, noise: Tensor) -> Tensor:
    """Each draw's own gradient of the plain-loop hinge with respect to ``w``, stacked."""
    grads = []
    for n in range(noise.shape[0]):
        w_ref = w.clone().requires_grad_()
        _reference_hinge(model, x, w_ref, noise[n : n + 1], 0.01, 0.1).sum().backward()
        assert w_ref.grad is not None
        grads.append(w_ref.grad)
    return torch.stack(grads)


def _problem(model: TinyCNN, x: Tensor, n_samples: int, ibs: int | None) -> NoisyNetwork:
    constraint = OutputConstraint(None, x.shape[0], 0.01, None)
    with torch.no_grad():
        masks, clean_output = MaskUnits.record(model, {model.conv1: 0.1}, lambda: model(x))
    noise = UniformNoise([x.shape[1:]], [1.0], x.dtype, x.device, antithetic=False, seed=7)
    layout = PerPosition([tuple(x.shape)])
    return NoisyNetwork(
        model, (x,), (), constraint, clean_output, masks, noise, layout, n_samples, ibs
    )


def test_hinge_gradient_and_draw_variance_match_a_plain_loop(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    w = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    noise = torch.rand(6, 1, 1, 8, 8, generator=torch.Generator().manual_seed(7)) * 2 - 1
    draw_grads = _reference_draw_gradients(tiny_cnn, images, w, noise)
    reference = _reference_hinge(tiny_cnn, images, w, noise, 0.01, 0.1)
    assert reference.min() > 0  # the comparison is not vacuous
    assert draw_grads.var(0).max() > 0
    for ibs in (None, 5):
        estimate = _problem(tiny_cnn, images, 6, ibs).evaluate(
            (w,), with_grad=True, with_variance=True
        )
        assert estimate.gradient is not None and estimate.draw_variance is not None
        torch.testing.assert_close(estimate.hinge, reference, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(estimate.gradient[0], draw_grads.mean(0), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(
            estimate.draw_variance[0], draw_grads.var(0), rtol=1e-3, atol=1e-7
        )


def test_first_step_is_an_adam_step_on_the_objective_then_projection(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    settings = Preset(n_samples=6, n_steps=1, lr=0.3, init=0.5)
    result = optimise_noise_levels(_problem(tiny_cnn, images, 6, None), settings)
    w0 = torch.full((3, 1, 8, 8), 0.5, requires_grad=True)
    noise = torch.rand(6, 1, 1, 8, 8, generator=torch.Generator().manual_seed(7)) * 2 - 1
    objective = _reference_hinge(tiny_cnn, images, w0, noise, 0.01, 0.1) - w0.mean((1, 2, 3))
    objective.sum().backward()
    assert w0.grad is not None
    # Adam's first step moves by lr * g / (|g| + eps): about lr against the gradient's sign.
    expected = (0.5 - 0.3 * w0.grad / (w0.grad.abs() + 1e-8)).clamp(0, 1)
    torch.testing.assert_close(result.maps[0], expected, rtol=1e-4, atol=1e-4)


def test_cosine_schedule_reaches_final_learning_rate() -> None:
    from captum_noisemask.core.optimisation import _learning_rate

    preset = Preset(n_samples=1, n_steps=11, lr=0.1, lr_final=0.01)
    rates = [_learning_rate(preset, s) for s in range(11)]
    assert rates[0] == 0.1 and abs(rates[-1] - 0.01) < 1e-12
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))


def test_projected_adam_is_torch_adam_followed_by_clamping() -> None:
    generator = torch.Generator().manual_seed(0)
    ours = torch.rand(4, 5, generator=generator)
    theirs = ours.clone().requires_grad_()
    reference = torch.optim.Adam([theirs], lr=0.05)
    adam = ProjectedAdam((ours,), betas=(0.9, 0.999))
    for step in range(100):
        grad = torch.randn(4, 5, generator=generator) * (1 + step % 3)
        theirs.grad = grad.clone()
        reference.step()
        with torch.no_grad():
            theirs.clamp_(0, 1)
        adam.step((grad,), (grad.square(),), lr=0.05)
    assert ((ours == 0) | (ours == 1)).any()  # the projection was exercised
    torch.testing.assert_close(ours, theirs.detach())


def test_emulated_preset_rescales_learning_rate_and_betas() -> None:
    reference = Preset(n_samples=100, n_steps=15_000, lr=1e-4)
    emulated = reference.emulated(n_samples=32, n_steps=150)
    assert emulated.lr == pytest.approx(1e-2)
    assert emulated.betas == pytest.approx((0.9**100, 0.999**100))
    assert emulated.emulated_samples == 100 and emulated.antithetic
    assert (emulated.n_samples, emulated.n_steps) == (32, 150)
    with pytest.raises(ValueError, match="constant learning rate"):
        Preset(n_samples=1, n_steps=10, lr=0.1, lr_final=0.01).emulated(1, 1)
    with pytest.raises(ValueError, match="constant learning rate"):
        emulated.emulated(n_samples=8, n_steps=10)


def test_first_emulated_step_feeds_the_draw_variance_to_the_second_moment(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    settings = Preset(n_samples=6, n_steps=1, lr=0.3, init=0.5, emulated_samples=2)
    result = optimise_noise_levels(_problem(tiny_cnn, images, 6, None), settings)
    w0 = torch.full((3, 1, 8, 8), 0.5)
    noise = torch.rand(6, 1, 1, 8, 8, generator=torch.Generator().manual_seed(7)) * 2 - 1
    draw_grads = _reference_draw_gradients(tiny_cnn, images, w0, noise)
    grad = draw_grads.mean(0) - 1 / 64
    # First step: bias-corrected moments are g and g^2 + s^2 / 2.
    expected = 0.5 - 0.3 * grad / ((grad.square() + draw_grads.var(0) / 2).sqrt() + 1e-8)
    torch.testing.assert_close(result.maps[0], expected.clamp(0, 1), rtol=1e-4, atol=1e-4)
    plain_settings = dataclasses.replace(settings, emulated_samples=None)
    plain = optimise_noise_levels(_problem(tiny_cnn, images, 6, None), plain_settings)
    assert (result.maps[0] - w0).abs().mean() < (plain.maps[0] - w0).abs().mean()


def test_feature_group_gradients_are_sums_of_per_position_gradients(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    from captum_noisemask import grid_feature_mask
    from captum_noisemask.core.levels import FeatureGroups

    mask = grid_feature_mask(8, 8, (4, 2))  # 8 groups of 4 x 2 pixels
    groups = torch.rand(3, 8, generator=torch.Generator().manual_seed(3))
    layout = FeatureGroups([mask], batch_size=3)
    per_pixel = _problem(tiny_cnn, images, 6, None)
    expanded = layout.maps((groups,), slice(None))[0]
    assert expanded.shape == (3, 1, 8, 8)
    assert torch.equal(expanded[:, 0, :4, :2], groups[:, :1, None].expand(3, 4, 2))
    reference = per_pixel.evaluate((expanded.expand(3, 1, 8, 8).clone(),), with_grad=True)
    grouped = _problem(tiny_cnn, images, 6, None)
    grouped.layout = layout
    estimate = grouped.evaluate((groups,), with_grad=True, with_variance=True)
    assert reference.gradient is not None and estimate.gradient is not None
    summed = torch.zeros(3, 8).scatter_add_(
        1, mask.flatten(1).expand(3, -1), reference.gradient[0].flatten(1)
    )
    torch.testing.assert_close(estimate.hinge, reference.hinge)
    torch.testing.assert_close(estimate.gradient[0], summed)
    assert float(summed.abs().sum()) > 0  # not vacuous
    assert estimate.draw_variance is not None and estimate.draw_variance[0].shape == (3, 8)
    counts = layout.mean_gradient()
    torch.testing.assert_close(counts, torch.full((1, 8), 1 / 8))

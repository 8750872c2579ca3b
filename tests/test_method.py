"""The method itself: ground truth, a slow reference of the objective, one Adam step."""

from __future__ import annotations

import torch
from conftest import HalfBlindLinear, TinyCNN
from torch import Tensor

from captum_noisemask import NoiseMaskAttribution, Preset
from captum_noisemask.mask_units import MaskUnits
from captum_noisemask.noise import UniformNoise
from captum_noisemask.objective import OutputConstraint
from captum_noisemask.optimisation import NoisyForward, optimise_noise_levels


def test_ignored_region_is_fully_non_contributing(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    w = NoiseMaskAttribution(half_blind, thresholds={}).attribute(
        x, highlight="non_contributing", tolerance=0.5, seed=0
    )
    assert torch.equal(w[..., :2], torch.ones_like(w[..., :2]))
    # Full noise on a used pixel moves the logits by up to 4 > 0.5: it must stay low.
    assert w[..., 2:].max() < 0.3


def test_contributing_is_one_minus_non_contributing(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    explainer = NoiseMaskAttribution(half_blind, thresholds={})
    w = explainer.attribute(x, highlight="non_contributing", seed=3, n_steps=10)
    c = explainer.attribute(x, highlight="contributing", seed=3, n_steps=10)
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


def _problem(model: TinyCNN, x: Tensor, n_samples: int, ibs: int | None) -> NoisyForward:
    constraint = OutputConstraint(None, x.shape[0], 0.01, None)
    with torch.no_grad():
        masks, clean_output = MaskUnits.record(model, {model.conv1: 0.1}, lambda: model(x))
    noise = UniformNoise([x.shape[1:]], [1.0], x.dtype, x.device, antithetic=False, seed=7)
    return NoisyForward(model, (x,), (), constraint, clean_output, masks, noise, n_samples, ibs)


def test_hinge_and_gradient_match_a_plain_loop(tiny_cnn: TinyCNN, images: Tensor) -> None:
    w = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(2)).requires_grad_()
    for ibs in (None, 5):
        hinge, grads = _problem(tiny_cnn, images, 6, ibs).evaluate((w,), with_grad=True)
        assert grads is not None
        noise = torch.rand(6, 1, 1, 8, 8, generator=torch.Generator().manual_seed(7)) * 2 - 1
        w_ref = w.detach().clone().requires_grad_()
        reference = _reference_hinge(tiny_cnn, images, w_ref, noise, 0.01, 0.1)
        reference.sum().backward()
        torch.testing.assert_close(hinge, reference.detach(), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(grads[0], w_ref.grad, rtol=1e-4, atol=1e-6)
        assert reference.min() > 0  # the comparison is not vacuous


def test_first_step_is_an_adam_step_on_the_objective_then_projection(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    settings = Preset(n_samples=6, n_steps=1, lr=0.3, tolerance=0.01, init=0.5)
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
    from captum_noisemask.optimisation import _learning_rate

    preset = Preset(n_samples=1, n_steps=11, lr=0.1, tolerance=0.0, lr_final=0.01)
    rates = [_learning_rate(preset, s) for s in range(11)]
    assert rates[0] == 0.1 and abs(rates[-1] - 0.01) < 1e-12
    assert all(a > b for a, b in zip(rates, rates[1:], strict=False))

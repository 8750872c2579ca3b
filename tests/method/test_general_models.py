"""Beyond the paper's CNN: tolerances that fit the model, no silent empty maps, sequences,
normalised inputs, and the Captum contract's corners."""

from __future__ import annotations

import warnings

import pytest
import torch
from architectures import build
from support import HalfBlindLinear, TinyCNN, steps
from torch import Tensor, nn

from captum_noisemask import DegenerateMapWarning, NoiseMaskAttribution, NoiseMaskProblem

#: Travels about 2.5 in w: enough for every level to reach 0 or 1.
QUICK = dict(preset=steps(40, n_samples=8).with_lr(0.1), seed=0)
ONE_LOGIT = NoiseMaskProblem(tolerance=1.0, unit="output")
RELATIVE = NoiseMaskProblem(tolerance=0.05, unit="spread")


class QuietHalfBlind(nn.Module):
    """HalfBlindLinear scaled down: its logits move by far less than 1.0 under full noise."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = HalfBlindLinear()

    def forward(self, x: Tensor) -> Tensor:
        return 0.01 * self.inner(x)


def test_a_quiet_model_warns_instead_of_returning_a_silent_empty_map() -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    with pytest.warns(DegenerateMapWarning, match=r"constant .*w = 1.*unit='response'"):
        maps = NoiseMaskAttribution(QuietHalfBlind().eval(), ONE_LOGIT).attribute(x, **QUICK)
    assert torch.all(maps == 0)


def test_the_default_tolerance_finds_the_used_half_of_a_quiet_model() -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateMapWarning)
        maps = NoiseMaskAttribution(QuietHalfBlind().eval()).attribute(x, **QUICK)
    used, ignored = maps[..., 2:], maps[..., :2]
    assert torch.all(ignored == 0) and float(used.min()) > 0.1


def test_relative_tolerance_finds_the_used_half_of_a_quiet_model() -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateMapWarning)
        maps = NoiseMaskAttribution(QuietHalfBlind().eval(), RELATIVE).attribute(x, **QUICK)
    used, ignored = maps[..., 2:], maps[..., :2]
    assert torch.all(ignored == 0) and float(used.min()) > 0.1


def test_relative_tolerance_scales_with_the_outputs() -> None:
    """The same model at two output scales gets the same map: the tolerance follows the spread."""
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    loud = NoiseMaskAttribution(HalfBlindLinear().eval(), RELATIVE).attribute(x, **QUICK)
    quiet = NoiseMaskAttribution(QuietHalfBlind().eval(), RELATIVE).attribute(x, **QUICK)
    torch.testing.assert_close(loud, quiet, atol=1e-4, rtol=0)


class FirstTokenReader(nn.Module):
    """Reads only token 0 of a (B, T, D) sequence."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        with torch.no_grad():
            self.fc.weight.fill_(3.0)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.fc(tokens[:, 0])


def test_sequences_get_a_level_per_token() -> None:
    tokens = torch.rand(2, 5, 4, generator=torch.Generator().manual_seed(0))
    maps = NoiseMaskAttribution(FirstTokenReader().eval()).attribute(tokens, **QUICK)
    assert maps.shape == tokens.shape
    assert torch.all(maps[:, 1:] == 0)  # unread tokens do not contribute
    assert float(maps[:, 0].mean()) > 0.5


def test_per_channel_noise_scale_is_applied_per_channel() -> None:
    class ReadsChannel(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return x[:, 1].flatten(1).sum(1, keepdim=True).repeat(1, 2) * torch.tensor([1.0, -1.0])

    x = torch.zeros(1, 3, 2, 2)
    problem = NoiseMaskProblem(tolerance=0.1, unit="output", thresholds={})
    # Noise only on the unread channels: every pixel tolerates full noise.
    silent = torch.tensor([1.0, 1e-6, 1.0]).view(3, 1, 1)
    model = ReadsChannel().eval()
    scaled = NoiseMaskAttribution(model, problem.replace(noise_scale=silent)).attribute(x, **QUICK)
    plain = NoiseMaskAttribution(model, problem).attribute(x, **QUICK)
    assert float(scaled.max()) < 0.01 < float(plain.min())
    misfit = NoiseMaskAttribution(model, problem.replace(noise_scale=torch.ones(2, 1, 1)))
    with pytest.raises(ValueError, match=r"does not broadcast to one example"):
        misfit.attribute(x, **QUICK)


def test_a_generator_seed_reproduces_the_map(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn)
    first = explainer.attribute(images, preset=steps(5), seed=torch.Generator().manual_seed(3))
    second = explainer.attribute(images, preset=steps(5), seed=torch.Generator().manual_seed(3))
    by_int = explainer.attribute(images, preset=steps(5), seed=3)
    torch.testing.assert_close(first, second)
    torch.testing.assert_close(first, by_int)


def test_regression_outputs_need_no_target() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 1), nn.Flatten(0)).eval()
    x = torch.rand(3, 1, 4, 4)
    assert model(x).shape == (3,)
    maps = NoiseMaskAttribution(model, RELATIVE.replace(tolerance=0.1)).attribute(x, **QUICK)
    assert maps.shape == x.shape


def test_inference_mode_gets_a_clear_error(tiny_cnn: TinyCNN, images: Tensor) -> None:
    with torch.inference_mode(), pytest.raises(RuntimeError, match="outside inference_mode"):
        NoiseMaskAttribution(tiny_cnn).attribute(images, preset=steps(1))


def test_inputs_made_under_inference_mode_work(tiny_cnn: TinyCNN) -> None:
    with torch.inference_mode():
        x = torch.rand(2, 1, 8, 8)
    assert NoiseMaskAttribution(tiny_cnn).attribute(x, preset=steps(2)).shape == x.shape


def test_compute_convergence_delta_matches_the_returned_delta(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    # Masking alone changes nothing at threshold 0.
    problem = NoiseMaskProblem(tolerance=0.01, unit="output", thresholds=0.0)
    explainer = NoiseMaskAttribution(tiny_cnn, problem)
    maps, delta = explainer.attribute(
        images, preset=steps(10, n_samples=8), seed=0, return_convergence_delta=True
    )
    again = explainer.compute_convergence_delta(maps, images, n_samples=8, seed=1)
    assert again.shape == delta.shape == (images.shape[0],)
    # Full noise everywhere violates the tolerance far more than the learned map.
    worst = explainer.compute_convergence_delta(torch.zeros_like(images), images, seed=1)
    assert torch.all(worst >= again) and float(worst.sum()) > 0
    zero = explainer.compute_convergence_delta(torch.ones_like(images), images, seed=1)
    assert torch.all(zero == 0)  # no noise: every output stays put


def test_inspect_masks_reports_sites_and_the_cost_of_masking_alone() -> None:
    model = build("resnet")
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    paper = NoiseMaskProblem.paper()
    exact = NoiseMaskAttribution(model, paper.replace(thresholds=0.0)).inspect_masks(x)
    assert torch.all(exact.output_change < 1e-5)
    assert all(float(s.switched_off.max()) == 0 for s in exact.sites)
    assert exact.sites[0].name == "stem.1" and len(exact.sites) == 5
    harsh = NoiseMaskAttribution(model, paper.replace(thresholds={"stem.1": 0.2})).inspect_masks(x)
    assert [s.name for s in harsh.sites] == ["stem.1"]
    assert float(harsh.sites[0].switched_off.min()) > 0 and torch.all(harsh.output_change > 0)
    table = str(harsh)
    assert "stem.1" in table and "switched off" in table and "output change" in table


def test_negative_targets_count_from_the_end(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn, NoiseMaskProblem(tolerance=0.01, unit="output"))
    last = explainer.attribute(images, target=-1, preset=steps(3), seed=0)
    torch.testing.assert_close(last, explainer.attribute(images, target=2, preset=steps(3), seed=0))


def test_inputs_far_outside_the_noise_range_warn(half_blind: HalfBlindLinear) -> None:
    pixels = torch.rand(1, 1, 4, 4) * 255
    with pytest.warns(UserWarning, match=r"noise_scale in the inputs' units"):
        NoiseMaskAttribution(half_blind).attribute(pixels, preset=steps(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", DegenerateMapWarning)  # one step: a constant map
        in_pixels = NoiseMaskProblem(noise_scale=255.0)
        NoiseMaskAttribution(half_blind, in_pixels).attribute(pixels, preset=steps(1))

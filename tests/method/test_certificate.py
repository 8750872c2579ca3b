"""certify measures the map's claim; guarantee= makes it hold; a response tolerance binds on
quiet models. Known answers come from models whose noise response is worked out by hand."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest
import torch
from support import HalfBlindLinear, make_tiny_cnn, steps
from torch import Tensor, nn

from captum_noisemask import (
    DegenerateMapWarning,
    GuaranteeWarning,
    NoiseMaskAttribution,
    NoiseMaskProblem,
)
from captum_noisemask.core.calibration import lowered
from captum_noisemask.core.problem import constraint_in_units
from captum_noisemask.core.statistics import clopper_pearson_lower


class FirstPixelAndConstant(nn.Module):
    """Outputs ``(x[0], 0.3)`` of a (B, 1, 2, 2) image: only pixel (0, 0) matters."""

    def forward(self, x: Tensor) -> Tensor:
        first = x[:, 0, 0, 0]
        return torch.stack((first, torch.full_like(first, 0.3)), dim=1)


def _one_pixel_map(level: float) -> Tensor:
    """A map (in "non_contributing" terms) with ``level`` at pixel (0, 0), 0 elsewhere."""
    w = torch.zeros(1, 1, 2, 2)
    w[0, 0, 0, 0] = level
    return w


@pytest.mark.parametrize(("k", "n"), [(0, 10), (1, 5), (10, 10), (57, 100), (962, 1000)])
def test_clopper_pearson_bound_solves_the_binomial_tail(k: int, n: int) -> None:
    bound = float(clopper_pearson_lower(torch.tensor(k), n, 0.95))
    if k == 0:
        assert bound == 0.0
        return
    tail = sum(math.comb(n, i) * bound**i * (1 - bound) ** (n - i) for i in range(k, n + 1))
    assert tail == pytest.approx(0.05, abs=1e-6)
    if k == n:
        assert bound == pytest.approx(0.05 ** (1 / n), abs=1e-9)


def test_certificate_matches_the_worked_out_probabilities() -> None:
    # Clean x[0] = 1, noise U * 1: both outputs stay within 0.5 iff |U| <= 0.5 (p = 0.5); the
    # decision (output 0 above 0.3) flips iff U < -0.7 (p = 0.15).
    x = torch.ones(1, 1, 2, 2)
    explainer = NoiseMaskAttribution(FirstPixelAndConstant(), HALF_A_UNIT)
    cert = explainer.certify(  # a fixed certificate: these shares are estimates
        x,
        _one_pixel_map(1.0),
        highlight="non_contributing",
        n_draws=4000,
        bound_target=None,
        seed=0,
    )
    for network in (cert.masked, cert.plain):  # no ReLU: both networks are the model
        assert float(network.within[0]) == pytest.approx(0.5, abs=0.03)
        assert float(network.decision_kept[0]) == pytest.approx(0.85, abs=0.02)
        assert float(network.within[0]) - 0.03 < float(network.within_lower[0])
        assert float(network.within_lower[0]) < float(network.within[0])
    # Pixel (0, 0) has w = 1, so it is non-contributing; noise on the others changes nothing.
    assert float(cert.necessity[0]) == 0.0
    # With w = 0 at pixel (0, 0) it is the contributing one: full noise there leaves 0.5.
    needed = explainer.certify(
        x,
        _one_pixel_map(0.0),
        highlight="non_contributing",
        n_draws=4000,
        bound_target=None,
        seed=0,
    )
    assert float(needed.necessity[0]) == pytest.approx(0.5, abs=0.03)
    assert float(needed.plain.within[0]) == 1.0  # no noise at all: every draw is within


def test_the_sequential_certificate_stops_where_the_decision_is_clear() -> None:
    """Within-share 0.5 is out of reach of 0.95 after the first look, and no noise clears it
    there too; the fixed certificate draws all 1,000 and decides the same."""
    x = torch.ones(1, 1, 2, 2)
    explainer = NoiseMaskAttribution(FirstPixelAndConstant(), HALF_A_UNIT)
    for w, cleared in ((1.0, False), (0.0, True)):
        levels = _one_pixel_map(w)
        sequential = explainer.certify(
            x, levels, highlight="non_contributing", n_draws=1000, seed=0
        )
        fixed = explainer.certify(
            x, levels, highlight="non_contributing", n_draws=1000, bound_target=None, seed=0
        )
        assert sequential.masked.draws.tolist() == [100]
        assert fixed.masked.draws.tolist() == [1000]
        for certificate in (sequential, fixed):
            assert bool(certificate.masked.within_lower[0] >= 0.95) == cleared
        assert "until the bound's decision against 0.95 was settled" in str(sequential)


def test_certify_measures_the_explainer_s_own_problem_without_being_told_again() -> None:
    # Within a quarter iff |U| <= 0.25 (p = 0.25); the default problem would hold another band.
    x = torch.ones(1, 1, 2, 2)
    quarter = NoiseMaskProblem(tolerance=0.25, unit="output", held_to="masked")
    explainer = NoiseMaskAttribution(FirstPixelAndConstant(), quarter)
    maps = explainer.attribute(x, preset=steps(5), seed=0)
    assert explainer.problem is quarter
    cert = explainer.certify(  # a fixed certificate: these shares are estimates
        x,
        _one_pixel_map(1.0),
        highlight="non_contributing",
        n_draws=4000,
        bound_target=None,
        seed=0,
    )
    assert float(cert.masked.within[0]) == pytest.approx(0.25, abs=0.03)
    default = NoiseMaskAttribution(FirstPixelAndConstant()).certify(
        x, _one_pixel_map(1.0), highlight="non_contributing", n_draws=4000, seed=0
    )
    assert abs(float(default.masked.within[0]) - 0.25) > 0.1
    # The map the explainer made is measured on the same problem: the same numbers as a
    # fresh explainer built with that problem.
    again = NoiseMaskAttribution(FirstPixelAndConstant(), quarter).certify(x, maps, seed=1)
    torch.testing.assert_close(
        explainer.certify(x, maps, seed=1).masked.within, again.masked.within
    )


def test_certificate_agrees_with_an_independent_monte_carlo_estimate() -> None:
    model = make_tiny_cnn()
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    w = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(4)) * 0.5
    problem = NoiseMaskProblem(tolerance=0.004, unit="output", thresholds={})
    cert = NoiseMaskAttribution(model, problem).certify(
        x, w, highlight="non_contributing", n_draws=3000, bound_target=None, seed=0
    )
    generator = torch.Generator().manual_seed(123)
    with torch.no_grad():
        clean = model(x)
        hits = torch.zeros(2)
        for _ in range(3000 // 100):
            u = torch.rand(100, 2, 1, 8, 8, generator=generator) * 2 - 1
            noisy = model((x + u * w).flatten(0, 1)).view(100, 2, -1)
            hits += ((noisy - clean).abs() <= 0.004).all(-1).float().sum(0)
    independent = hits / 3000
    assert float(independent.min()) > 0.05 and float(independent.max()) < 0.95  # informative
    assert torch.allclose(cert.plain.within.float(), independent, atol=0.04)


def test_masking_alone_is_a_violation_only_when_held_to_the_plain_output() -> None:
    model = make_tiny_cnn()
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    # Threshold 0.3 switches on-units off.
    problem = NoiseMaskProblem(tolerance=1e-4, unit="output", mask_rule="paper", thresholds=0.3)
    explainer = NoiseMaskAttribution(model, problem)
    assert float(explainer.inspect_masks(x).output_change.min()) > 1e-3
    no_noise = torch.zeros_like(x)
    measure = dict(highlight="non_contributing", n_draws=50)

    def certify(problem: NoiseMaskProblem) -> Any:
        return NoiseMaskAttribution(model, problem).certify(x, no_noise, **measure)  # type: ignore[arg-type]

    plain = certify(problem)
    masked = certify(problem.replace(held_to="masked"))
    # The reference rule holds silenced units at their clean values: no offset at all.
    reference = certify(problem.replace(mask_rule="reference"))
    assert torch.all(reference.masked.within == 1)
    assert torch.all(plain.masked.within == 0) and torch.all(plain.plain.within == 1)
    assert torch.all(masked.masked.within == 1)


class QuietHalfReader(nn.Module):
    """A random CNN whose mean pooling reads only the left half of a 3x32x32 image, with a
    small head: full noise moves its logits by a few thousandths."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(8, 10)
        with torch.no_grad():
            self.fc.weight.mul_(0.02)

    def forward(self, x: Tensor) -> Tensor:
        features = self.relu(self.conv(x))[..., :16]
        return self.fc(features.mean((2, 3)))


#: Held to the masked clean output: on the quiet model masking alone (0.2 on the conv)
#: moves the logit by about as much as full noise does. The levels as learnt, so that the
#: calibration has work to do (an evidence order lowers the contributing levels already).
HELD_TO_MASKED = NoiseMaskProblem(held_to="masked", order="levels")
HALF_A_UNIT = NoiseMaskProblem(tolerance=0.5, unit="output")


def _quiet_inputs() -> Tensor:
    return torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_the_quiet_model_gets_no_map_from_an_output_tolerance() -> None:
    x = _quiet_inputs()
    spread = NoiseMaskProblem(tolerance=0.01, unit="spread")
    with pytest.warns(DegenerateMapWarning, match="unit='response'"):
        maps = NoiseMaskAttribution(QuietHalfReader().eval(), spread).attribute(x, target=0, seed=0)
    assert torch.all(maps < 0.01)


def test_response_tolerance_finds_the_used_half_of_the_quiet_model() -> None:
    # Held to the masked clean output: on this quiet model masking alone (0.2 on the conv)
    # moves the logit by about as much as full noise does, and that offset would swamp
    # the noise's own effect.
    x = _quiet_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegenerateMapWarning)
        maps = NoiseMaskAttribution(QuietHalfReader().eval(), HELD_TO_MASKED).attribute(
            x, target=0, seed=0
        )
    used, ignored = maps[..., :16], maps[..., 16:]
    assert float((ignored < 0.5).float().mean()) >= 0.95  # the ignored half: non-contributing
    assert float((used > 0.5).float().mean()) >= 0.5
    assert float(used.mean()) > float(ignored.mean()) + 0.4


def test_response_tolerance_does_not_depend_on_the_output_scale() -> None:
    model = make_tiny_cnn()
    louder = nn.Sequential(model, nn.Identity())
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    quiet = NoiseMaskAttribution(model).attribute(x, preset=steps(40), seed=0)
    thousandfold = NoiseMaskProblem(output_transform=lambda y: 1000 * y)
    scaled = NoiseMaskAttribution(louder, thousandfold).attribute(x, preset=steps(40), seed=0)
    assert torch.allclose(quiet, scaled, atol=1e-3)


def test_the_response_tolerance_is_the_same_whatever_the_seed() -> None:
    """The tolerance is part of the problem: a certificate drawn with another seed than the
    map's measures the same tolerance (the response's draws have a seed of their own)."""
    model, x = QuietHalfReader().eval(), _quiet_inputs()

    def scale(seed: int) -> Tensor:
        prepared = NoiseMaskProblem().prepare(model, model, {}, (x,), 0, None, None, seed, None)
        scale = constraint_in_units(prepared).output_scale
        assert scale is not None
        return scale

    assert torch.equal(scale(0), scale(7))


def test_a_guaranteed_map_meets_its_bound_on_fresh_draws() -> None:
    x = _quiet_inputs()
    explainer = NoiseMaskAttribution(QuietHalfReader().eval(), HELD_TO_MASKED)
    maps = explainer.attribute(x, target=0, guarantee=0.95, seed=0)
    unguaranteed = explainer.attribute(x, target=0, seed=0)
    fresh = explainer.certify(x, maps, target=0, seed=7)
    before = explainer.certify(x, unguaranteed, target=0, seed=7)
    assert torch.all(fresh.masked.within_lower >= 0.95)
    assert torch.all(before.masked.within_lower < 0.95)  # the calibration had work to do
    assert torch.all(maps >= unguaranteed - 1e-6)  # levels only go down
    assert float((maps[..., 16:] < 0.5).float().mean()) >= 0.9  # and the picture stays


def test_an_impossible_guarantee_warns_with_the_way_out() -> None:
    model = make_tiny_cnn()
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    problem = NoiseMaskProblem(tolerance=1e-4, unit="output", mask_rule="paper", thresholds=0.3)
    explainer = NoiseMaskAttribution(model, problem)
    with pytest.warns(GuaranteeWarning, match="held_to='masked'"):
        maps = explainer.attribute(x, guarantee=0.9, preset=steps(5), seed=0)
    assert torch.all(maps == 1)  # no noise anywhere: the least a map can claim


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_draws": 0}, ValueError, "n_draws"),
        ({"confidence": 1.0}, ValueError, "confidence"),
        ({"steps": 3}, TypeError, "unexpected keyword.*'steps'"),
        ({"tolerance": 1.0}, TypeError, "unexpected keyword.*'tolerance'"),
        ({"baselines": 0.5, "n_draws": 10}, ValueError, "baselines are the reference"),
    ],
)
def test_bad_certify_arguments_are_named(kwargs: dict, error: type, match: str) -> None:
    x = torch.rand(1, 1, 8, 8)
    with pytest.raises(error, match=match):
        paper = NoiseMaskAttribution(make_tiny_cnn(), NoiseMaskProblem.paper())
        paper.certify(x, torch.zeros_like(x), **kwargs)


@pytest.mark.parametrize("bad", [torch.full((1, 1, 8, 8), 1.5), torch.full((1, 1, 8, 8), math.nan)])
def test_maps_outside_the_unit_interval_are_refused(bad: Tensor) -> None:
    x = torch.rand(1, 1, 8, 8)
    explainer = NoiseMaskAttribution(make_tiny_cnn())
    with pytest.raises(ValueError, match=r"attributions\[0\] must hold .* \[0, 1\]"):
        explainer.certify(x, bad)
    with pytest.raises(ValueError, match=r"attributions\[0\] must hold .* \[0, 1\]"):
        explainer.compute_convergence_delta(bad, x)


def test_the_certificate_prints_a_table() -> None:
    x = torch.ones(2, 1, 2, 2)
    cert = NoiseMaskAttribution(FirstPixelAndConstant()).certify(
        x, torch.zeros_like(x), n_draws=20, seed=0
    )
    text = str(cert)
    assert "masked within" in text and "necessity" in text and len(text.splitlines()) == 4


def test_a_guarantee_that_full_noise_meets_says_nothing_can_contribute() -> None:
    x = _quiet_inputs()
    one_logit = NoiseMaskProblem(tolerance=1.0, unit="output")
    explainer = NoiseMaskAttribution(QuietHalfReader().eval(), one_logit)
    with pytest.warns(GuaranteeWarning, match="full noise on every position already meets"):
        explainer.attribute(x, target=0, guarantee=0.95, preset=steps(20), seed=0)


def test_the_guarantee_keeps_positions_the_model_ignores_at_full_noise() -> None:
    """A model that multiplies half its input by zero: the calibration may take noise from the
    half it reads, never from the half it ignores (scaling every level would turn w = 1 there
    into "contributing")."""
    model, x = (
        HalfBlindLinear().eval(),
        torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(0)),
    )
    explainer = NoiseMaskAttribution(model, HALF_A_UNIT)
    maps = explainer.attribute(x, guarantee=0.95, seed=0, highlight="non_contributing")
    learnt = explainer.attribute(x, seed=0, highlight="non_contributing")
    ignored, used = maps[..., :2], maps[..., 2:]
    assert float((ignored > 0.5).float().mean()) >= 0.95
    assert torch.all(maps <= learnt + 1e-6)  # levels only go down
    fresh = explainer.certify(x, maps, highlight="non_contributing", seed=5)
    assert torch.all(fresh.masked.within_lower >= 0.95)
    before = explainer.certify(x, learnt, highlight="non_contributing", seed=5)
    assert bool((before.masked.within_lower < 0.95).any())  # the calibration had work to do
    assert float(used.mean()) < float(learnt[..., 2:].mean())


def test_the_family_lowers_the_most_relevant_first_and_only_downwards() -> None:
    w = torch.linspace(0, 1, 11).view(1, 11)
    members = [lowered(w, torch.tensor([s])) for s in torch.linspace(0, 2, 33).tolist()]
    assert torch.equal(members[-1], w) and torch.equal(members[0], torch.zeros_like(w))
    for lower, higher in zip(members, members[1:], strict=False):
        assert torch.all(lower <= higher + 1e-7) and torch.all(higher <= w + 1e-7)
    # Until the last stage, the position at w = 1 keeps its full noise.
    assert all(float(m[0, -1]) == 1.0 for m in members[16:])

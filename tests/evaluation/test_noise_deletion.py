"""Noise deletion: known answers on a model that reads only half of its input."""

from __future__ import annotations

import torch
from support import HalfBlindLinear, make_tiny_cnn

from captum_noisemask import NoiseMaskProblem
from captum_noisemask.evaluation import noise_deletion_curve


def _maps() -> dict[str, torch.Tensor]:
    right = torch.zeros(2, 1, 4, 4)
    right[..., 2:] = 1.0  # the half the model reads ranks first
    return {"right": right, "wrong": 1.0 - right, "random": torch.rand(2, 1, 4, 4)}


def test_a_map_that_ranks_the_used_half_first_frees_the_other_half() -> None:
    model, x = HalfBlindLinear().eval(), torch.rand(2, 1, 4, 4)
    curves = {
        name: noise_deletion_curve(model, x, maps, n_steps=16, n_draws=200, seed=0)
        for name, maps in _maps().items()
    }
    good, bad = curves["right"], curves["wrong"]
    # Noise on the 8 ignored pixels changes nothing: every draw keeps the outputs.
    assert torch.all(good.kept[:, :9] == 1.0)
    assert torch.allclose(good.certified_fraction(), torch.full((2,), 0.5, dtype=torch.float64))
    # The wrong order noises a used pixel first.
    assert torch.all(bad.kept[:, 1] < 0.9) and torch.all(bad.certified_fraction() == 0.0)
    assert torch.all(good.area() > curves["random"].area())
    assert torch.all(curves["random"].area() > bad.area())
    # Full noise everywhere moves the outputs for any map: the curves meet at the end.
    assert torch.allclose(good.kept[:, -1], bad.kept[:, -1], atol=0.1)


def test_an_output_tolerance_and_a_target_are_respected() -> None:
    model, x = HalfBlindLinear().eval(), torch.rand(2, 1, 4, 4)
    band = NoiseMaskProblem(tolerance=100.0, unit="output")
    wide = noise_deletion_curve(model, x, _maps()["wrong"], target=0, problem=band, n_steps=4)
    assert torch.all(wide.kept[:, :-1] >= 0.5)  # a huge band: only decision flips count


def test_the_problem_s_mask_units_are_not_used() -> None:
    """The plain model is asked: a harsh mask rule gives the same curve as none."""
    model = make_tiny_cnn()
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    maps = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    harsh = NoiseMaskProblem(mask_rule="paper", thresholds=0.3)

    def kept(problem: NoiseMaskProblem) -> torch.Tensor:
        return noise_deletion_curve(model, x, maps, problem=problem, n_steps=4, n_draws=50).kept

    assert float(kept(NoiseMaskProblem()).std()) > 0  # the curve is not flat
    torch.testing.assert_close(kept(harsh), kept(harsh.replace(thresholds={})))

"""Noise deletion: known answers on a model that reads only half of its input."""

from __future__ import annotations

import pytest
import torch
from support import HalfBlindLinear

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
    wide = noise_deletion_curve(model, x, _maps()["wrong"], target=0, tolerance=100.0, n_steps=4)
    assert torch.all(wide.kept[:, :-1] >= 0.5)  # a huge band: only decision flips count


def test_two_tolerances_are_refused() -> None:
    x = torch.rand(1, 1, 4, 4)
    with pytest.raises(ValueError, match="pass one of"):
        noise_deletion_curve(HalfBlindLinear(), x, x, tolerance=1.0, response_tolerance=0.4)

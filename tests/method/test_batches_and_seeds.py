"""Every example is its own problem: batch independence, determinism, internal batching."""

from __future__ import annotations

import torch
from support import HalfBlindLinear, TinyCNN, steps
from torch import Tensor, nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem

SETTINGS = dict(preset=steps(15, n_samples=6))
#: The paper's rule with a strict tolerance: the levels separate within 15 steps.
STRICT = NoiseMaskProblem(tolerance=0.01, unit="output", mask_rule="paper")


def test_example_result_does_not_depend_on_its_batch(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn, STRICT)
    batch = explainer.attribute(images, seed=5, **SETTINGS)
    for b in range(images.shape[0]):
        alone = explainer.attribute(images[b : b + 1], seed=5, **SETTINGS)
        torch.testing.assert_close(batch[b : b + 1], alone, atol=1e-5, rtol=0)
    reordered = explainer.attribute(images.flip(0), seed=5, **SETTINGS)
    torch.testing.assert_close(reordered, batch.flip(0), atol=1e-5, rtol=0)


def test_batch_independence_holds_with_internal_batching(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn, STRICT)
    batch = explainer.attribute(images, seed=5, internal_batch_size=4, **SETTINGS)
    alone = explainer.attribute(images[2:], seed=5, internal_batch_size=4, **SETTINGS)
    torch.testing.assert_close(batch[2:], alone, atol=1e-5, rtol=0)


def test_same_seed_same_map_other_seed_other_map(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn, STRICT)
    first = explainer.attribute(images, seed=1, **SETTINGS)
    assert torch.equal(first, explainer.attribute(images, seed=1, **SETTINGS))
    assert not torch.equal(first, explainer.attribute(images, seed=2, **SETTINGS))


def test_internal_batch_size_bounds_rows_per_forward(images: Tensor) -> None:
    rows: list[int] = []

    class Recording(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(64, 2)

        def forward(self, x: Tensor) -> Tensor:
            rows.append(x.shape[0])
            return self.fc(x.flatten(1))

    explainer = NoiseMaskAttribution(
        Recording().eval(), NoiseMaskProblem(tolerance=1.0, unit="output")
    )
    explainer.attribute(images, preset=steps(2, n_samples=10), internal_batch_size=7, seed=0)
    assert rows[0] == 3  # the clean pass
    # 2 steps of 10 draws, then one evaluation's draws for the evidence order.
    assert max(rows[1:]) <= 7 and sum(rows[1:]) == (2 + 1) * 10 * 3


def test_internal_batching_keeps_the_answer(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    problem = NoiseMaskProblem(tolerance=0.5, unit="output", thresholds={})
    w = NoiseMaskAttribution(half_blind, problem).attribute(
        x, highlight="non_contributing", seed=0, internal_batch_size=3
    )
    assert torch.equal(w[..., :2], torch.ones_like(w[..., :2])) and w[..., 2:].max() < 0.3

"""Captum's feature_mask convention: one noise level per group and example."""

from __future__ import annotations

import pytest
import torch
from support import HalfBlindLinear, steps
from torch import Tensor, nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem, grid_feature_mask

QUICK = dict(preset=steps(40, n_samples=8).with_lr(0.1), seed=0)


def _halves() -> Tensor:
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.long)
    mask[..., 2:] = 7  # ids need not be consecutive
    return mask


def test_groups_share_one_level_and_the_ignored_half_gets_none(
    half_blind: HalfBlindLinear,
) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    maps = NoiseMaskAttribution(half_blind).attribute(x, feature_mask=_halves(), **QUICK)
    left, right = maps[..., :2], maps[..., 2:]
    assert torch.all(left == 0)
    assert torch.all(right == right[..., :1, :1]) and float(right.min()) > 0.5


def test_a_grid_mask_gives_maps_constant_within_each_cell(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    maps = NoiseMaskAttribution(half_blind).attribute(
        x, feature_mask=grid_feature_mask(4, 4, 2), **QUICK
    )
    cells = maps.unfold(2, 2, 2).unfold(3, 2, 2)  # (B, 1, 2, 2, 2, 2)
    assert torch.all(cells == cells[..., :1, :1])
    assert torch.all(cells[..., 0, 0, 0] == 0) and torch.all(cells[..., 1, 0, 0] > 0.5)


def test_a_per_example_mask_is_used_per_example(half_blind: HalfBlindLinear) -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    masks = torch.cat([_halves(), torch.zeros(1, 1, 4, 4, dtype=torch.long)])
    maps = NoiseMaskAttribution(half_blind).attribute(x, feature_mask=masks, **QUICK)
    assert torch.all(maps[1] == maps[1, 0, 0, 0]) and float(maps[1].min()) > 0  # one group
    assert torch.all(maps[0, ..., :2] == 0)


def test_an_id_shared_by_two_inputs_is_one_feature() -> None:
    class Sum(nn.Module):
        def forward(self, a: Tensor, b: Tensor) -> Tensor:
            total = 4.0 * (a.flatten(1).sum(1) + b.flatten(1).sum(1))
            return torch.stack([total, -total], 1)

    a, b = torch.rand(1, 3), torch.rand(1, 2)
    masks = (torch.tensor([[0, 1, 2]]), torch.tensor([[2, 2]]))
    maps_a, maps_b = NoiseMaskAttribution(Sum(), NoiseMaskProblem(thresholds={})).attribute(
        (a, b), feature_mask=masks, **QUICK
    )
    assert torch.equal(maps_b[0, 0], maps_a[0, 2]) and torch.equal(maps_b[0, 1], maps_a[0, 2])


@pytest.mark.parametrize(
    ("mask", "error", "message"),
    [
        (torch.zeros(1, 1, 4, 4), TypeError, "integer group ids"),
        (torch.zeros(1, 4, 4, dtype=torch.long), ValueError, "4 dimensions"),
        (torch.zeros(1, 1, 3, 4, dtype=torch.long), ValueError, "each 1 or equal"),
        (torch.full((1, 1, 4, 4), -1), ValueError, "negative ids"),
        ((_halves(), _halves()), ValueError, "one mask per input"),
    ],
)
def test_bad_masks_are_refused(
    half_blind: HalfBlindLinear, mask: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        NoiseMaskAttribution(half_blind).attribute(torch.rand(1, 1, 4, 4), feature_mask=mask)


def test_grid_feature_mask_refuses_bad_cells() -> None:
    with pytest.raises(ValueError, match="cell must be a positive int"):
        grid_feature_mask(4, 4, 0)

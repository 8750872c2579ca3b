"""The evidence order inside the contributing region (the problem's ``order="evidence"``)."""

from __future__ import annotations

import pytest
import torch
from support import two_strengths
from torch import nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem
from captum_noisemask.core.evidence import CONTRIBUTING_BAND, with_neighbourhood

#: Weight 8 on noise of half-width 1 moves the output by more than 4 at full noise.
PROBLEM = NoiseMaskProblem(tolerance=4.0, unit="output")
STRONG, WEAK, UNUSED = slice(0, 4), slice(4, 8), slice(8, 12)


def _inputs() -> torch.Tensor:
    return 0.2 + 0.8 * torch.rand(3, 12, generator=torch.Generator().manual_seed(0))


def _rows_counted(model: nn.Module) -> list[int]:
    rows = [0]
    model.register_forward_hook(lambda _m, args, _o: rows.__setitem__(0, rows[0] + len(args[0])))
    return rows


def test_the_stronger_evidence_ranks_first_and_the_picture_is_the_optimisers() -> None:
    model, x = two_strengths(), _inputs()
    rows = _rows_counted(model)
    learnt = NoiseMaskAttribution(model, PROBLEM.replace(order="levels")).attribute(
        x, target=0, seed=0
    )
    learnt_rows, rows[0] = rows[0], 0
    ordered = NoiseMaskAttribution(model, PROBLEM).attribute(x, target=0, seed=0)  # the default
    # Weight 40 times the input beats weight 8 times the input in every example ...
    assert torch.all(ordered[:, STRONG].min(1).values > ordered[:, WEAK].max(1).values)
    # ... inside the band the order is written into: contributions in [0.9, 1].
    contributing = ordered[:, :8]
    assert float(contributing.min()) >= 1 - CONTRIBUTING_BAND - 1e-6
    # The picture is the optimiser's: the same positions contribute, the rest is untouched.
    assert torch.equal(ordered > 0.5, learnt > 0.5)
    assert torch.equal(ordered[:, UNUSED], learnt[:, UNUSED])
    # One evaluation's draws more: 16 rows per example.
    assert rows[0] - learnt_rows == 16 * len(x)


def test_evidence_against_the_explained_output_ranks_last() -> None:
    model = nn.Linear(3, 1, bias=False).eval()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[20.0, -30.0, 10.0]]))
    x = torch.full((2, 3), 0.5)
    maps = NoiseMaskAttribution(model, PROBLEM).attribute(x, seed=0)
    assert torch.all(maps > 0.5)  # all three contribute
    # Support first, by size; the feature that pulls the output down last.
    assert torch.all((maps[:, 0] > maps[:, 2]) & (maps[:, 2] > maps[:, 1]))


def test_without_a_target_the_clean_decision_is_explained() -> None:
    model = nn.Linear(2, 2, bias=False).eval()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[30.0, 10.0], [10.0, 30.0]]))
    x = torch.tensor([[1.0, 0.6], [0.6, 1.0]])  # decisions 0 and 1
    maps = NoiseMaskAttribution(model, PROBLEM).attribute(x, seed=0)
    assert torch.all(maps > 0.5)
    assert maps[0, 0] > maps[0, 1] and maps[1, 1] > maps[1, 0]


def test_a_guaranteed_map_keeps_the_order_and_its_bound() -> None:
    model, x = two_strengths(), _inputs()
    # Half the tolerance: the band's noise on the strong group needs lowering for the bound.
    explainer = NoiseMaskAttribution(model, PROBLEM.replace(tolerance=2.0))
    ordered = explainer.attribute(x, target=0, seed=0)
    maps = explainer.attribute(x, target=0, seed=0, guarantee=0.97)
    # Levels only went down (contributions up), but for the lift that keeps the order.
    assert torch.all(maps >= ordered - 1e-3) and not torch.allclose(maps, ordered)
    assert float(((maps > 1 - 1e-3) & (maps < 1)).sum()) > 0  # lowered to 0, lifted again
    assert torch.all(maps[:, STRONG].min(1).values > maps[:, WEAK].max(1).values)
    assert all(len(torch.unique(row)) == 8 for row in maps[:, :8])  # no ties
    certificate = explainer.certify(x, maps, target=0, seed=3, bound_target=None)
    assert torch.all(certificate.masked.within_lower >= 0.97)


def test_groups_of_a_feature_mask_are_ordered_as_wholes() -> None:
    model, x = two_strengths(), _inputs()
    groups = torch.tensor([[0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]])
    maps = NoiseMaskAttribution(model, PROBLEM).attribute(x, target=0, feature_mask=groups, seed=0)
    assert torch.equal(maps[:, 0::2], maps[:, 1::2])  # constant within a group
    assert torch.all(maps[:, STRONG].min(1).values > maps[:, WEAK].max(1).values)


def test_an_unknown_order_is_refused_and_the_papers_problem_keeps_its_levels() -> None:
    with pytest.raises(ValueError, match=r"unknown order 'gradient'; accepted: \['evidence'"):
        NoiseMaskProblem(order="gradient")  # type: ignore[arg-type]
    assert NoiseMaskProblem.paper().order == "levels"
    assert NoiseMaskProblem().order == "evidence"
    assert "no evidence order" in NoiseMaskProblem.paper().describe()


def _image_model(weights: torch.Tensor) -> nn.Module:
    """A linear model on ``(B, 1, H, W)`` images with the given per-pixel weights."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(weights.numel(), 1, bias=False)).eval()
    with torch.no_grad():
        model[1].weight.copy_(weights.flatten()[None])
    return model


def test_on_images_a_patch_of_evidence_ranks_before_an_isolated_speckle() -> None:
    # A lone pixel of weight 10 and, far from it, a 3x3 patch of weight 8 each.
    weights = torch.zeros(1, 1, 16, 16)
    weights[0, 0, 2, 2] = 10.0
    weights[0, 0, 10:13, 10:13] = 8.0
    x = torch.ones(2, 1, 16, 16)
    problem = NoiseMaskProblem(tolerance=8.0, unit="output")
    maps = NoiseMaskAttribution(_image_model(weights), problem).attribute(x, target=0, seed=0)
    assert torch.all(maps[:, 0, 2, 2] > 0.5)  # the speckle contributes (the picture) ...
    # ... but the patch's centre outranks it: its neighbourhood's evidence counts too.
    assert torch.all(maps[:, 0, 11, 11] > maps[:, 0, 2, 2])
    # The picture is still the optimiser's: the same positions contribute as with the levels.
    learnt = NoiseMaskAttribution(_image_model(weights), problem.replace(order="levels"))
    assert torch.equal(learnt.attribute(x, target=0, seed=0) > 0.5, maps > 0.5)


def test_maps_without_a_neighbourhood_keep_the_pixel_wise_order() -> None:
    # The same weights on a flat input of 256 features: the heavier single feature first.
    weights = torch.zeros(256)
    weights[0] = 10.0
    weights[100:109] = 8.0
    model = nn.Linear(256, 1, bias=False).eval()
    with torch.no_grad():
        model.weight.copy_(weights[None])
    problem = NoiseMaskProblem(tolerance=8.0, unit="output")
    maps = NoiseMaskAttribution(model, problem).attribute(torch.ones(2, 256), target=0, seed=0)
    assert torch.all(maps[:, 0] > maps[:, 100:109].max(1).values)


def test_the_neighbourhood_stays_inside_its_frame_and_its_map() -> None:
    # A volume (B, 1, T, H, W): frame 0 holds a patch, frame 1 nothing; a 2x3 map is smaller
    # than the kernel and its border positions are not penalised.
    volume = torch.zeros(1, 1, 2, 9, 9)
    volume[0, 0, 0, 3:6, 3:6] = 1.0
    spread = with_neighbourhood(volume)
    assert spread.shape == volume.shape
    assert torch.equal(spread[0, 0, 1], torch.zeros(9, 9))  # nothing leaks across frames
    small = torch.ones(2, 1, 2, 3)
    assert torch.allclose(with_neighbourhood(small), torch.full_like(small, 4.0))  # 1 + 3 * 1
    tokens = torch.randn(2, 7, 1)  # no neighbourhood: returned as it is
    assert with_neighbourhood(tokens) is tokens

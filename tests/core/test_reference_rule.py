"""The reference mask rule: "off" relative to a blank image, held at the clean value. It never
changes the clean network, silences what a BatchNorm turns on for a blank image, and gives a
BN model's background back to the non-contributing side."""

from __future__ import annotations

import pytest
import torch
from architectures import ARCHITECTURES, build, example_inputs
from torch import Tensor, nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem


@pytest.mark.parametrize("rule", ["reference", "capped"])
@pytest.mark.parametrize("thresholds", [None, 0.5])
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_masking_alone_never_changes_the_clean_outputs(
    name: str, thresholds: object, rule: str
) -> None:
    model, x = build(name), example_inputs(name)
    problem = NoiseMaskProblem(mask_rule=rule, thresholds=thresholds)  # type: ignore[arg-type]
    report = NoiseMaskAttribution(model, problem).inspect_masks(x)
    assert sum(float(s.switched_off.sum()) for s in report.sites) > 0  # not vacuous
    assert float(report.output_change.max()) <= 1e-5


class BlankPositive(nn.Module):
    """conv 1x1 -> BN whose bias makes every unit 1 on a blank image -> ReLU -> sum.

    On an input ``x`` a unit is ``relu(1 + x)``: on with the paper's rule everywhere, while
    only pixels above 0 show more than the blank image does.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(1)
        self.relu = nn.ReLU()
        with torch.no_grad():
            self.conv.weight.fill_(1.0)
            self.bn.bias.fill_(1.0)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.bn(self.conv(x))).flatten(1).sum(1, keepdim=True)


def _object_on_blank() -> Tensor:
    x = torch.zeros(1, 1, 6, 6)
    x[..., 2:4, 2:4] = 1.0
    return x


def test_units_a_blank_image_turns_on_are_silenced_only_by_the_reference_rule() -> None:
    model, x = BlankPositive().eval(), _object_on_blank()
    paper = NoiseMaskAttribution(model, NoiseMaskProblem(mask_rule="paper")).inspect_masks(x)
    reference = NoiseMaskAttribution(model, NoiseMaskProblem()).inspect_masks(x)
    assert float(paper.sites[0].silenced[0]) == 0.0  # 1 + 0 > 0: nothing is off
    assert float(reference.sites[0].silenced[0]) == pytest.approx(32 / 36)  # the background


def test_the_reference_rule_puts_the_background_on_the_non_contributing_side() -> None:
    model, x = BlankPositive().eval(), _object_on_blank()
    problem = NoiseMaskProblem(tolerance=0.5, unit="output")
    paper = NoiseMaskAttribution(model, problem.replace(mask_rule="paper")).attribute(x, seed=0)
    reference = NoiseMaskAttribution(model, problem).attribute(x, seed=0)
    background = torch.ones_like(x, dtype=torch.bool)
    background[..., 2:4, 2:4] = False
    # Held at its clean value, noise on the background cannot move the output: w = 1 there.
    assert torch.all(reference[background] == 0)
    assert float(reference[~background].mean()) > 0.5
    assert float(paper[background].mean()) > 0.5  # the paper's rule leaves it live


def test_baselines_follow_captums_convention_and_are_checked() -> None:
    model, x = BlankPositive().eval(), _object_on_blank()
    explainer = NoiseMaskAttribution(model)  # the reference rule
    # A baseline equal to the input leaves nothing that shows more than it: all silenced.
    same = explainer.inspect_masks(x, baselines=x)
    assert float(same.sites[0].silenced[0]) == 1.0
    with pytest.raises(ValueError, match=r"baselines\[0\] has shape \(3,\)"):
        explainer.inspect_masks(x, baselines=torch.zeros(3))
    paper = NoiseMaskAttribution(model, NoiseMaskProblem.paper())
    with pytest.raises(ValueError, match="mask_rule='reference'"):
        paper.attribute(x, baselines=0.0)
    with pytest.raises(ValueError, match="unknown mask_rule"):
        NoiseMaskProblem(mask_rule="blank")  # type: ignore[arg-type]


def test_a_reference_pass_with_other_control_flow_is_refused() -> None:
    class Branches(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            y = torch.relu(x)
            if float(x.sum()) > 0:  # the blank image takes the other branch
                y = torch.relu(y - 0.1)
            return y.flatten(1).sum(1, keepdim=True)

    with pytest.raises(ValueError, match="baselines: the model ran 1 ReLU-family calls"):
        NoiseMaskAttribution(Branches()).inspect_masks(_object_on_blank())


class BrightestPixel(nn.Module):
    """The largest ``relu`` over a (B, 1, 1, 2) image, times 4: a global max pool."""

    def forward(self, x: Tensor) -> Tensor:
        return 4 * torch.relu(x).flatten(1).amax(1, keepdim=True)


def test_the_capped_rule_lets_noise_only_remove_what_the_input_shows() -> None:
    """Pixel 0 (0.5) is the maximum; pixel 1 (0.4) is on but not the maximum. Noise on
    pixel 1 can raise it above 0.5 and move the output: under the reference rule it
    contributes. Capped at its clean value it can only fall, which a max ignores."""
    x = torch.tensor([[[[0.5, 0.4]]]])
    problem = NoiseMaskProblem(tolerance=0.1, unit="output")
    schedule = dict(seed=0, highlight="non_contributing")
    reference = NoiseMaskAttribution(BrightestPixel(), problem).attribute(x, **schedule)
    capped = NoiseMaskAttribution(BrightestPixel(), problem.replace(mask_rule="capped"))
    w = capped.attribute(x, **schedule)
    assert float(reference[0, 0, 0, 1]) < 0.2  # raising the runner-up moves the max
    assert float(w[0, 0, 0, 1]) == 1.0  # capped: the runner-up cannot become the max
    assert float(w[0, 0, 0, 0]) < 0.2  # the maximum itself still contributes
    # Full noise on the runner-up alone: every draw keeps the output, capped; not otherwise.
    runner_up = torch.tensor([[[[0.0, 1.0]]]])
    measure = dict(highlight="non_contributing", n_draws=500, seed=1)
    assert float(capped.certify(x, runner_up, **measure).masked.within[0]) == 1.0
    uncapped = NoiseMaskAttribution(BrightestPixel(), problem).certify(x, runner_up, **measure)
    assert float(uncapped.masked.within[0]) < 0.9
    assert capped.inspect_masks(x).output_change.tolist() == [0.0]

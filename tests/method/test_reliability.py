"""Every way a user calls it either works or says why (issue: reliability)."""

from __future__ import annotations

import warnings

import pytest
import torch
from support import HalfBlindLinear, caller_state, make_tiny_cnn, same_state, steps
from torch import Tensor, nn

from captum_noisemask import DegenerateMapWarning, NoiseMaskAttribution, NoiseMaskProblem

QUICK = dict(preset=steps(30, n_samples=8), seed=0)
NO_MASKS = NoiseMaskProblem(thresholds={})
pytestmark = pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")


def test_feature_mask_with_a_convergence_delta_on_images() -> None:
    x = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    groups = torch.tensor([0, 0, 1, 1]).repeat(4, 1).view(1, 1, 4, 4)  # left half, right half
    explainer = NoiseMaskAttribution(HalfBlindLinear().eval())
    maps, delta = explainer.attribute(
        x,
        feature_mask=groups,
        return_convergence_delta=True,
        preset=steps(60, n_samples=64),
        seed=0,
    )
    assert delta.shape == (2,) and torch.isfinite(delta).all()
    again = explainer.compute_convergence_delta(maps, x, n_samples=2000, seed=1)
    assert torch.allclose(delta, again, atol=0.05 + 0.3 * float(again.max()))


def test_feature_mask_with_a_convergence_delta_on_features() -> None:
    weight = torch.zeros(2, 6)
    weight[:, :3] = torch.tensor([[2.0, -1.0, 1.0], [-2.0, 1.0, -1.0]])
    model = nn.Linear(6, 2, bias=False)
    with torch.no_grad():
        model.weight.copy_(weight)
    x = torch.rand(3, 6, generator=torch.Generator().manual_seed(0))
    groups = torch.tensor([[0, 0, 0, 1, 1, 1]])
    explainer = NoiseMaskAttribution(model)
    maps, delta = explainer.attribute(
        x,
        feature_mask=groups,
        return_convergence_delta=True,
        preset=steps(60, n_samples=64),
        seed=0,
    )
    again = explainer.compute_convergence_delta(maps, x, n_samples=2000, seed=1)
    assert torch.allclose(delta, again, atol=0.05 + 0.3 * float(again.max()))


class WritesIntoItsInput(nn.Module):
    def __init__(self, first: nn.Module) -> None:
        super().__init__()
        self.first = first
        self.fc = nn.Linear(16, 3)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.first(x).flatten(1))


class Doubles(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.mul_(2.0)


@pytest.mark.parametrize("first", [nn.ReLU(inplace=True), Doubles()], ids=["relu_", "mul_"])
def test_models_that_write_into_their_input_work_and_leave_it_alone(first: nn.Module) -> None:
    torch.manual_seed(0)
    model = WritesIntoItsInput(first).eval()
    x = torch.rand(2, 1, 4, 4) - 0.3
    original = x.clone()
    explainer = NoiseMaskAttribution(model)
    before = caller_state(model)
    maps = explainer.attribute(x, **QUICK)  # type: ignore[arg-type]
    certificate = explainer.certify(x, maps, n_draws=50, seed=0)
    explainer.compute_convergence_delta(maps, x, n_samples=8)
    explainer.inspect_masks(x)
    assert same_state(before, caller_state(model))  # hooks, requires_grad, .grad, flags
    assert torch.equal(x, original)
    assert maps.shape == x.shape and certificate.plain.within.shape == (2,)


def test_a_relu_on_the_input_itself_is_not_the_first_layer() -> None:
    torch.manual_seed(0)
    model = WritesIntoItsInput(nn.ReLU()).eval()
    report = NoiseMaskAttribution(model).inspect_masks(torch.rand(2, 1, 4, 4))
    assert [s.threshold for s in report.sites] == [0.0]  # not the paper's 0.2
    assert report.output_change.tolist() == [0.0, 0.0]


def test_compiled_models_are_explained_through_their_eager_module() -> None:
    model = make_tiny_cnn()
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    eager = NoiseMaskAttribution(model).attribute(x, **QUICK)  # type: ignore[arg-type]
    compiled = NoiseMaskAttribution(torch.compile(model)).attribute(x, **QUICK)  # type: ignore[arg-type]
    assert torch.equal(eager, compiled)


@pytest.mark.parametrize("convert", ["script", "trace"])
def test_torchscript_models_are_refused_unless_unmasked(convert: str) -> None:
    model = make_tiny_cnn()
    x = torch.rand(2, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    scripted = torch.jit.script(model) if convert == "script" else torch.jit.trace(model, x)
    with pytest.raises(TypeError, match=r"TorchScript .* NoiseMaskProblem\(thresholds=\{\}\)"):
        NoiseMaskAttribution(scripted)
    unmasked = NoiseMaskAttribution(scripted, NO_MASKS).attribute(x, **QUICK)  # type: ignore[arg-type]
    eager = NoiseMaskAttribution(model, NO_MASKS).attribute(x, **QUICK)  # type: ignore[arg-type]
    assert torch.allclose(unmasked, eager, atol=1e-5)


@pytest.mark.parametrize("activation", [nn.GELU(), nn.SiLU(), nn.LeakyReLU()])
def test_models_without_relus_say_that_no_mask_units_apply(activation: nn.Module) -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), activation, nn.Linear(8, 3)).eval()
    x = torch.rand(2, 1, 4, 4)
    with pytest.warns(UserWarning, match=f"only {type(activation).__name__}.*thresholds=\\{{\\}}"):
        NoiseMaskAttribution(model).attribute(x, **QUICK)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", DegenerateMapWarning)
        NoiseMaskAttribution(model, NO_MASKS).attribute(x, **QUICK)  # type: ignore[arg-type]


class ReturnsATuple(nn.Module):
    def __init__(self, as_dict: bool = False) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 3)
        self.as_dict = as_dict

    def forward(self, x: Tensor) -> object:
        logits = self.fc(x.flatten(1))
        return {"logits": logits} if self.as_dict else (logits, x)


@pytest.mark.parametrize("as_dict", [False, True], ids=["tuple", "dict"])
def test_non_tensor_outputs_are_named_and_output_transform_picks_one(as_dict: bool) -> None:
    model = ReturnsATuple(as_dict).eval()
    x = torch.rand(2, 1, 4, 4)
    explainer = NoiseMaskAttribution(model)
    kind = "dict" if as_dict else "tuple"
    with pytest.raises(TypeError, match=f"the model returned a {kind}.*output_transform"):
        explainer.attribute(x, **QUICK)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=f"the model returned a {kind}.*output_transform"):
        explainer.inspect_masks(x)

    def pick(out: object) -> Tensor:
        return out["logits"] if isinstance(out, dict) else out[0]  # type: ignore[index]

    picking = NoiseMaskAttribution(model, NoiseMaskProblem(output_transform=pick))
    maps = picking.attribute(x, **QUICK)  # type: ignore[arg-type]
    assert maps.shape == x.shape
    assert picking.inspect_masks(x).output_change.shape == (2,)


@pytest.mark.parametrize(
    ("problem", "kwargs", "error", "match"),
    [
        ({}, {"seed": 2**70}, ValueError, r"seed must be an int in \[-2\*\*63, 2\*\*64\)"),
        (
            {"noise_scale": torch.tensor([2])},
            {},
            TypeError,
            "noise_scale must be a floating point tensor",
        ),
        (
            {"output_transform": lambda y: y.sum()},
            {},
            ValueError,
            r"output_transform returned shape \(\)",
        ),
        ({"output_transform": lambda y: y[:, :0]}, {}, ValueError, r"returned shape \(2, 0\)"),
        ({"output_transform": 3}, {}, TypeError, "output_transform must be a callable"),
        ({}, {"show_progress": 1}, TypeError, "show_progress must be True or False"),
        (
            {},
            {"return_convergence_delta": "yes"},
            TypeError,
            "return_convergence_delta must be True",
        ),
        ({}, {"guarantee": 1.0}, ValueError, r"guarantee must be a number in \(0, 1\)"),
        ({"penalty": 0.0}, {}, ValueError, "penalty must be a finite number > 0"),
    ],
)
def test_bad_values_are_named_with_what_is_accepted(
    problem: dict, kwargs: dict, error: type, match: str
) -> None:
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(error, match=match):
        explainer = NoiseMaskAttribution(make_tiny_cnn(), NoiseMaskProblem(**problem))
        explainer.attribute(x, **{**QUICK, **kwargs})


def test_meta_device_inputs_are_refused_by_name() -> None:
    x = torch.empty(2, 1, 8, 8, device="meta")
    with pytest.raises(ValueError, match=r"inputs\[0\] is on the meta device"):
        NoiseMaskAttribution(make_tiny_cnn()).attribute(x, **QUICK)  # type: ignore[arg-type]


def test_videos_share_a_level_over_channels_like_images() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 2 * 4 * 4, 2)).eval()
    x = torch.rand(2, 3, 2, 4, 4)
    maps = NoiseMaskAttribution(model).attribute(x, **QUICK)  # type: ignore[arg-type]
    assert maps.shape == x.shape
    assert torch.equal(maps, maps[:, :1].expand_as(maps))

"""Interchangeable with Captum attributions: shapes, targets, NoiseTunnel, metrics, plots."""

from __future__ import annotations

import inspect

import matplotlib
import pytest
import torch
from captum.attr import NoiseTunnel, Saliency, visualization
from captum.metrics import infidelity, sensitivity_max
from support import TinyCNN, steps
from torch import Tensor, nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem

matplotlib.use("Agg")
FAST = dict(preset=steps(5, n_samples=4), seed=0)
NO_MASKS = NoiseMaskProblem(thresholds={})
STRICT = NoiseMaskProblem(tolerance=0.01, unit="output")


def test_attribute_has_captum_s_size_and_the_problem_lives_on_the_explainer(
    tiny_cnn: TinyCNN,
) -> None:
    """Captum's own methods take 7-9 parameters; what defines the problem is not per call."""
    signature = inspect.signature(NoiseMaskAttribution.attribute)
    assert len(signature.parameters) - 1 <= 12  # without self
    for method in (NoiseMaskAttribution.certify, NoiseMaskAttribution.compute_convergence_delta):
        kinds = {p.kind for p in inspect.signature(method).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds
        assert inspect.Parameter.VAR_POSITIONAL not in kinds
    problem = NoiseMaskProblem(tolerance=0.2, held_to="masked")
    assert NoiseMaskAttribution(tiny_cnn, problem=problem).problem is problem


def test_single_tensor_in_single_tensor_out(tiny_cnn: TinyCNN, images: Tensor) -> None:
    out = NoiseMaskAttribution(tiny_cnn).attribute(images, target=1, **FAST)
    assert isinstance(out, Tensor) and out.shape == images.shape
    assert out.dtype == images.dtype


def test_channels_share_one_level() -> None:
    model = nn.Sequential(nn.Conv2d(3, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 2)).eval()
    x = torch.rand(2, 3, 6, 6)
    out = NoiseMaskAttribution(model).attribute(x, **FAST)
    assert out.shape == x.shape
    assert torch.equal(out[:, 0], out[:, 1]) and torch.equal(out[:, 0], out[:, 2])


def test_tuple_inputs_get_one_map_each() -> None:
    class TwoInputs(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.image = nn.Linear(16, 3)
            self.table = nn.Linear(5, 3)

        def forward(self, image: Tensor, table: Tensor) -> Tensor:
            return self.image(image.flatten(1)) + self.table(table)

    model = TwoInputs().eval()
    x = (torch.rand(2, 1, 4, 4), torch.rand(2, 5))
    out = NoiseMaskAttribution(model, NO_MASKS).attribute(x, target=0, **FAST)
    assert isinstance(out, tuple) and [o.shape for o in out] == [t.shape for t in x]


def test_single_tensor_in_a_tuple_comes_back_in_a_tuple(tiny_cnn: TinyCNN, images: Tensor) -> None:
    out = NoiseMaskAttribution(tiny_cnn).attribute((images,), **FAST)
    assert isinstance(out, tuple) and len(out) == 1 and out[0].shape == images.shape


def test_tabular_inputs() -> None:
    model = nn.Sequential(nn.Linear(6, 4), nn.ReLU(), nn.Linear(4, 2)).eval()
    x = torch.rand(3, 6)
    out = NoiseMaskAttribution(model).attribute(x, target=0, **FAST)
    assert out.shape == (3, 6)


@pytest.mark.parametrize(
    "target",
    [None, 2, (2,), [0, 1, 2], torch.tensor([2, 0, 1]), torch.tensor(1), [(0,), (1,), (2,)]],
    ids=["none", "int", "tuple", "list", "tensor", "scalar-tensor", "list-of-tuples"],
)
def test_every_captum_target_form(tiny_cnn: TinyCNN, images: Tensor, target: object) -> None:
    out = NoiseMaskAttribution(tiny_cnn).attribute(images, target=target, **FAST)
    assert out.shape == images.shape


def test_per_example_targets_equal_separate_runs(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn, STRICT)
    together = explainer.attribute(images, target=[0, 2, 1], **FAST)
    for b, t in enumerate([0, 2, 1]):
        alone = explainer.attribute(images[b : b + 1], target=t, **FAST)
        torch.testing.assert_close(together[b : b + 1], alone, atol=1e-5, rtol=0)


def test_target_changes_the_map(half_blind: nn.Module) -> None:
    class TwoHeads(nn.Module):
        """Output 0 reads the left half, output 1 the right half."""

        def forward(self, x: Tensor) -> Tensor:
            return torch.stack([4 * x[..., :2].sum((1, 2, 3)), 4 * x[..., 2:].sum((1, 2, 3))], 1)

    x = torch.rand(1, 1, 4, 4)
    explainer = NoiseMaskAttribution(TwoHeads().eval(), NO_MASKS)
    left = explainer.attribute(x, target=0, seed=0, highlight="non_contributing")
    right = explainer.attribute(x, target=1, seed=0, highlight="non_contributing")
    assert torch.equal(left[..., 2:], torch.ones_like(left[..., 2:]))
    assert torch.equal(right[..., :2], torch.ones_like(right[..., :2]))


def test_additional_forward_args_follow_their_rows() -> None:
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x: Tensor, scale: Tensor, offset: float) -> Tensor:
            return self.fc(x) * scale[:, None] + offset

    model = Scaled().eval()
    with torch.no_grad():
        model.fc.weight.fill_(3.0)
    x, scale = torch.rand(3, 4), torch.tensor([1.0, 0.0, 2.0])
    exact = NoiseMaskProblem(tolerance=0.0, unit="output", thresholds={})
    w = NoiseMaskAttribution(model, exact).attribute(
        x, additional_forward_args=(scale, 0.5), highlight="non_contributing", seed=0
    )
    # Example 1's output is multiplied by 0: nothing it gets matters; the others' does.
    assert torch.equal(w[1], torch.ones_like(w[1]))
    assert w[0].max() < 1 and w[2].max() < 1


def test_noise_tunnel(tiny_cnn: TinyCNN, images: Tensor) -> None:
    tunnel = NoiseTunnel(NoiseMaskAttribution(tiny_cnn))
    out = tunnel.attribute(
        images, nt_samples=2, nt_type="smoothgrad", stdevs=0.05, target=0, **FAST
    )
    assert out.shape == images.shape and torch.isfinite(out).all()


def test_noise_tunnel_with_convergence_delta(tiny_cnn: TinyCNN, images: Tensor) -> None:
    tunnel = NoiseTunnel(NoiseMaskAttribution(tiny_cnn))
    out, delta = tunnel.attribute(
        images, nt_samples=2, stdevs=0.05, target=0, return_convergence_delta=True, **FAST
    )
    assert out.shape == images.shape and delta.shape == (2 * images.shape[0],)


def test_sensitivity_max_under_no_grad(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn)
    score = sensitivity_max(explainer.attribute, images, target=0, n_perturb_samples=2, **FAST)
    assert score.shape == (images.shape[0],) and torch.isfinite(score).all()


def test_infidelity(tiny_cnn: TinyCNN, images: Tensor) -> None:
    def perturb(x: Tensor) -> tuple[Tensor, Tensor]:
        noise = 0.05 * torch.randn_like(x)
        return noise, x - noise

    attributions = NoiseMaskAttribution(tiny_cnn).attribute(images, target=0, **FAST)
    score = infidelity(tiny_cnn, perturb, images, attributions, target=0, n_perturb_samples=3)
    assert score.shape == (images.shape[0],) and torch.isfinite(score).all()


def test_swaps_with_saliency_in_shared_evaluation_code(tiny_cnn: TinyCNN, images: Tensor) -> None:
    for method in (Saliency(tiny_cnn), NoiseMaskAttribution(tiny_cnn)):
        assert method.attribute(images, target=0).shape == images.shape


def test_visualize_image_attr(tiny_cnn: TinyCNN, images: Tensor) -> None:
    attr = NoiseMaskAttribution(tiny_cnn).attribute(images[:1], target=0, **FAST)
    figure, _ = visualization.visualize_image_attr(
        attr[0].permute(1, 2, 0).numpy(), method="heat_map", sign="positive", use_pyplot=False
    )
    assert figure is not None


def test_convergence_delta_is_per_example_and_non_negative(
    tiny_cnn: TinyCNN, images: Tensor
) -> None:
    explainer = NoiseMaskAttribution(tiny_cnn, NoiseMaskProblem(tolerance=0.0, unit="output"))
    assert explainer.has_convergence_delta()
    out, delta = explainer.attribute(images, return_convergence_delta=True, **FAST)
    assert delta.shape == (3,) and (delta >= 0).all() and (delta > 0).any()


def test_attribute_future_is_not_supported(tiny_cnn: TinyCNN) -> None:
    with pytest.raises(NotImplementedError):
        NoiseMaskAttribution(tiny_cnn).attribute_future(torch.rand(1, 1, 8, 8))


def test_float64(tiny_cnn: TinyCNN, images: Tensor) -> None:
    model = tiny_cnn.double()
    out = NoiseMaskAttribution(model).attribute(images.double(), **FAST)
    assert out.dtype == torch.float64


def test_output_transform_softmax(tiny_cnn: TinyCNN, images: Tensor) -> None:
    softmax = STRICT.replace(output_transform=lambda y: y.softmax(-1))
    out = NoiseMaskAttribution(tiny_cnn, softmax).attribute(images, **FAST)
    assert out.shape == images.shape

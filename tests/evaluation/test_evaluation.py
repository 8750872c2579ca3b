"""Every metric of captum_noisemask.evaluation on a case whose answer is known."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from architectures import build, example_inputs
from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency
from support import HalfBlindLinear, TinyCNN, steps
from torch import Tensor, nn

from captum_noisemask import LabelledImages, NoiseMaskAttribution
from captum_noisemask.evaluation import (
    cascading_randomisation,
    deletion_curve,
    infidelity_score,
    insertion_curve,
    max_sensitivity,
    measure_cost,
    model_of,
    rank_features,
    remove_top_fraction,
    roc_auc_per_example,
    spearman_per_example,
)

TARGET0 = torch.zeros(4, dtype=torch.long)


@pytest.fixture
def bright() -> Tensor:
    """(4, 1, 4, 4) images with bright right halves: HalfBlindLinear is sure of class 0."""
    images = torch.rand(4, 1, 4, 4, generator=torch.Generator().manual_seed(3)) * 0.5
    images[..., 2:] += 0.5
    return images


def right_half_map(like: Tensor) -> Tensor:
    """The perfect map for HalfBlindLinear: the right half is all that matters."""
    perfect = torch.zeros_like(like)
    perfect[..., 2:] = 1.0 + like[..., 2:]  # distinct values, highest where the input is
    return perfect


# -- ranking and pixel flipping -----------------------------------------------


def test_rank_features_orders_values_and_breaks_ties_by_seed() -> None:
    maps = torch.tensor([[[[3.0, 1.0], [1.0, 2.0]]]])
    first = rank_features(maps, torch.Generator().manual_seed(0))
    assert first[0, :2].tolist() == [0, 3] and set(first[0, 2:].tolist()) == {1, 2}
    again = rank_features(maps, torch.Generator().manual_seed(0))
    assert torch.equal(first, again)
    ties = torch.zeros(1, 1, 4, 4)
    orders = {
        tuple(rank_features(ties, torch.Generator().manual_seed(s))[0].tolist()) for s in range(5)
    }
    assert len(orders) > 1  # a constant map gets no position bias


def test_rank_features_sums_channels() -> None:
    maps = torch.zeros(1, 3, 1, 2)
    maps[0, :, 0, 1] = torch.tensor([1.0, 1.0, 1.0])  # pixel 1: total 3
    maps[0, 0, 0, 0] = 2.0  # pixel 0: total 2, though its largest element is bigger
    assert rank_features(maps, torch.Generator().manual_seed(0)).tolist() == [[1, 0]]


@pytest.mark.parametrize("removal", ["baseline", "uniform"])
def test_perfect_map_beats_its_inverse_and_random(removal: str, bright: Tensor) -> None:
    model = HalfBlindLinear().eval()
    perfect = right_half_map(bright)
    inverse = -perfect
    noise = torch.rand(bright.shape, generator=torch.Generator().manual_seed(9))

    def area(maps: Tensor, order: str) -> float:
        # Noise centred on 0: HalfBlindLinear stays sure of class 0 on any positive input.
        curve = deletion_curve(
            model,
            bright,
            maps,
            TARGET0,
            order,
            removal,
            value_range=(-1.0, 1.0),  # type: ignore[arg-type]
        )
        return float(curve.area().mean())

    assert area(perfect, "morf") < area(noise, "morf") < area(inverse, "morf")
    assert area(perfect, "lerf") > area(noise, "lerf") > area(inverse, "lerf")


def test_curve_end_points(bright: Tensor) -> None:
    model = HalfBlindLinear().eval()
    curve = deletion_curve(model, bright, right_half_map(bright), TARGET0, n_steps=4)
    assert curve.fractions.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    clean = model(bright).softmax(1)[:, 0]
    torch.testing.assert_close(curve.probabilities[:, 0], clean.detach())
    # Everything removed to zero: HalfBlindLinear's logits are 0, so p = 1/2.
    torch.testing.assert_close(curve.probabilities[:, -1], torch.full((4,), 0.5))


@pytest.mark.parametrize("removal", ["baseline", "uniform"])
def test_insertion_area_equals_lerf_area(removal: str, tiny_cnn: TinyCNN, images: Tensor) -> None:
    """Restoring the top f keeps exactly what LeRF keeps at 1 - f: the curves mirror."""
    maps = torch.rand(images.shape, generator=torch.Generator().manual_seed(2))
    target = torch.tensor([0, 1, 2])
    lerf = deletion_curve(tiny_cnn, images, maps, target, "lerf", removal)  # type: ignore[arg-type]
    insertion = insertion_curve(tiny_cnn, images, maps, target, removal)  # type: ignore[arg-type]
    torch.testing.assert_close(insertion.probabilities, lerf.probabilities.flip(1))
    torch.testing.assert_close(insertion.area(), lerf.area())


def test_uniform_removal_is_the_same_for_every_map(tiny_cnn: TinyCNN, images: Tensor) -> None:
    target = torch.tensor([0, 1, 2])
    ends = [
        deletion_curve(tiny_cnn, images, maps, target, removal="uniform", seed=5).probabilities[
            :, -1
        ]
        for maps in (images, -images, torch.rand(images.shape))
    ]
    assert torch.equal(ends[0], ends[1]) and torch.equal(ends[0], ends[2])
    other_seed = deletion_curve(tiny_cnn, images, images, target, removal="uniform", seed=6)
    assert not torch.equal(ends[0], other_seed.probabilities[:, -1])


def test_pixel_flipping_rejects_bad_arguments(tiny_cnn: TinyCNN, images: Tensor) -> None:
    target = torch.tensor([0, 1, 2])
    with pytest.raises(ValueError, match="shape"):
        deletion_curve(tiny_cnn, images, images[:, :, :4], target)
    with pytest.raises(ValueError, match="order"):
        deletion_curve(tiny_cnn, images, images, target, order="up")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="removal"):
        deletion_curve(tiny_cnn, images, images, target, removal="blur")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_steps"):
        insertion_curve(tiny_cnn, images, images, target, n_steps=0)
    with pytest.raises(ValueError, match="one per example"):
        deletion_curve(tiny_cnn, images, images, target[:2])
    single = deletion_curve(tiny_cnn, images, images, 1, n_steps=3)
    torch.testing.assert_close(
        single.probabilities,
        deletion_curve(tiny_cnn, images, images, target * 0 + 1, n_steps=3).probabilities,
    )


def test_deletion_works_on_flat_features() -> None:
    model = nn.Linear(3, 2)
    x = torch.rand(5, 3)
    curve = deletion_curve(model, x, x, torch.zeros(5, dtype=torch.long), n_steps=3)
    assert curve.probabilities.shape == (5, 4)


# -- infidelity and sensitivity ------------------------------------------------


def test_infidelity_is_zero_for_the_exact_map_of_a_linear_model() -> None:
    """Noisy baseline: f(x) - f(x - I) = w . I, so w is exact; square removal with a 0/1
    indicator I: the change is the sum of w * x over the square, so w * x is exact."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 2, bias=False))
    x = torch.rand(4, 1, 6, 6)
    target = torch.tensor([0, 1, 0, 1])
    weights = model[1].weight.detach()[target].view(4, 1, 6, 6)
    noise = torch.rand(4, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    for perturbation, exact in (("noisy_baseline", weights), ("square_removal", weights * x)):
        kwargs = {"perturbation": perturbation, "largest_square": 3}
        perfect = infidelity_score(model, x, exact, target, **kwargs)
        assert float(perfect.abs().max()) < 1e-8  # float32 rounding
        assert float(infidelity_score(model, x, noise, target, **kwargs).min()) > 1e-4
        assert torch.equal(perfect, infidelity_score(model, x, exact, target, **kwargs))  # seeded
    # The exact map of one perturbation is not the other's (x is not constant).
    assert float(infidelity_score(model, x, weights, target, "square_removal").min()) > 1e-4


def test_infidelity_refuses_an_unknown_perturbation_and_non_images() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match="noisy_baseline"):
        infidelity_score(model, torch.rand(1, 1, 2, 2), torch.rand(1, 1, 2, 2), torch.zeros(1), "x")
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        infidelity_score(model, torch.rand(1, 4), torch.rand(1, 4), torch.zeros(1))


def _random_map(
    inputs: Tensor | tuple[Tensor, ...], **kwargs: object
) -> Tensor | tuple[Tensor, ...]:
    """A map that ignores the model: fresh random values, shaped like ``inputs``, every call."""
    if isinstance(inputs, tuple):
        return tuple(torch.rand_like(x) for x in inputs)
    return torch.rand_like(inputs)


def test_max_sensitivity_separates_a_stable_map_from_a_random_one() -> None:
    model = nn.Linear(6, 2)
    x = torch.rand(4, 6)
    target = torch.tensor([0, 1, 0, 1])
    stable = max_sensitivity(Saliency(model).attribute, x, target)  # constant gradient
    noisy = max_sensitivity(_random_map, x, target)
    assert float(stable.max()) < 1e-6 and float(noisy.min()) > 0.1


def test_max_sensitivity_passes_method_arguments(tiny_cnn: TinyCNN, images: Tensor) -> None:
    explain = NoiseMaskAttribution(tiny_cnn).attribute
    kwargs = {"seed": 0, "preset": steps(5, n_samples=4)}
    first = max_sensitivity(explain, images, torch.tensor([0, 1, 2]), n_perturb_samples=2,
                            explanation_kwargs=kwargs)  # fmt: skip
    again = max_sensitivity(explain, images, torch.tensor([0, 1, 2]), n_perturb_samples=2,
                            explanation_kwargs=kwargs)  # fmt: skip
    assert first.shape == (3,) and torch.equal(first, again)


# -- randomisation ---------------------------------------------------------------


def test_spearman_known_values() -> None:
    a = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    assert spearman_per_example(a, a * 10).item() == pytest.approx(1.0)
    assert spearman_per_example(a, -a).item() == pytest.approx(-1.0)
    assert math.isnan(spearman_per_example(a, torch.ones(1, 4)).item())  # no ranking, no score
    # Ties share their average rank: [1, 1, 2, 2] ranks as [1.5, 1.5, 3.5, 3.5].
    tied = torch.tensor([[1.0, 1.0, 2.0, 2.0]])
    expected = torch.corrcoef(torch.stack([torch.tensor([1.5, 1.5, 3.5, 3.5]), a[0]]))[0, 1]
    assert spearman_per_example(tied, a).item() == pytest.approx(float(expected))


def test_model_independent_map_fails_randomisation(tiny_cnn: TinyCNN, images: Tensor) -> None:
    before = {k: v.clone() for k, v in tiny_cnn.state_dict().items()}
    target = torch.tensor([0, 1, 2])
    edges = cascading_randomisation(tiny_cnn, lambda m, x, t: x, images, target)
    assert edges.stages == ["fc2", "fc2+fc1", "fc2+fc1+conv2", "fc2+fc1+conv2+conv1"]
    assert torch.allclose(edges.spearman, torch.ones_like(edges.spearman))
    assert torch.allclose(edges.spearman_abs, torch.ones_like(edges.spearman))

    def saliency(model: nn.Module, x: Tensor, t: Tensor) -> Tensor:
        return Saliency(model).attribute(x, target=t)

    gradients = cascading_randomisation(tiny_cnn, saliency, images, target)
    assert float(gradients.spearman[-1].mean()) < 0.9  # the map follows the model
    assert float(gradients.spearman_abs[-1].mean()) < 0.9

    def flips_sign(model: nn.Module, x: Tensor, t: Tensor) -> Tensor:  # LRP z+-like
        return x * (1.0 if model is tiny_cnn else -1.0)

    flipped = cascading_randomisation(tiny_cnn, flips_sign, images, target)
    assert torch.allclose(flipped.spearman, -torch.ones_like(flipped.spearman))
    assert torch.allclose(flipped.spearman_abs, torch.ones_like(flipped.spearman))
    for key, value in tiny_cnn.state_dict().items():  # the caller's model is not touched
        assert torch.equal(value, before[key])


def test_randomisation_is_seeded_and_checks_layer_names(tiny_cnn: TinyCNN, images: Tensor) -> None:
    target = torch.tensor([0, 1, 2])

    def saliency(model: nn.Module, x: Tensor, t: Tensor) -> Tensor:
        return Saliency(model).attribute(x, target=t)

    first = cascading_randomisation(tiny_cnn, saliency, images, target, ["fc2"], seed=3)
    again = cascading_randomisation(tiny_cnn, saliency, images, target, ["fc2"], seed=3)
    assert torch.equal(first.spearman, again.spearman)
    with pytest.raises(ValueError, match="not modules"):
        cascading_randomisation(tiny_cnn, saliency, images, target, ["fc9"])
    with pytest.raises(ValueError, match="reset_parameters"):
        cascading_randomisation(tiny_cnn, saliency, images, target, ["relu1"])


def test_randomisation_takes_a_resnet_by_stages() -> None:
    model = build("resnet")
    with torch.no_grad():
        model.layer2.bn2.weight.fill_(2.0)  # as after training: not its initial value
    seen: list[dict[str, Tensor]] = []

    def remember(m: nn.Module, x: Tensor, t: Tensor) -> Tensor:
        seen.append({name: value.clone() for name, value in m.state_dict().items()})
        return x

    images, target = example_inputs("resnet"), torch.zeros(2, dtype=torch.long)
    result = cascading_randomisation(model, remember, images, target)
    assert result.stages == ["fc", "fc+layer2", "fc+layer2+layer1", "fc+layer2+layer1+stem"]
    trained, second_stage = model.state_dict(), seen[2]
    # A container stage re-initialises every module in it, BatchNorm included, and no other.
    assert not torch.equal(trained["layer2.conv2.weight"], second_stage["layer2.conv2.weight"])
    assert torch.equal(second_stage["layer2.bn2.weight"], torch.ones(16))
    assert torch.equal(trained["layer1.conv1.weight"], second_stage["layer1.conv1.weight"])


# -- localisation ------------------------------------------------------------------


def test_roc_auc_known_values_and_brute_force() -> None:
    used = torch.tensor([[True, True, False, False, False]])
    ignored = torch.tensor([[False, False, True, True, False]])
    assert roc_auc_per_example(torch.tensor([[5.0, 4, 1, 2, 9]]), used, ignored).item() == 1.0
    assert roc_auc_per_example(torch.tensor([[1.0, 2, 5, 4, 0]]), used, ignored).item() == 0.0
    assert roc_auc_per_example(torch.ones(1, 5), used, ignored).item() == 0.5
    assert math.isnan(roc_auc_per_example(torch.ones(1, 5), used, used & ~used).item())
    generator = torch.Generator().manual_seed(0)
    scores = torch.randint(0, 4, (1, 30), generator=generator).float()  # many ties
    pos = torch.rand(1, 30, generator=generator) < 0.4
    wins = [
        1.0 if p > n else 0.5 if p == n else 0.0
        for p, n in itertools.product(scores[pos].tolist(), scores[~pos].tolist())
    ]
    expected = sum(wins) / len(wins)
    assert roc_auc_per_example(scores, pos, ~pos).item() == pytest.approx(expected)


# -- cost ----------------------------------------------------------------------------


def test_measure_cost_counts_model_evaluations(tiny_cnn: TinyCNN, images: Tensor) -> None:
    target = torch.tensor([0, 1, 2])
    runs = {
        1: lambda: Saliency(tiny_cnn).attribute(images, target=target),
        7: lambda: IntegratedGradients(tiny_cnn).attribute(images, target=target, n_steps=7),
        # 3x3 windows, stride 1, on 8x8: 36 positions plus the clean pass.
        37: lambda: Occlusion(tiny_cnn).attribute(
            images, target=target, sliding_window_shapes=(1, 3, 3)
        ),
    }
    for expected, run in runs.items():
        maps, cost = measure_cost(run, tiny_cnn, n_examples=3)
        assert maps.shape == images.shape
        assert cost.evaluations_per_map == expected
        assert cost.seconds_per_image > 0
        assert cost.peak_memory_mib is None or cost.peak_memory_mib >= 0
    assert not tiny_cnn._forward_hooks


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux peak counters")
def test_measure_cost_sees_memory_that_an_earlier_call_freed() -> None:
    """A call that reuses memory a bigger earlier call freed still reports its own peak."""
    counted = nn.Identity()

    def allocate(mib: int) -> Callable[[], Tensor]:
        def explain() -> Tensor:
            blocks = [torch.ones(2**18) for _ in range(mib)]  # 1 MiB each: heap, not mmap
            return counted(blocks[-1][:1])

        return explain

    big = measure_cost(allocate(256), counted, n_examples=1)[1].peak_memory_mib
    small = measure_cost(allocate(64), counted, n_examples=1)[1].peak_memory_mib
    nothing = measure_cost(lambda: counted(torch.zeros(1)), counted, n_examples=1)[1]
    assert big is not None and small is not None and nothing.peak_memory_mib is not None
    assert big >= 250 and 60 <= small <= 80
    assert nothing.peak_memory_mib < 2


def test_model_of_sees_through_wrappers(tiny_cnn: TinyCNN) -> None:
    assert model_of(NoiseTunnel(Saliency(tiny_cnn))) is tiny_cnn
    assert model_of(NoiseMaskAttribution(tiny_cnn)) is tiny_cnn
    with pytest.raises(TypeError, match="nn.Module"):
        model_of(Saliency(lambda x: x.sum(1)))


# -- ROAR --------------------------------------------------------------------------------


def test_remove_top_fraction_extremes() -> None:
    digits = LabelledImages(torch.rand(2, 1, 4, 4), torch.tensor([0, 1]))
    maps = torch.rand(2, 1, 4, 4)
    assert torch.equal(remove_top_fraction(digits, maps, 0.0, fill=-1).images, digits.images)
    assert (remove_top_fraction(digits, maps, 1.0, fill=-1).images == -1).all()
    half = remove_top_fraction(digits, maps, 0.5, fill=-1).images
    assert ((half == -1).flatten(1).sum(1) == 8).all()
    top = maps.flatten(1).argsort(1, descending=True)[:, :8]
    assert (half.flatten(1).gather(1, top) == -1).all()


def test_max_sensitivity_calls_the_method_chunk_by_chunk(tiny_cnn: TinyCNN, images: Tensor) -> None:
    rows: list[int] = []

    def explain(inputs: Tensor | tuple[Tensor, ...], target: Tensor) -> Tensor:
        batch = inputs[0] if isinstance(inputs, tuple) else inputs  # Captum passes either
        rows.append(batch.shape[0])
        return Saliency(tiny_cnn).attribute(inputs, target=target)

    scores = max_sensitivity(
        explain, images, torch.tensor([0, 1, 2]), n_perturb_samples=3, chunk_size=2
    )
    assert scores.shape == (3,) and float(scores.min()) > 0
    assert max(rows) <= 2 and sum(rows) == 3 + 3 * 3  # clean maps, then 3 perturbations each

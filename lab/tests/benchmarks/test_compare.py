"""The evaluation benchmark end to end, in its quick configuration."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest
from lab_support import TINY_TRAINING

from captum_noisemask import FAST
from captum_noisemask.core.problem import RESPONSE_DRAWS
from captum_noisemask_lab import cli, metrics
from captum_noisemask_lab.benchmarks.compare import CompareConfig, compare
from captum_noisemask_lab.metrics import Column, Metric, MetricInputs, MetricScores

#: The fast preset's schedule in 20 steps (lr scaled to travel as far).
SHORT_FAST = FAST.replace(n_steps=20).with_lr(0.15)


def _mean_level(inputs: MetricInputs) -> MetricScores:
    return MetricScores({"toy_mean_map": inputs.maps.flatten(1).mean(1)})


#: A metric registered by the test alone: one module's worth of code plus one line.
TOY_METRIC = Metric("toy", (Column("toy_mean_map", "mean map value"),), _mean_level)


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "METRICS", [*metrics.METRICS, TOY_METRIC])
        return _quick_compare(tmp_path_factory)


def _quick_compare(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("compare")
    config = CompareConfig(
        out=out / "run",
        training=TINY_TRAINING,
        cache=out / "cache",
        show_progress=False,
    ).quick()
    # Smaller than --quick, for the fast tier: fewer digits, a 20-step NoiseMask.
    config = dataclasses.replace(
        config, n_images=8, n_localisation=8, curve_steps=4, preset=SHORT_FAST
    )
    return config.out, compare(config, log=False)


@pytest.mark.slow
def test_compare_with_roar_retrains_per_method(tmp_path: Path) -> None:
    config = CompareConfig(
        out=tmp_path / "run",
        training=TINY_TRAINING,
        cache=tmp_path / "cache",
        show_progress=False,
        roar=True,
    ).quick()
    results = compare(config, log=False)
    assert set(results["roar"]["accuracy"]) == set(results["metrics"])
    assert all(0 <= a <= 1 for row in results["roar"]["accuracy"].values() for a in row)
    assert len(results["roar"]["fractions"]) == len(results["roar"]["accuracy"]["Random"])


@pytest.mark.slow  # shares the quick compare run (about 25 s)
def test_compare_writes_every_file(quick_results: tuple[Path, dict]) -> None:
    out, results = quick_results
    for name in ("results.md", "results.json", "curves.png", "randomisation.png"):
        assert (out / name).stat().st_size > 0
    written = json.loads((out / "results.json").read_text())["metrics"]
    assert json.dumps(written) == json.dumps(results["metrics"])  # NaN != NaN: compare text
    table = (out / "results.md").read_text()
    for method in results["metrics"]:
        assert f"| {method} |" in table
    assert "NoiseMask preset: custom, 16 draws x 20 steps." in table


def test_quick_runs_the_coarse_preset_on_few_images() -> None:
    quick = CompareConfig(Path("out"), preset="faithful").quick()
    assert quick.preset == "coarse"
    assert quick.n_images <= 12 and quick.n_randomisation <= 3


@pytest.mark.slow  # shares the quick compare run (about 25 s)
def test_compare_covers_every_method_and_metric(quick_results: tuple[Path, dict]) -> None:
    _, results = quick_results
    metrics = results["metrics"]
    assert list(metrics) == [
        "NoiseMask",
        "NoiseMask (graded)",
        "Saliency",
        "SmoothGrad",
        "Deep Taylor (LRP z+)",
        "DeepLift",
        "Integrated Gradients",
        "Occlusion",
        "Random",
    ]
    expected = {
        "morf_baseline",
        "morf_uniform",
        "lerf_baseline",
        "lerf_uniform",
        "noise_deletion",
        "noise_certified_fraction",
        "infidelity_noisy_baseline",
        "infidelity_square_removal",
        "max_sensitivity",
        "randomisation_abs_spearman",
        "randomisation_spearman_signed",
        "localisation_auroc",
        "toy_mean_map",
        "seconds_per_image",
        "evaluations_per_map",
        "peak_memory_mib",
    }
    for scores in metrics.values():
        assert set(scores) == expected
    assert "NoiseMask (fixed tolerance)" in results["randomisation"]
    assert "roar" not in results  # only with roar=True


@pytest.mark.slow  # shares the quick compare run (about 25 s)
def test_a_registered_metric_is_scored_and_tabulated(quick_results: tuple[Path, dict]) -> None:
    import numpy as np

    out, results = quick_results
    with np.load(out / "maps.npz") as saved:  # every method's maps of the 8 images
        means = saved["maps"].astype(np.float64).reshape(len(saved["methods"]), 8, -1).mean(-1)
        methods = [str(name) for name in saved["methods"]]
    for name, per_image in zip(methods, means, strict=True):
        assert results["metrics"][name]["toy_mean_map"]["mean"] == pytest.approx(
            per_image.mean(), abs=1e-3
        )
    header = (out / "table_robustness.csv").read_text().splitlines()[0]
    assert "mean map value" in header and "| mean map value |" in (out / "results.md").read_text()


@pytest.mark.slow  # shares the quick compare run (about 25 s)
def test_random_map_is_the_floor(quick_results: tuple[Path, dict]) -> None:
    """Known answers: a random map deletes worst, localises at chance, ignores the model."""
    metrics = quick_results[1]["metrics"]
    random_morf = metrics["Random"]["morf_baseline"]["mean"]
    assert all(
        m["morf_baseline"]["mean"] < random_morf for n, m in metrics.items() if n != "Random"
    )
    assert abs(metrics["Random"]["localisation_auroc"]["mean"] - 0.5) < 0.15
    # Redrawn at every stage, a random map has nothing in common with the first one.
    assert metrics["Random"]["randomisation_abs_spearman"]["mean"] < 0.2
    # The preset's steps, the clean and the reference pass, the full-noise response, and one
    # evaluation's draws for the evidence order.
    assert metrics["NoiseMask"]["evaluations_per_map"] == 16 * 20 + 2 + RESPONSE_DRAWS + 16


def test_cli_compare_rejects_bad_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["compare", "--out", str(tmp_path), "--images", "0"])
    assert "--images" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # untrained CNN
def test_paper_preset_maps_are_scored_only_for_their_model(tmp_path: Path) -> None:
    import numpy as np
    import torch

    from captum_noisemask import LabelledImages
    from captum_noisemask_lab.benchmarks.compare import _paper_preset
    from captum_noisemask_lab.tasks import TASKS, PreparedTask
    from captum_noisemask_lab.tasks.classifiers import PaperCNN
    from captum_noisemask_lab.tasks.training import TrainedModel

    torch.manual_seed(0)
    digits = LabelledImages(torch.rand(3, 1, 28, 28), torch.tensor([1, 2, 3]))
    setup = PreparedTask(
        TASKS["mnist"], TrainedModel(PaperCNN().eval(), 0.0, False), digits, digits, "test digits"
    )
    config = CompareConfig(out=tmp_path, curve_steps=4)
    fixture = tmp_path / "maps.npz"
    maps = np.random.default_rng(0).random((2, 28, 28)).astype(np.float32)
    np.savez(fixture, maps=maps, test_indices=np.array([0, 2]), model_digest="0" * 16)
    assert "skipped" in _paper_preset(setup, fixture, config, lambda *a: None)
    np.savez(fixture, maps=maps, test_indices=np.array([0, 2]), model_digest=setup.state_digest())
    scored = _paper_preset(setup, fixture, config, lambda *a: None)
    assert scored["digits"] == [0, 2]
    assert set(scored["metrics"]) == {"NoiseMask, fast preset", "NoiseMask, paper preset"}
    for row in scored["metrics"].values():
        assert set(row) == {"morf_baseline", "morf_uniform", "lerf_baseline", "lerf_uniform"}
        assert all(0.0 <= cell["mean"] <= 1.0 and cell["n"] == 2 for cell in row.values())


@pytest.mark.slow  # shares the quick compare run (about 25 s)
def test_constant_maps_are_counted_never_scored(quick_results: tuple[Path, dict]) -> None:
    from captum_noisemask_lab.benchmarks.compare_tables import _cell

    assert _cell({"mean": math.nan, "ci95": math.nan, "n": 0, "undefined": 3}) == (
        "degenerate (3 of 3 constant)"
    )
    assert _cell({"mean": 0.5, "ci95": 0.1, "n": 1, "undefined": 2}).startswith("degenerate")
    assert _cell({"mean": 0.5, "ci95": 0.1, "n": 3, "undefined": 1}) == (
        "0.500 ± 0.100 (1 of 4 constant)"
    )
    for per_stage in quick_results[1]["randomisation"].values():
        for summary in per_stage.values():
            assert summary["n"] + summary["undefined"] == 3  # every example accounted for


def test_max_sensitivity_gives_noisemaskfresh_noise() -> None:
    import torch

    from captum_noisemask_lab.metrics.max_sensitivity import fresh_noise

    kwargs = fresh_noise({"seed": 0, "preset": "fast"}, seed=0)
    assert isinstance(kwargs["seed"], torch.Generator) and kwargs["preset"] == "fast"
    assert fresh_noise({"abs": True}, seed=0) == {"abs": True}  # nothing to refresh

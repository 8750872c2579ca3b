"""The speed benchmark: its CLI, the results-file merge and the agreement measure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lab_support import tiny_setup

from captum_noisemask_lab import cli


def test_cli_bench_speed_needs_its_reference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.npz"
    arguments = ["bench-speed", "--sections", "agreement", "--reference", str(missing)]
    assert cli.main([*arguments, "--out", str(tmp_path / "s.json")]) == 2
    assert "no reference maps" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # untrained CNN
def test_cli_bench_speed_times_the_methods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "captum_noisemask_lab.benchmarks.speed.prepare",
        lambda task: tiny_setup(),
    )
    from captum_noisemask._utils.machine import device_name

    out = tmp_path / "speed.json"
    # An earlier run on the same device keeps the sections not run now.
    out.write_text(json.dumps({"device": f"cpu ({device_name()})", "memory": {"kept": 1}}))
    assert cli.main(["bench-speed", "--sections", "time", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["memory"] == {"kept": 1}
    timing = json.loads(out.read_text())["time"]
    assert set(timing["seconds_per_image"]) == {"noisemask_fast", "occlusion_4x4_s2", "saliency"}
    assert timing["fast_over_occlusion"] > 0


def test_preset_agreement_scores_against_the_reference_and_between_seeds(
    tmp_path: Path,
) -> None:
    from captum_noisemask import FAST, NoiseMaskAttribution, NoiseMaskProblem
    from captum_noisemask_lab.benchmarks.speed import preset_agreement
    from captum_noisemask_lab.tasks import PreparedTask

    setup = tiny_setup()
    assert isinstance(setup, PreparedTask)
    # The agreement section runs a schedule on the paper's problem: so does the fixture.
    # The paper's rule at a tolerance the briefly trained model's logits exceed.
    problem = NoiseMaskProblem(tolerance=0.02, unit="output", mask_rule="paper")
    preset = FAST.replace(n_steps=6, n_samples=4, lr=0.3)
    # A fixture made of the preset's own seed-0 maps: seed 0 agrees perfectly with it.
    maps = NoiseMaskAttribution(setup.trained.model, problem).attribute(
        setup.test_set.images[:4], preset=preset, highlight="non_contributing", seed=0
    )
    fixture = tmp_path / "own.npz"
    np.savez(
        fixture,
        maps=maps[:, 0].numpy(),
        test_indices=np.arange(4),
        labels=np.arange(4),
        model_digest=setup.state_digest(),
        device="cpu",
        seconds=0.0,
    )
    result = preset_agreement(setup, "cpu", preset, fixture, problem)
    assert result["seed 0"]["min_iou"] == 1.0
    assert result["seed 0"]["min_pearson"] > 0.9999
    floor = result["seed 0 vs seed 1"]
    assert floor["min_iou"] == result["seed 1"]["min_iou"] < 1.0
    assert result["seed 1"]["seconds_per_image"] > 0
    assert 0 < (maps > 0.5).float().mean() < 1  # the IoUs compare real sets


@pytest.mark.slow
def test_big_images_section_times_every_method_and_reports_agreement() -> None:
    from captum_noisemask import COARSE
    from captum_noisemask_lab.benchmarks.speed import big_images

    result = big_images("cpu", size=32, cell=8, models=("resnet18",))
    row = result["resnet18"]
    methods = {
        "noisemask_coarse",
        "occlusion_15x15_s8",
        "integrated_gradients_50",
        "smoothgrad_25",
        "saliency",
    }
    assert set(row["seconds_per_image"]) == methods
    assert all(seconds > 0 for seconds in row["seconds_per_image"].values())
    # Rows the model saw: the coarse preset's draws x steps plus the clean pass; at least
    # 3 x 3 windows of 15 pixels at stride 8 on 32 pixels plus the unoccluded pass (Captum
    # fills its last batch of perturbations_per_eval rows).
    # The steps, the clean pass and one evaluation's draws for the evidence order.
    coarse_rows = COARSE.n_samples * (COARSE.n_steps + 1) + 1
    assert row["evaluations_per_map"]["noisemask_coarse"] == coarse_rows
    assert row["evaluations_per_map"]["occlusion_15x15_s8"] >= 3 * 3 + 1
    assert row["coarse_over_occlusion"] > 0
    assert 0.0 <= row["coarse_vs_fast"]["iou"] <= 1.0
    assert -1.0 <= row["coarse_vs_fast"]["pearson"] <= 1.0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # untrained CNN
@pytest.mark.filterwarnings("ignore::captum_noisemask.GuaranteeWarning")
def test_certified_section_costs_each_step_against_occlusion() -> None:
    from captum_noisemask_lab.benchmarks.speed import certified_cost

    row = certified_cost(tiny_setup(), "cpu", n_digits=2)
    rows = row["rows_per_map"]
    assert rows["guaranteed_map"] > rows["map"]  # forward rows added
    assert rows["certify_sequential"] <= rows["certify_fixed_1000"]
    assert set(row["over_occlusion"]) == set(rows)
    assert 0.0 <= row["same_decision_as_fixed"] <= 1.0 and row["mean_level_change"] >= 0

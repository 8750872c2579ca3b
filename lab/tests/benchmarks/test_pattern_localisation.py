"""The localisation benchmark runs end to end and writes what the docs read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from captum_noisemask_lab import cli
from captum_noisemask_lab.benchmarks.localisation import LocalisationConfig, run


def test_benchmark_writes_every_method_for_every_size(tmp_path: Path) -> None:
    config = LocalisationConfig(
        out=tmp_path,
        sizes=(32,),
        n_train=400,
        epochs=3,
        n_test=(3,),
        n_steps=5,
        show_progress=False,
        cache=tmp_path / "cache",
    )
    results = run(config)
    assert json.loads((tmp_path / "results.json").read_text()) == results
    run_32 = results["sizes"]["32"]
    assert run_32["n_explained"] <= 3 and run_32["box_share"] == 64 / 32**2
    names = list(run_32["methods"])
    assert names[:4] == [
        "NoiseMask",
        "NoiseMask (graded)",
        "NoiseMask (relative tolerance 0.1)",
        "NoiseMask (4x4 grid)",
    ]
    assert names[-1] == "Random"
    for scores in run_32["methods"].values():
        for key in ("pointing_game", "top_64_in_box"):
            assert 0 <= scores[key]["mean"] <= 1
            assert scores[key]["n"] == run_32["n_explained"]
    report = (tmp_path / "results.md").read_text()
    assert "## 32 x 32" in report and report.count("| Random |") == 1
    assert (tmp_path / "examples_32.png").stat().st_size > 0
    table = (tmp_path / "table_32.csv").read_text().splitlines()
    assert table[0].startswith("method,pointing game") and len(table) == 1 + len(names)
    # A later run of another size keeps this one (same settings); other settings start afresh.
    config.sizes, config.n_test = (40,), (2,)
    assert list(run(config)["sizes"]) == ["32", "40"]
    assert "## 32 x 32" in (tmp_path / "results.md").read_text()
    config.seed = 1
    assert list(run(config)["sizes"]) == ["40"]


def test_cli_refuses_a_size_too_small_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["bench-localisation", "--out", str(tmp_path), "--sizes", "16"]
    assert cli.main(arguments) == 2
    assert "at least 32" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()
    arguments = ["bench-localisation", "--out", str(tmp_path), "--images", "4", "5", "6"]
    assert cli.main(arguments) == 2
    assert "one positive count per size" in capsys.readouterr().err

"""The lab's ``explain-dataset``: a lab task's split through the library's dataset runner."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from support import write_mnist_dir

from captum_noisemask.dataset_runs.runner import load_results
from captum_noisemask_lab import cli
from captum_noisemask_lab.tasks.classifiers import PaperCNN


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # untrained CNN
def test_cli_under_torchrun_equals_one_process(tmp_path: Path) -> None:
    write_mnist_dir(tmp_path, n=20)
    torch.manual_seed(0)
    torch.save(PaperCNN().state_dict(), tmp_path / "model.pt")
    common = ["--data-dir", str(tmp_path), "--weights", str(tmp_path / "model.pt")]
    common += ["--images", "5", "--batch-size", "2", "--no-progress"]
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    done = subprocess.run(
        [
            *launch,
            "-m",
            "captum_noisemask_lab",
            "explain-dataset",
            "--out",
            str(tmp_path / "two"),
            *common,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "explained 5 examples in 3 chunks on 2 process(es)" in done.stdout
    assert cli.main(["explain-dataset", "--out", str(tmp_path / "one"), *common]) == 0
    two, one = load_results(tmp_path / "two"), load_results(tmp_path / "one")
    np.testing.assert_array_equal(two.maps, one.maps)
    np.testing.assert_array_equal(two.predicted, one.predicted)


def test_cli_reports_a_mismatched_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_mnist_dir(tmp_path, n=4)
    torch.save(PaperCNN(hidden=64).state_dict(), tmp_path / "other.pt")
    arguments = ["explain-dataset", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path)]
    assert cli.main([*arguments, "--weights", str(tmp_path / "other.pt")]) == 2
    assert "size mismatch for fc1.weight" in capsys.readouterr().err
    assert cli.main([*arguments, "--weights", str(tmp_path / "missing.pt")]) == 2
    assert "no such file" in capsys.readouterr().err

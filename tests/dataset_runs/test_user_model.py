"""``explain-dataset --model MODULE:CALLABLE --inputs x.npy``: your own model on your own array."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from captum_noisemask import cli
from captum_noisemask.dataset_runs.runner import load_results

USER_MODEL = """
import torch
from torch import nn


def build():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5)
    )


def not_a_module():
    return "model"
"""


@pytest.fixture
def user_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``usermodel.py`` on ``sys.path``, its weights, 5 RGB images and their labels."""
    (tmp_path / "usermodel.py").write_text(textwrap.dedent(USER_MODEL))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "usermodel", raising=False)
    import usermodel  # type: ignore[import-not-found]

    torch.save(usermodel.build().state_dict(), tmp_path / "weights.pt")
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.random((5, 3, 8, 8)).astype(np.float32))
    np.save(tmp_path / "y.npy", np.array([0, 1, 2, 3, 4]))
    return tmp_path


def _run(files: Path, *extra: str) -> int:
    arguments = ["explain-dataset", "--model", "usermodel:build", "--out", str(files / "run")]
    arguments += ["--inputs", str(files / "x.npy"), "--preset", "fast", "--no-progress"]
    return cli.main([*arguments, "--batch-size", "2", *extra])


@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # random weights
def test_a_users_model_is_explained_resumed_and_reported(
    user_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = ["--labels", str(user_files / "y.npy"), "--target", "label"]
    weights = ["--weights", str(user_files / "weights.pt")]
    assert _run(user_files, *labels, *weights) == 0
    results = load_results(user_files / "run")
    assert results.maps.shape == (5, 3, 8, 8)
    assert results.labels.tolist() == [0, 1, 2, 3, 4]
    capsys.readouterr()
    assert _run(user_files, *labels, *weights) == 0  # the same run again: every chunk is kept
    assert "(3 chunks were already done)" in capsys.readouterr().out
    np.testing.assert_array_equal(load_results(user_files / "run").maps, results.maps)
    assert cli.main(["report", str(user_files / "run")]) == 0
    assert (user_files / "run" / "report" / "index.html").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--model": "usermodel:missing"}, "has no attribute 'missing'"),
        ({"--model": "nosuchmodule:build"}, "cannot import 'nosuchmodule'"),
        ({"--model": "usermodel:not_a_module"}, "returned str, not an nn.Module"),
        ({"--inputs": "ints.npy"}, "expected a float array of images (N, C, H, W)"),
        ({"--inputs": "flat.npy"}, "expected a float array of images (N, C, H, W)"),
        ({"--labels": "short.npy"}, "expected 5 integer labels"),
        ({"--weights": "other.pt"}, "is not a state_dict of the --model"),
    ],
)
def test_a_users_mistake_is_named(
    user_files: Path, capsys: pytest.CaptureFixture[str], change: dict[str, str], message: str
) -> None:
    np.save(user_files / "ints.npy", np.zeros((5, 3, 8, 8), dtype=np.int64))
    np.save(user_files / "flat.npy", np.zeros((5, 192), dtype=np.float32))
    np.save(user_files / "short.npy", np.array([0, 1]))
    torch.save({"weight": torch.zeros(1)}, user_files / "other.pt")
    options = {"--model": "usermodel:build", "--inputs": "x.npy", "--labels": "y.npy"}
    options.update(change)
    arguments = ["explain-dataset", "--out", str(user_files / "run"), "--no-progress"]
    for option, value in options.items():
        arguments += [option, value if option == "--model" else str(user_files / value)]
    assert cli.main(arguments) == 2
    assert message in capsys.readouterr().err


def test_the_model_and_its_inputs_are_required_and_named(
    user_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = ["explain-dataset", "--out", str(user_files / "o")]
    with pytest.raises(SystemExit):
        cli.main([*out, "--inputs", "x.npy"])
    assert "the following arguments are required: --model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*out, "--model", "usermodel:build"])
    assert "the following arguments are required: --inputs" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*out, "--model", "usermodel", "--inputs", "x.npy"])
    assert "expected MODULE:CALLABLE" in capsys.readouterr().err


@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # random weights
def test_the_problem_is_chosen_by_name_or_file_and_recorded(
    user_files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from captum_noisemask import NoiseMaskProblem

    problem = NoiseMaskProblem(tolerance=0.3, mask_rule="capped")
    (user_files / "problem.json").write_text(json.dumps(problem.to_dict()))
    assert _run(user_files, "--problem", str(user_files / "problem.json"), "--images", "2") == 0
    index = json.loads((user_files / "run" / "index.json").read_text())
    assert NoiseMaskProblem.from_dict(index["problem"]) == problem
    with pytest.raises(SystemExit):
        _run(user_files, "--problem", "strict")
    assert "--problem strict: not one of ['default', 'paper'] nor a JSON file" in (
        capsys.readouterr().err
    )


def test_ranks_checking_one_out_at_once_do_not_trip_over_each_others_probe(tmp_path: Path) -> None:
    """Under torchrun every rank checks --out; a probe file shared between them raced."""
    import multiprocessing

    from captum_noisemask.cli.command import unwritable

    out = tmp_path / "shared"
    with multiprocessing.get_context("fork").Pool(4) as pool:
        problems = pool.map(unwritable, [out] * 64)
    assert problems == [None] * 64
    assert list(out.iterdir()) == []  # every probe removed

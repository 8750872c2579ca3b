"""The paper's MNIST classifier: conv -> conv -> fc -> fc."""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["PaperCNN"]


class PaperCNN(nn.Module):
    r"""Two 5x5 conv layers (each ReLU + 2x2 max-pool), a ReLU fc layer, 10 logits.

    The paper fixes the layer structure (conv-conv-fc-fc with ReLU); the
    widths here are small so that the network trains in under a minute on a
    2-core CPU and the paper preset stays affordable.

    Args:
        channels (tuple[int, int], optional): Output channels of ``conv1``
                    and ``conv2``. Default: (16, 32)
        hidden (int, optional): Width of ``fc1``. Default: 128
        n_classes (int, optional): Number of outputs. Default: 10
        image_size (tuple[int, int], optional): Input height and width (the
                    synthetic localisation task of :mod:`captum_noisemask.evaluation`
                    uses 28 x 56 images). Default: (28, 28)
    """

    def __init__(
        self,
        channels: tuple[int, int] = (16, 32),
        hidden: int = 128,
        n_classes: int = 10,
        image_size: tuple[int, int] = (28, 28),
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 5)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 5)
        # Each 5x5 valid conv trims 4 pixels, each pool halves.
        height, width = (((size - 4) // 2 - 4) // 2 for size in image_size)
        self.fc1 = nn.Linear(channels[1] * height * width, hidden)
        self.fc2 = nn.Linear(hidden, n_classes)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.pool1, self.pool2 = nn.MaxPool2d(2), nn.MaxPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, 1, H, W)`` images in [0, 1] to ``(B, n_classes)`` logits."""
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(x.flatten(1)))
        return self.fc2(x)

"""The classifiers the lab's tasks train, by name: one builder each, registered in
:data:`CLASSIFIERS` (``--model`` offers them).

Adding a classifier: write its ``nn.Module`` here (or import it) and add one line to
:data:`CLASSIFIERS` mapping its name to a builder of ``(image_size, n_classes)``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from ..architectures import BasicBlock, InvertedResidual

__all__ = [
    "CLASSIFIERS",
    "PaperCNN",
    "PatternCNN",
    "SmallMobileNet",
    "SmallResNet",
    "build_classifier",
]


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


class SmallResNet(nn.Module):
    r"""A ResNet for 28x28 greyscale images: torchvision's blocks at a small width.

    A 3x3 stem (conv -> BN -> in-place ReLU, no max-pool), three stages of one
    :class:`~captum_noisemask_lab.architectures.BasicBlock` each (widths
    16, 32, 64; the last two halve the resolution, 28 -> 14 -> 7), global
    average pooling, a linear layer. It has what the paper's CNN lacks and a
    Captum user's network has: BatchNorm, in-place ReLUs and in-place
    residual adds (``out += identity``). Each ReLU call has its own module
    (torchvision reuses one per block), so Captum's DeepLift runs on it.

    Args:
        n_classes (int, optional): Number of outputs. Default: 10
        widths (tuple[int, int, int], optional): Channels of the three stages.
                    Default: (16, 32, 64)
    """

    def __init__(self, n_classes: int = 10, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, widths[0], 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(widths[0], widths[0], separate_relus=True)
        self.layer2 = BasicBlock(widths[0], widths[1], stride=2, separate_relus=True)
        self.layer3 = BasicBlock(widths[1], widths[2], stride=2, separate_relus=True)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], n_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, 1, H, W)`` images in [0, 1] to ``(B, n_classes)`` logits."""
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))


class SmallMobileNet(nn.Module):
    r"""A MobileNetV2 for 28x28 greyscale images: a second BN-residual layout.

    A 3x3 stem (conv -> BN -> ReLU6), five of MobileNetV2's inverted residual
    blocks (:class:`~captum_noisemask_lab.architectures.InvertedResidual`: 1x1
    expansion, depthwise 3x3, linear bottleneck, residual add where the shape
    allows; 28 -> 14 -> 7 pixels), a 1x1 head, global average pooling and a
    linear layer. Unlike :class:`SmallResNet` its residual sums are not read by
    any nonlinearity (linear bottlenecks), and its ReLUs are ReLU6.

    Args:
        n_classes (int, optional): Number of outputs. Default: 10
    """

    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(True)
        )
        settings = [(1, 16, 1), (4, 24, 2), (4, 24, 1), (4, 32, 2), (4, 32, 1)]
        blocks: list[nn.Module] = []
        channels = 16
        for expand, out, stride in settings:
            blocks.append(InvertedResidual(channels, out, stride, expand))
            channels = out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Conv2d(channels, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU6(True)
        )
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(128, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        """Maps ``(B, 1, H, W)`` images in [0, 1] to ``(B, n_classes)`` logits."""
        x = self.head(self.blocks(self.stem(x)))
        return self.fc(self.avgpool(x).flatten(1))


class PatternCNN(nn.Module):
    """Three conv-BN-ReLU blocks (in-place ReLUs), global max pooling, a linear head.

    Global max pooling makes the classifier translation invariant, so it can
    find the pattern wherever it lies (the pattern task's classifier).
    """

    def __init__(self, n_classes: int = 4) -> None:
        super().__init__()

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(True)]

        self.features = nn.Sequential(
            *block(1, 16), nn.MaxPool2d(2), *block(16, 32), nn.MaxPool2d(2), *block(32, 64)
        )
        self.head = nn.Linear(64, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).amax((2, 3)))


#: Builder of a fresh classifier for greyscale images of a size, with a number of classes.
ClassifierBuilder = Callable[[tuple[int, int], int], nn.Module]

#: ``--model``: every classifier the lab trains, by name.
CLASSIFIERS: dict[str, ClassifierBuilder] = {
    "paper-cnn": lambda size, n_classes: PaperCNN(image_size=size, n_classes=n_classes),
    "resnet": lambda size, n_classes: SmallResNet(n_classes=n_classes),
    "mobilenet": lambda size, n_classes: SmallMobileNet(n_classes=n_classes),
    "pattern-cnn": lambda size, n_classes: PatternCNN(n_classes=n_classes),
}


def build_classifier(
    name: str, image_size: tuple[int, int] = (28, 28), n_classes: int = 10
) -> nn.Module:
    """A fresh classifier of one of :data:`CLASSIFIERS` for greyscale images of ``image_size``.

    Raises:
        ValueError: an unknown name.

    Examples::

        >>> import torch
        >>> from captum_noisemask_lab.tasks.classifiers import build_classifier
        >>> build_classifier("resnet")(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    if name not in CLASSIFIERS:
        raise ValueError(f"unknown model {name!r}; accepted: {', '.join(CLASSIFIERS)}")
    return CLASSIFIERS[name](image_size, n_classes)

"""Small plain-torch layouts of the networks Captum users explain, with random weights.

The library's invariants (masking alone changes nothing, the reference rule, every ReLU form
found) are checked on each. They keep what matters to mask units and hooks, not the sizes:
in-place ReLUs, one ReLU module called twice per residual block, ``out += identity``, a
downsample of conv -> BN, BatchNorm with random statistics (so it is no identity), ReLU6 and
depthwise convolutions with linear bottlenecks, ReLUs written as functions, max-pooling, and
the paper's conv-conv-fc-fc CNN at MNIST's size.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["ARCHITECTURES", "build"]


class ResidualBlock(nn.Module):
    def __init__(self, channels_in: int, channels: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)  # called twice, as in torchvision
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.downsample = (
            nn.Sequential(
                nn.Conv2d(channels_in, channels, 1, stride, bias=False), nn.BatchNorm2d(channels)
            )
            if stride != 1 or channels_in != channels
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class TinyResNet(nn.Module):
    """A BN-ResNet: stem, max-pool, two residual stages (the second downsamples), global pool."""

    def __init__(self, n_classes: int = 6) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True)
        )
        self.pool = nn.MaxPool2d(2)
        self.layer1 = ResidualBlock(8, 8, 1)
        self.layer2 = ResidualBlock(8, 16, 2)
        self.fc = nn.Linear(16, n_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.layer2(self.layer1(self.pool(self.stem(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class InvertedResidual(nn.Module):
    def __init__(self, channels: int, expansion: int) -> None:
        super().__init__()
        hidden = channels * expansion
        self.conv = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden, bias=False),  # depthwise
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False),  # linear bottleneck: no ReLU after
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv(x)


class TinyMobileNet(nn.Module):
    """A MobileNetV2 layout: a strided stem with ReLU6, two inverted residuals, a classifier."""

    def __init__(self, n_classes: int = 6) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU6(inplace=True),
            InvertedResidual(8, 4),
            InvertedResidual(8, 2),
        )
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(8, n_classes))

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


def _vgg_bn() -> nn.Module:
    """VGG with BatchNorm: conv-BN-ReLU-pool twice, then a ReLU classifier."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 32),
        nn.ReLU(inplace=True),
        nn.Linear(32, 6),
    )


class FunctionalCNN(nn.Module):
    """ReLUs written as functions: ``F.relu``, ``torch.relu``, ``Tensor.relu_`` and ``F.relu6``."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x: Tensor) -> Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.relu(self.conv2(x))
        y = self.conv3(x)
        y.add_(x)  # an in-place residual sum read by the next ReLU
        x = F.adaptive_avg_pool2d(y.relu_(), 4)
        return self.fc2(F.relu6(self.fc1(x.flatten(1))))


class PaperLayoutCNN(nn.Module):
    """The paper's conv-conv-fc-fc CNN on 28x28 digits (5x5 convs, ReLU, 2x2 max-pools)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 12, 5)
        self.fc1 = nn.Linear(12 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, 10)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.pool1, self.pool2 = nn.MaxPool2d(2), nn.MaxPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc2(self.relu3(self.fc1(x.flatten(1))))


def _randomise_batch_norm(model: nn.Module, seed: int) -> nn.Module:
    """Random running statistics and affine parameters: BN is then no identity."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                size = module.num_features
                assert module.running_mean is not None and module.running_var is not None
                module.running_mean.copy_(torch.randn(size, generator=generator) * 0.2)
                module.running_var.copy_(torch.rand(size, generator=generator) + 0.5)
                module.weight.copy_(torch.rand(size, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(size, generator=generator) * 0.2)
    return model.eval()


#: name -> (builder, input shape of one example).
ARCHITECTURES: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "resnet": (TinyResNet, (3, 32, 32)),
    "vgg_bn": (_vgg_bn, (3, 16, 16)),
    "mobilenet": (TinyMobileNet, (3, 32, 32)),
    "functional_cnn": (FunctionalCNN, (3, 16, 16)),
    "paper_cnn": (PaperLayoutCNN, (1, 28, 28)),
}


def build(name: str, seed: int = 0) -> nn.Module:
    """The named architecture with seeded random weights, in eval mode."""
    torch.manual_seed(seed)
    builder, _ = ARCHITECTURES[name]
    return _randomise_batch_norm(builder(), seed)


def example_inputs(name: str, batch: int = 2, seed: int = 1) -> Tensor:
    """Seeded random inputs in [0, 1] shaped for the named architecture."""
    shape = ARCHITECTURES[name][1]
    return torch.rand(batch, *shape, generator=torch.Generator().manual_seed(seed))

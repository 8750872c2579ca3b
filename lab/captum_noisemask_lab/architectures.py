"""Plain-torch copies of the layouts Captum users explain, for the benchmarks and classifiers.

Written after torchvision's layouts (torchvision itself is not a dependency):
the same module names, in-place ReLUs, one ReLU module called twice per
residual block, ``out += identity``, a ``downsample`` of conv -> BN with no
ReLU after it, ReLU6 and depthwise convolutions with linear bottlenecks in
MobileNetV2. :func:`build` gives seeded random weights with randomised
BatchNorm statistics, so that BN is not the identity.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = [
    "ARCHITECTURES",
    "BasicBlock",
    "Bottleneck",
    "FunctionalCNN",
    "InvertedResidual",
    "ResNet",
    "build",
    "mobilenet_v2",
    "randomise_batch_norm",
    "resnet18",
    "resnet50",
    "vgg11_bn",
]


class BasicBlock(nn.Module):
    """ResNet-18/34's block: two 3x3 convs, in-place ReLU called twice, ``out += identity``.

    ``separate_relus=True`` gives the second call its own ReLU module
    (``relu_out``), which Captum's DeepLift requires.
    """

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, separate_relus: bool = False
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        # Captum's DeepLift needs one module per call; torchvision calls ``relu`` twice.
        self.relu_out = nn.ReLU(inplace=True) if separate_relus else None
        self.downsample = _downsample(inplanes, planes * self.expansion, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return (self.relu if self.relu_out is None else self.relu_out)(out)


class Bottleneck(nn.Module):
    """ResNet-50's block: 1x1, 3x3, 1x1 convs with BN, one ReLU module called three times."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(inplanes, planes * self.expansion, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


def _downsample(inplanes: int, outplanes: int, stride: int) -> nn.Module | None:
    if stride == 1 and inplanes == outplanes:
        return None
    return nn.Sequential(
        nn.Conv2d(inplanes, outplanes, 1, stride, bias=False), nn.BatchNorm2d(outplanes)
    )


class ResNet(nn.Module):
    """torchvision's ResNet: 7x7 stem, max-pool, four stages, global average pool, fc."""

    def __init__(
        self, block: type[BasicBlock] | type[Bottleneck], layers: list[int], n_classes: int = 10
    ) -> None:
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, 64, layers[0], 1)
        self.layer2 = self._layer(block, 128, layers[1], 2)
        self.layer3 = self._layer(block, 256, layers[2], 2)
        self.layer4 = self._layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512 * block.expansion, n_classes)

    def _layer(
        self, block: type[BasicBlock] | type[Bottleneck], planes: int, blocks: int, stride: int
    ) -> nn.Sequential:
        layers = [block(self.inplanes, planes, stride)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def resnet18() -> ResNet:
    """ResNet-18 (BasicBlock, 2-2-2-2), 10 outputs."""
    return ResNet(BasicBlock, [2, 2, 2, 2])


def resnet50() -> ResNet:
    """ResNet-50 (Bottleneck, 3-4-6-3), 10 outputs."""
    return ResNet(Bottleneck, [3, 4, 6, 3])


def vgg11_bn(n_classes: int = 10) -> nn.Module:
    """torchvision's VGG-11-BN feature layout with a small classifier head."""
    layers: list[nn.Module] = []
    channels = 3
    for width in (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"):
        if width == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            assert isinstance(width, int)
            layers += [
                nn.Conv2d(channels, width, 3, padding=1),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(*layers))
    model.add_module("avgpool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module(
        "classifier",
        nn.Sequential(nn.Linear(512, 64), nn.ReLU(True), nn.Dropout(), nn.Linear(64, n_classes)),
    )
    return model


class InvertedResidual(nn.Module):
    """MobileNetV2's block: 1x1 expansion, 3x3 depthwise, linear 1x1 bottleneck, residual."""

    def __init__(self, inp: int, oup: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = inp * expand
        self.use_res_connect = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand != 1:
            layers += [
                nn.Conv2d(inp, hidden, 1, bias=False),
                nn.BatchNorm2d(hidden),
                nn.ReLU6(True),
            ]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),  # depthwise
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, oup, 1, bias=False),  # linear bottleneck: no ReLU after
            nn.BatchNorm2d(oup),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.use_res_connect:
            return x + self.conv(x)
        return self.conv(x)


def mobilenet_v2(n_classes: int = 10) -> nn.Module:
    """A shortened MobileNetV2: the stem, six inverted residuals, the 1x1 head."""
    settings = [(1, 16, 1), (6, 24, 2), (6, 24, 1), (6, 32, 2), (6, 32, 1), (6, 64, 2)]
    blocks: list[nn.Module] = [
        nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU6(True))
    ]
    channels = 32
    for expand, out, stride in settings:
        blocks.append(InvertedResidual(channels, out, stride, expand))
        channels = out
    blocks.append(
        nn.Sequential(nn.Conv2d(channels, 256, 1, bias=False), nn.BatchNorm2d(256), nn.ReLU6(True))
    )
    model = nn.Sequential()
    model.add_module("features", nn.Sequential(*blocks))
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("classifier", nn.Linear(256, n_classes))
    return model


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


def randomise_batch_norm(model: nn.Module, seed: int = 0) -> nn.Module:
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
    "resnet18": (resnet18, (3, 64, 64)),
    "resnet50": (resnet50, (3, 64, 64)),
    "vgg11_bn": (vgg11_bn, (3, 32, 32)),
    "mobilenet_v2": (mobilenet_v2, (3, 64, 64)),
    "functional_cnn": (FunctionalCNN, (3, 16, 16)),
}


def build(name: str, seed: int = 0) -> nn.Module:
    """The named architecture with seeded random weights, in eval mode."""
    torch.manual_seed(seed)
    builder, _ = ARCHITECTURES[name]
    return randomise_batch_norm(builder(), seed)

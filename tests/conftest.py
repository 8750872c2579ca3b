"""Small seeded models shared by the tests."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class HalfBlindLinear(nn.Module):
    """Logits depend only on the right half of a (B, 1, 4, 4) image: the left half is ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(16, 2, bias=False)
        with torch.no_grad():
            weight = torch.zeros(2, 1, 4, 4)
            weight[0, :, :, 2:] = 4.0
            weight[1, :, :, 2:] = -4.0
            self.fc.weight.copy_(weight.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


class TinyCNN(nn.Module):
    """conv -> ReLU -> conv -> ReLU -> fc -> ReLU -> fc, the paper's structure in miniature."""

    def __init__(self, batch_norm: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 3, 3)
        self.bn1 = nn.BatchNorm2d(3) if batch_norm else nn.Identity()
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(3, 4, 3)
        self.relu2 = nn.ReLU()
        self.fc1 = nn.Linear(4 * 4 * 4, 8)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.conv2(x))
        return self.fc2(self.relu3(self.fc1(x.flatten(1))))


def make_tiny_cnn(batch_norm: bool = False, seed: int = 0) -> TinyCNN:
    torch.manual_seed(seed)
    model = TinyCNN(batch_norm)
    if batch_norm:
        with torch.no_grad():
            bn = model.bn1
            assert isinstance(bn, nn.BatchNorm2d)
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.bias.uniform_(-0.5, 0.5)
    return model.eval()


@pytest.fixture
def tiny_cnn() -> TinyCNN:
    return make_tiny_cnn()


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def half_blind() -> HalfBlindLinear:
    return HalfBlindLinear().eval()

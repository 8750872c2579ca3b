"""Small seeded models, data files and set-ups shared by the tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torch import nn

from captum_noisemask import FAST, Preset


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


def two_strengths() -> nn.Linear:
    """Output 0 reads features 0-3 with weight 40 and 4-7 with weight 8; 8-11 not at all."""
    model = nn.Linear(12, 2, bias=False).eval()
    with torch.no_grad():
        model.weight.zero_()
        model.weight[0, :4] = 40.0
        model.weight[0, 4:8] = 8.0
    return model


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


#: A one-epoch training: enough for end-to-end tests, not for a good model.
def idx_bytes(array: np.ndarray) -> bytes:
    """Encodes a uint8 array in the IDX format (magic 0x0000 0x08 ndim, big-endian dims)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_mnist_dir(directory: Path, n: int = 6, compress: bool = False) -> None:
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        files = {
            f"{prefix}-images-idx3-ubyte": rng.integers(0, 256, (n, 28, 28)),
            f"{prefix}-labels-idx1-ubyte": np.arange(n) % 10,
        }
        for name, array in files.items():
            data = idx_bytes(array)
            if compress:
                (directory / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (directory / name).write_bytes(data)


def caller_state(model: nn.Module) -> tuple:
    """What a call must leave as it was: hooks, requires_grad, .grad, training flags, weights."""
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    return (
        hooks,
        [p.requires_grad for p in model.parameters()],
        [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        [m.training for m in model.modules()],
        [p.detach().clone() for p in model.parameters()],
    )


def same_state(before: tuple, after: tuple) -> bool:
    """Whether two :func:`caller_state` results are equal (tensors compared exactly)."""

    def equal(a: object, b: object) -> bool:
        if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
            return torch.equal(a, b)
        if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    return equal(before, after)


def steps(n_steps: int, **fields: object) -> Preset:
    """The fast schedule shortened to ``n_steps`` (and any other fields changed): tests run
    the default schedule's code path on a budget."""
    return FAST.replace(n_steps=n_steps, **fields)

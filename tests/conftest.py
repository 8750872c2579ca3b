"""Fixtures shared by the tests; the models and helpers behind them live in support.py."""

from __future__ import annotations

import pytest
import torch
from support import HalfBlindLinear, TinyCNN, make_tiny_cnn


@pytest.fixture
def tiny_cnn() -> TinyCNN:
    return make_tiny_cnn()


@pytest.fixture
def images() -> torch.Tensor:
    return torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))


@pytest.fixture
def half_blind() -> HalfBlindLinear:
    return HalfBlindLinear().eval()

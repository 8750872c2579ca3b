"""Fixtures of the lab's tests: a weight cache with a short-trained default model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from lab_support import TINY_TRAINING

from captum_noisemask_lab.tasks.idx import load_mnist_sample
from captum_noisemask_lab.tasks.training import (
    DEFAULT_TRAINING,
    cached_weights_path,
    split_held_out,
    train,
)


@pytest.fixture(scope="session")
def short_trained_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weight cache whose "default" PaperCNN is trained for one epoch, shared by all tests.

    The examples and the docs' code blocks call ``prepare(TASKS["mnist"])`` with the default
    (20-epoch) training; placing a one-epoch model under that key lets them run in
    seconds. What they check (it runs, it writes its files) does not need accuracy.
    """
    cache = tmp_path_factory.mktemp("short_trained_cache")
    train_set, _ = split_held_out(load_mnist_sample())
    model = train(train_set, TINY_TRAINING)
    torch.save(model.state_dict(), cached_weights_path(train_set, DEFAULT_TRAINING, cache))
    return cache


@pytest.fixture
def default_model_cache(short_trained_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points the weight cache at :func:`short_trained_cache` for one test."""
    monkeypatch.setenv("CAPTUM_NOISEMASK_CACHE", str(short_trained_cache))
    return short_trained_cache

"""A user's own model and arrays for a dataset run, checked before anything slow starts.

``explain-dataset --model MODULE:CALLABLE --inputs x.npy`` explains *your* model: the callable
(found on ``PYTHONPATH``) returns an ``nn.Module``, weights load with ``weights_only=True``, and
the inputs are a float ``.npy`` array of images ``(N, C, H, W)`` with optional int labels
``(N,)``. Every mistake gets a ``ValueError`` that says what was expected.
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..labelled import LabelledImages

__all__ = ["load_user_model", "load_user_examples"]


def load_user_model(spec: str, weights: Path | None = None) -> nn.Module:
    """Builds ``MODULE:CALLABLE`` (called with no arguments) and loads ``weights`` into it.

    Args:
        spec (str): ``"package.module:function"`` (dotted attributes allowed after
                    the colon, e.g. ``"models:Zoo.small"``); the callable returns the
                    ``nn.Module`` to explain.
        weights (Path, optional): A ``state_dict`` saved with ``torch.save``, read
                    with ``weights_only=True`` (no code runs from the file).

    Returns:
        *nn.Module* in eval mode.

    Raises:
        ValueError: a malformed spec, a module or attribute that is not found, a callable
                    that fails or returns no ``nn.Module``, a weights file that is missing
                    or does not fit the module.

    Examples::

        >>> from captum_noisemask.dataset_runs.user_inputs import load_user_model
        >>> load_user_model("torch.nn:Identity")
        Identity()
    """
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ValueError(
            f"--model {spec!r}: expected MODULE:CALLABLE, e.g. mymodels:build (a function on "
            "PYTHONPATH returning the nn.Module to explain)"
        )
    try:
        target: object = importlib.import_module(module_name)
    except ImportError as error:
        raise ValueError(
            f"--model {spec!r}: cannot import {module_name!r} ({error}); is its folder on "
            "PYTHONPATH?"
        ) from None
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ValueError(f"--model {spec!r}: {module_name!r} has no attribute {attribute!r}")
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"--model {spec!r}: {attribute!r} is not callable")
    model = target()
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"--model {spec!r}: {attribute}() returned {type(model).__name__}, not an nn.Module"
        )
    if weights is not None:
        _load_weights(model, weights)
    return model.eval()


def _load_weights(model: nn.Module, weights: Path) -> None:
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except FileNotFoundError:
        raise ValueError(f"--weights {weights}: no such file") from None
    except (RuntimeError, pickle.UnpicklingError, AttributeError, TypeError) as error:
        # load_state_dict lists missing keys and size mismatches after a header line.
        details = " ".join(line.strip() for line in str(error).splitlines()[1:]) or str(error)
        raise ValueError(
            f"--weights {weights} is not a state_dict of the --model: {details[:400]}"
        ) from None


def load_user_examples(inputs: Path, labels: Path | None = None) -> LabelledImages:
    """The ``.npy`` inputs ``(N, C, H, W)`` (any float dtype) and labels ``(N,)`` (ints).

    Without ``labels`` every label is 0 (explain the ``predicted`` class then).

    Raises:
        ValueError: a missing or unreadable file, inputs that are not a float array of rank
                    4, labels that are not integers of shape ``(N,)``.
    """
    images = _array(inputs, "--inputs")
    if images.dtype.kind != "f" or images.ndim != 4:
        raise ValueError(
            f"--inputs {inputs}: expected a float array of images (N, C, H, W), got "
            f"{images.dtype} of shape {images.shape}"
        )
    if labels is None:
        targets = np.zeros(images.shape[0], dtype=np.int64)
    else:
        targets = _array(labels, "--labels")
        if targets.dtype.kind not in "iu" or targets.shape != (images.shape[0],):
            raise ValueError(
                f"--labels {labels}: expected {images.shape[0]} integer labels, shape "
                f"({images.shape[0]},), got {targets.dtype} of shape {targets.shape}"
            )
    return LabelledImages(
        torch.from_numpy(images.astype(np.float32)), torch.from_numpy(targets.astype(np.int64))
    )


def _array(path: Path, option: str) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"{option} {path}: no such file") from None
    except (ValueError, OSError) as error:
        raise ValueError(f"{option} {path}: not a .npy array ({error})") from None

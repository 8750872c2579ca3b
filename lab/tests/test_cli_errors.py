"""The CLI refuses bad options before any work, in the words of the option, with the usage
line of the subcommand that was called."""

from __future__ import annotations

from pathlib import Path

import pytest

from captum_noisemask_lab import cli


def test_batch_size_zero_fails_first_names_the_option_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "audit"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["explain-dataset", "--out", str(out), "--batch-size", "0"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "--batch-size must be at least 1" in err
    assert "usage: noisemask-lab explain-dataset" in err  # the subcommand's usage
    assert not out.exists()


def test_an_unwritable_out_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["reproduce", "--out", "/proc/captum-noisemask-test"])
    err = capsys.readouterr().err
    assert "cannot be created or written" in err and "usage: noisemask-lab reproduce" in err


def test_bench_speed_help_states_the_sections_default_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        cli.main(["bench-speed", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    start = text.index("--sections SECTION [SECTION ...] any of")  # the option's own entry
    assert text[start : text.index("--paper-batch PAPER_BATCH", start)].count("default") == 1

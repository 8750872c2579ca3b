"""Every example script runs, and every Python block of the README and the docs runs."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.usefixtures("default_model_cache")
def test_explain_one_digit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["explain_one_digit.py", str(tmp_path / "out")])
    runpy.run_path(str(ROOT / "examples" / "explain_one_digit.py"), run_name="__main__")
    assert (tmp_path / "out" / "one_digit.png").stat().st_size > 0


@pytest.mark.usefixtures("default_model_cache")
def test_compare_methods(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["compare_methods.py", "2"])
    runpy.run_path(str(ROOT / "examples" / "compare_methods.py"), run_name="__main__")
    printed = capsys.readouterr().out
    for name in ("NoiseMask", "Saliency", "SmoothGrad", "Deep Taylor", "Occlusion"):
        assert name in printed


def _python_blocks(path: Path) -> list[str]:
    text = path.read_text()
    if path.suffix == ".md":
        return re.findall(r"```python\n(.*?)```", text, flags=re.S)
    blocks = re.findall(r"\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text)
    return [re.sub(r"^   ", "", b, flags=re.M) for b in blocks]


@pytest.mark.parametrize(
    "page",
    ["README.md", "docs/getting_started.rst", "docs/captum.rst", "docs/datasets.rst"],
    ids=str,
)
@pytest.mark.usefixtures("default_model_cache")
def test_code_blocks_run(page: str) -> None:
    blocks = _python_blocks(ROOT / page)
    assert blocks, f"no python block found in {page}"
    for block in blocks:
        exec(compile(block, page, "exec"), {"__name__": "__docs__"})

"""Every example script runs, and every Python block of the README and the docs runs."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


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


def _python_blocks(path: Path) -> list[tuple[str, str | None]]:
    """Each Python block with the text block printed right after it (its expected output)."""
    text = path.read_text()
    if path.suffix == ".md":
        return [(b, None) for b in re.findall(r"```python\n(.*?)```", text, flags=re.S)]
    indented = r"((?:   .*\n|\n)+)"
    found = re.findall(
        rf"\.\. code-block:: python\n\n{indented}(?:\.\. code-block:: text\n\n{indented})?", text
    )
    return [(_dedent(code), _dedent(output).strip() if output else None) for code, output in found]


def _dedent(block: str) -> str:
    return re.sub(r"^   ", "", block, flags=re.M)


@pytest.mark.parametrize(
    "page",
    [
        "README.md",
        "docs/getting_started.rst",
        "docs/method.rst",
        "docs/captum.rst",
        "docs/layers.rst",
        "docs/datasets.rst",
        "docs/extending.rst",
    ],
    ids=str,
)
@pytest.mark.usefixtures("default_model_cache")
def test_code_blocks_run(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Blocks run in order in one namespace; a text block after one must be what it prints."""
    blocks = _python_blocks(ROOT / page)
    assert blocks, f"no python block found in {page}"
    namespace = {"__name__": "__docs__"}
    for code, expected in blocks:
        capsys.readouterr()
        exec(compile(code, page, "exec"), namespace)
        printed = capsys.readouterr().out.strip()
        if expected is not None:
            assert printed == expected, f"{page}: the block printed\n{printed}"

"""Every module of the lab has a place in docs/api.rst and a docstring."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import captum_noisemask_lab

API_PAGE = (Path(__file__).resolve().parents[3] / "docs" / "api.rst").read_text()
#: Run, not imported: the command line's entry points.
SCRIPTS = {"captum_noisemask_lab.__main__", "captum_noisemask_lab.cli"}
#: Figures are checked by looking at them (docs/generate_figures.py, reproduce).
SCRIPTS |= {"captum_noisemask_lab.figures.maps", "captum_noisemask_lab.figures.curves"}


def _lab_modules() -> list[str]:
    found = pkgutil.walk_packages(captum_noisemask_lab.__path__, prefix="captum_noisemask_lab.")
    return ["captum_noisemask_lab", *(m.name for m in found)]


def test_every_lab_module_is_in_the_api_page_with_a_docstring() -> None:
    modules = [m for m in _lab_modules() if m not in SCRIPTS]
    assert len(modules) > 30  # the walk does see the lab
    missing = [m for m in modules if f"automodule:: {m}\n" not in API_PAGE]
    assert not missing, f"lab modules missing from docs/api.rst: {missing}"
    undocumented = [m for m in modules if not importlib.import_module(m).__doc__]
    assert not undocumented

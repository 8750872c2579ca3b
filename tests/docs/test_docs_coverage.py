"""Every public object of the library is documented (a docstring, and a place in docs/api.rst)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import captum_noisemask

API_PAGE = (Path(__file__).resolve().parents[2] / "docs" / "api.rst").read_text()
SCRIPTS = {"captum_noisemask.__main__"}
# Documented through their top-level re-exports (captum_noisemask.NoiseMaskAttribution, .Preset).
REEXPORTED = {
    "captum_noisemask.attribution",
    "captum_noisemask.presets",
    "captum_noisemask.certificate",
    "captum_noisemask.labelled",
}
REEXPORTED |= {"captum_noisemask.dataset_runs.runner", "captum_noisemask.report.maps_file"}
# The metrics are documented through captum_noisemask.evaluation, which re-exports them.
REEXPORTED |= {
    f"captum_noisemask.evaluation.{name}"
    for name in (
        "cost",
        "localisation",
        "noise_deletion",
        "pixel_flipping",
        "randomisation",
        "robustness",
        "roar",
    )
}


def _public_modules() -> list[str]:
    found = pkgutil.walk_packages(captum_noisemask.__path__, prefix="captum_noisemask.")
    names = [m.name for m in found]
    return [n for n in names if not any(part.startswith("_") for part in n.split("."))]


def test_every_public_module_is_in_the_api_page() -> None:
    missing = [m for m in _public_modules() if m not in SCRIPTS | REEXPORTED | {*_in(API_PAGE)}]
    assert not missing, f"modules missing from docs/api.rst: {missing}"


def _in(page: str) -> list[str]:
    return [m for m in _public_modules() if f"automodule:: {m}\n" in page]


def test_every_public_object_has_a_docstring() -> None:
    undocumented = []
    for name in _public_modules():
        if name == "captum_noisemask.__main__":
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
                undocumented.append(f"{name}.{attr}")
    assert not undocumented, f"public objects without a docstring: {undocumented}"

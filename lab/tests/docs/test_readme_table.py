"""The README's comparison table is the committed results, generated, not typed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _update_readme_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "benchmarks" / "update_readme.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_is_generated_from_the_committed_results() -> None:
    module = _update_readme_module()
    readme = (ROOT / "README.md").read_text()
    results = json.loads(module.RESULTS.read_text())
    assert module.updated_readme(readme, results) == readme, (
        "README.md's comparison table differs from benchmarks/results/compare/results.json; "
        "run python benchmarks/update_readme.py"
    )


def test_the_table_has_every_pixel_flipping_column() -> None:
    from captum_noisemask_lab.benchmarks.compare_tables import readme_table

    results = json.loads(_update_readme_module().RESULTS.read_text())
    header = readme_table(results).splitlines()[0]
    for column in ("MoRF ↓ zero", "MoRF ↓ noise", "LeRF ↑ zero", "LeRF ↑ noise"):
        assert column in header

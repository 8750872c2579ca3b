"""Rewrite README.md's comparison table from the committed comparison results.

    python benchmarks/update_readme.py

Reads ``benchmarks/results/compare/results.json`` (written by
``noisemask-lab compare --roar --out benchmarks/results/compare``) and replaces the lines
between the README's table markers; ``lab/tests/docs/test_readme_table.py`` fails when they differ.
"""

from __future__ import annotations

import json
from pathlib import Path

from captum_noisemask_lab.benchmarks.compare_tables import README_MARKERS, readme_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "compare" / "results.json"


def updated_readme(readme: str, results: dict) -> str:
    """``readme`` with the text between the markers replaced by the table of ``results``."""
    start, end = README_MARKERS
    before, rest = readme.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{readme_table(results)}\n{end}{after}"


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(updated_readme(readme.read_text(), json.loads(RESULTS.read_text())))
    print(f"updated the comparison table of {readme} from {RESULTS}")

"""Regenerates the documentation's figures; ``docs/conf.py`` runs it at every build.

    python docs/generate_figures.py

- ``docs/_generated/reproduce/``: ``figure6.png`` and ``comparison.png`` from the main job
  (``captum-noisemask reproduce``, fast preset, 8 held-out digits; about 20 s on 2 CPU cores the
  first time, skipped while the files exist);
- ``docs/_generated/evaluation/``: ``curves.png`` and ``randomisation.png`` drawn from the
  committed benchmark result ``benchmarks/results/compare/results.json`` (instant).

Nothing here is committed: ``docs/_generated/`` is git-ignored.
"""

from __future__ import annotations

import json
from pathlib import Path

DOCS = Path(__file__).resolve().parent
RESULTS = DOCS.parent / "benchmarks" / "results" / "compare" / "results.json"


def generate(docs: Path = DOCS) -> None:
    """Writes every figure the pages include."""
    from captum_noisemask.compare import CURVES
    from captum_noisemask.plotting import plot_curves, plot_randomisation
    from captum_noisemask.reproduce import ReproduceConfig, reproduce

    reproduced = docs / "_generated" / "reproduce"
    if not (reproduced / "figure6.png").exists() or not (reproduced / "comparison.png").exists():
        reproduce(ReproduceConfig(out=reproduced, show_progress=False), log=False)
    evaluation = docs / "_generated" / "evaluation"
    evaluation.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text())
    plot_curves(results["curves"], CURVES, evaluation / "curves.png")
    plot_randomisation(results["randomisation"], evaluation / "randomisation.png")


if __name__ == "__main__":
    generate()

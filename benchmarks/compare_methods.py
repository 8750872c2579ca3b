"""Evaluation benchmark: NoiseMask vs Captum's methods on held-out MNIST digits.

    python benchmarks/compare_methods.py                  # default: 200 digits, ~10 min on 2 cores
    python benchmarks/compare_methods.py --quick          # smoke test
    python benchmarks/compare_methods.py --roar           # also ROAR (retrains per method)

Same as ``captum-noisemask compare --out benchmarks/results/compare``; the
committed tables in docs/evaluation.rst come from that default run.
"""

from __future__ import annotations

import sys

from captum_noisemask.cli import main

if __name__ == "__main__":
    arguments = sys.argv[1:]
    if "--out" not in arguments:
        arguments += ["--out", "benchmarks/results/compare"]
    sys.exit(main(["compare", *arguments]))

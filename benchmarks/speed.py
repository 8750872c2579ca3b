"""Speed benchmark (issue: fast preset at <= 1/1000 of the paper preset's cost).

    python benchmarks/speed.py                      # CPU, all sections, ~3 minutes on 2 cores
    python benchmarks/speed.py --paper-batch 64 --device cuda --sections paper-batch

Same as ``captum-noisemask bench-speed``; the code is ``captum_noisemask/benchmark/speed.py``
and the numbers in docs/performance.rst come from it (results in ``benchmarks/results/``).
"""

from __future__ import annotations

import sys

from captum_noisemask.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench-speed", *sys.argv[1:]]))

"""The map's own question, asked of every method of ``compare``: noise deletion.

    python benchmarks/noise_deletion.py --task mnist --images 100
    python benchmarks/noise_deletion.py --task fashion-resnet --images 16

Each method of :func:`~captum_noisemask.evaluation.methods.standard_methods` (NoiseMask, its
graded map, Saliency, SmoothGrad, Deep Taylor, DeepLift, Integrated Gradients, Occlusion and a
random map) explains the first held-out images, target = the label; then
:func:`~captum_noisemask.evaluation.noise_deletion_curve` puts full noise on the positions each
map ranks least relevant, 5% more at each of 20 steps, 100 draws each, on the plain model, and
counts the draws whose label output stays within 0.4 x the image's full-noise response and whose
decision is kept. Writes ``benchmarks/results/noise_deletion/<task>.json`` and ``.csv`` (area and
certified fraction, mean ± 95% CI).
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import torch
from bn_picture import TASKS, prepare_task  # the same tasks (benchmarks/ is on the path)

from captum_noisemask.evaluation import format_summary, noise_deletion_curve, summarise
from captum_noisemask.evaluation.methods import noisemask_methods, running_methods, standard_methods

OUT = Path(__file__).resolve().parent / "results" / "noise_deletion"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="mnist")
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--only", nargs="*", default=None, help="these methods; merge the rest")
    args = parser.parse_args()
    setup = prepare_task(args.task)
    model = setup.trained.model
    images, labels = setup.test_set.images[: args.images], setup.test_set.labels[: args.images]
    rows: dict[str, dict] = {}
    with running_methods(constant_maps_expected=True):
        methods = standard_methods(model, include_random=True, include_graded=True)
        # The same map learnt on the plain model: is the gap the mask units'?
        methods[2:2] = noisemask_methods(["NoiseMask (no mask units)"], model, **methods[0].kwargs)
        for method in methods:
            if args.only and method.name not in args.only:
                continue
            torch.manual_seed(0)
            started = time.perf_counter()
            maps = method.explain(images, labels, 16)
            curve = noise_deletion_curve(model, images, maps, labels, seed=0)
            rows[method.name] = {
                "noise_deletion": summarise(curve.area()),
                "certified_fraction": summarise(curve.certified_fraction()),
                "curve": curve.kept.mean(0).tolist(),
                "seconds": time.perf_counter() - started,
            }
            print(
                f"{method.name:24s} area {format_summary(rows[method.name]['noise_deletion'])}"
                f"  certified {format_summary(rows[method.name]['certified_fraction'])}",
                flush=True,
            )
    OUT.mkdir(parents=True, exist_ok=True)
    about = {
        "task": args.task,
        "images": args.images,
        "accuracy": setup.trained.accuracy,
        "machine": "2-core AMD EPYC, torch " + torch.__version__,
        "command": f"python benchmarks/noise_deletion.py --task {args.task} --images {args.images}",
    }
    path = OUT / f"{args.task}.json"
    if args.only and path.exists():
        rows = {**json.loads(path.read_text()), **rows}
        rows.pop("_about", None)
    path.write_text(json.dumps({"_about": about, **rows}, indent=2) + "\n")
    with (OUT / f"{args.task}.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["method", "noise deletion ↑", "certified fraction ↑"])
        for name, row in rows.items():
            if name.startswith("_"):
                continue
            writer.writerow(
                [
                    name,
                    format_summary(row["noise_deletion"]),
                    format_summary(row["certified_fraction"]),
                ]
            )


if __name__ == "__main__":
    main()

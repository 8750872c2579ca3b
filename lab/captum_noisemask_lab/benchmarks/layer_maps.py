"""Layer maps on trained image networks, upsampled to the input with Captum's interpolate.

    noisemask-lab bench-layer-maps --task mnist --images 16
    noisemask-lab bench-layer-maps --task fashion-resnet --images 16

Explains the first ``--images`` held-out images (``target`` = the label, the fast preset,
the default problem) at the input and through each of the task's layers
(:data:`LAYERS`), upsamples every layer map with ``LayerAttribution.interpolate``
(bilinear) and prints, per row, the far background's non-contributing share, the object's
contributing share and seconds per image; writes ``<task>.json`` to
``benchmarks/results/layer_maps`` (``--out``), the first six images and their upsampled
maps to ``<task>_maps.npz`` (committed: the docs redraw the figure from it) and the figure
to ``<task>.png`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import time

from captum.attr import LayerAttribution

from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command
from captum_noisemask.layer import LayerNoiseMaskAttribution

from ..figures.maps import draw_layer_maps, save_layer_maps
from .trained_models import add_model_options, held_out, object_regions, write_rows

__all__ = ["COMMAND", "LAYERS"]

#: Per task, the layers explained (dotted names of ``named_modules()``).
LAYERS: dict[str, tuple[str, ...]] = {
    "mnist": ("conv1", "conv2"),
    "fashion-resnet": ("conv1", "layer1", "layer2"),
    "fashion-mobilenet": ("stem", "blocks.0", "blocks.1"),
}


def _options(command: argparse.ArgumentParser) -> None:
    add_model_options(command, "mnist", 16, "benchmarks/results/layer_maps")


def _run(args: argparse.Namespace) -> None:
    setup, images, labels = held_out(args)
    model = setup.trained.model
    modules = dict(model.named_modules())
    strokes, far = object_regions(images)
    rows, pictures = {}, {}
    for name in ("input", *LAYERS[args.task]):
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        if name == "input":
            w = 1 - NoiseMaskAttribution(model).attribute(images, target=labels, seed=0)
        else:
            explainer = LayerNoiseMaskAttribution(model, modules[name])
            maps = explainer.attribute(images, target=labels, seed=0, highlight="non_contributing")
            w = LayerAttribution.interpolate(maps[:, :1], images.shape[-2:], "bilinear")
        seconds = (time.perf_counter() - start) / len(images)
        rows[name] = {
            "map_shape": list(w.shape[1:]) if name == "input" else list(maps.shape[1:]),
            "far_background_non_contributing": float((w[far] > 0.5).double().mean()),
            "object_contributing": float((w[strokes] <= 0.5).double().mean()),
            "seconds_per_image": seconds,
        }
        pictures[name] = w[:6, :1]
        print(f"{name:10s}", json.dumps(rows[name]), flush=True)
    write_rows(args, "bench-layer-maps", setup, rows)
    saved = args.out / f"{args.task}_maps.npz"
    save_layer_maps(saved, images[:6], pictures)
    draw_layer_maps(saved, args.out / f"{args.task}.png")


COMMAND = Command(
    "bench-layer-maps",
    "layer maps on trained image networks, upsampled with Captum's interpolate: far "
    "background and object shares against the input map",
    _options,
    _run,
)

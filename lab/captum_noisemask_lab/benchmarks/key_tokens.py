"""Layer maps on text: does the key token rank first? NoiseMask against Captum's Layer methods.

    noisemask-lab bench-key-tokens --sequences 200

Trains the key-token task's text CNN (:mod:`~captum_noisemask_lab.tasks.key_tokens`, a few
seconds), explains ``--sequences`` held-out sequences through the embedding layer with
``target`` = the label, scores each token by its attribution summed over the embedding
dimensions (NoiseMask: its per-token level), and prints, per method, the share of sequences
whose key token scores above every other real token (a tie is not a first place) and seconds
per sequence; writes
``results.json`` to ``benchmarks/results/key_tokens`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch
from captum.attr import (
    LayerFeatureAblation,
    LayerGradientXActivation,
    LayerIntegratedGradients,
)
from torch import Tensor

from captum_noisemask._utils.machine import machine_description
from captum_noisemask.cli.command import Command
from captum_noisemask.core.problem import NoiseMaskProblem
from captum_noisemask.layer import LayerNoiseMaskAttribution

from ..tasks.key_tokens import PAD, TextCNN, key_token_set, train_text_cnn

__all__ = ["COMMAND", "METHODS"]

Scorer = Callable[[TextCNN, Tensor, Tensor, Tensor], Tensor]


def _noisemask(problem: NoiseMaskProblem) -> Scorer:
    def score(model: TextCNN, ids: Tensor, mask: Tensor, labels: Tensor) -> Tensor:
        explainer = LayerNoiseMaskAttribution(model, model.embedding, problem=problem)
        maps = explainer.attribute(ids, target=labels, additional_forward_args=(mask,), seed=0)
        return maps[..., 0]

    return score


def _integrated_gradients(model: TextCNN, ids: Tensor, mask: Tensor, labels: Tensor) -> Tensor:
    explainer = LayerIntegratedGradients(model, model.embedding)
    baseline = torch.full_like(ids, PAD)
    attributions = explainer.attribute(
        ids, baselines=baseline, target=labels, additional_forward_args=(mask,), n_steps=50
    )
    return attributions.sum(-1)


def _gradient_x_activation(model: TextCNN, ids: Tensor, mask: Tensor, labels: Tensor) -> Tensor:
    explainer = LayerGradientXActivation(model, model.embedding)
    return explainer.attribute(ids, target=labels, additional_forward_args=(mask,)).sum(-1)


def _ablation(model: TextCNN, ids: Tensor, mask: Tensor, labels: Tensor) -> Tensor:
    """Each token's embedding set to 0 in turn (Captum's layer ablation, one group per token)."""
    explainer = LayerFeatureAblation(model, model.embedding)
    groups = torch.arange(ids.shape[1]).view(1, -1, 1)
    attributions = explainer.attribute(
        ids, target=labels, additional_forward_args=(mask,), layer_mask=groups
    )
    return attributions.sum(-1)


#: Method name -> its per-token scores (larger: matters more).
METHODS: dict[str, Scorer] = {
    "NoiseMask (default problem)": _noisemask(NoiseMaskProblem()),
    "NoiseMask (capped rule)": _noisemask(NoiseMaskProblem(mask_rule="capped")),
    "LayerIntegratedGradients (pad baseline)": _integrated_gradients,
    "LayerGradientXActivation": _gradient_x_activation,
    "LayerFeatureAblation (per token)": _ablation,
}


def _key_strictly_first(scores: Tensor, mask: Tensor, key_position: Tensor) -> float:
    """Share of sequences whose key token scores above every other real token (a tie with
    a distractor is not a first place)."""
    rows = torch.arange(len(scores))
    key = scores[rows, key_position]
    others = scores.masked_fill(mask == 0, float("-inf"))
    others[rows, key_position] = float("-inf")
    return float((key > others.amax(1)).float().mean())


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--sequences", type=int, default=200, help="held-out sequences")
    command.add_argument("--train", type=int, default=4000, help="training sequences")
    command.add_argument(
        "--out", type=Path, default=Path("benchmarks/results/key_tokens"), help="output directory"
    )


def _run(args: argparse.Namespace) -> None:
    train, test = key_token_set(args.train, seed=0), key_token_set(args.sequences, seed=1)
    model = train_text_cnn(train)
    with torch.no_grad():
        accuracy = float(
            (model(test.ids, test.attention_mask).argmax(1) == test.labels).float().mean()
        )
    print(f"text CNN held-out accuracy {accuracy:.3f}", flush=True)
    rows = {}
    for name, score in METHODS.items():
        start = time.perf_counter()
        scores = score(model, test.ids, test.attention_mask, test.labels).detach()
        seconds = (time.perf_counter() - start) / args.sequences
        first = _key_strictly_first(scores, test.attention_mask, test.key_position)
        rows[name] = {"key_token_first": first, "seconds_per_sequence": seconds}
        print(
            f"{name:42s} key token first {first:.3f}  {seconds * 1000:.1f} ms/sequence", flush=True
        )
    args.out.mkdir(parents=True, exist_ok=True)
    about = {
        "sequences": args.sequences,
        "training_sequences": args.train,
        "accuracy": accuracy,
        "machine": machine_description(),
        "command": (
            f"noisemask-lab bench-key-tokens --sequences {args.sequences} --train {args.train}"
        ),
    }
    (args.out / "results.json").write_text(json.dumps({**rows, "_about": about}, indent=2) + "\n")


COMMAND = Command(
    "bench-key-tokens",
    "layer maps on text: how often the key token ranks first, NoiseMask against Captum's "
    "Layer methods (a text CNN trained in seconds)",
    _options,
    _run,
)

"""The evaluation benchmark: NoiseMask against Captum's methods, measured the same way.

``noisemask-lab compare --out DIR`` runs every metric of
:mod:`captum_noisemask_lab.metrics` for every method of
:func:`~captum_noisemask_lab.methods.standard_methods` plus a random map, on
the same model and held-out digits, and writes ``results.md`` (mean and 95%
confidence interval per metric), ``results.json``, ``curves.png``,
``randomisation.png`` and ``maps.npz`` (every method's maps of the first
:data:`SHOWN_IMAGES` images, which ``captum-noisemask report`` draws side by side).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from captum_noisemask._utils.machine import machine_description
from captum_noisemask.attribution import NoiseMaskAttribution
from captum_noisemask.cli.command import Command
from captum_noisemask.cli.report import add_report_option, write_report_of
from captum_noisemask.evaluation import (
    cascading_randomisation,
    measure_cost,
    model_of,
    roar,
    roc_auc_per_example,
)
from captum_noisemask.evaluation.summary import summarise
from captum_noisemask.labelled import LabelledImages
from captum_noisemask.presets import Preset
from captum_noisemask.report import save_maps

from .. import metrics
from ..command import add_task_options, check_task_options, task_of, training_of
from ..figures.curves import plot_curves, plot_randomisation
from ..methods import Method, RandomAttribution, running_methods, standard_methods
from ..metrics import MetricInputs, pixel_flipping
from ..tasks import TASKS, PreparedTask, Task, prepare
from ..tasks.distractors import paste_distractors
from ..tasks.training import TrainingConfig, load_or_train, train_and_test
from .compare_tables import write_tables
from .paper_maps import load_paper_maps

__all__ = ["COMMAND", "CompareConfig", "compare"]

#: Images whose maps ``maps.npz`` keeps for every method (the report shows them side by side).
SHOWN_IMAGES = 16

# Insertion is not listed: under the same removal operator its curve is the LeRF
# curve mirrored (restoring the top f keeps what LeRF keeps at 1 - f), so its
# area is identical; tests/evaluation/test_evaluation.py checks the identity.


@dataclass
class CompareConfig:
    """Sizes and seeds of :func:`compare` (the ``compare`` subcommand's options).

    Args:
        out (Path): Output directory.
        n_images (int, optional): Held-out images for the pixel-flipping,
                    infidelity and cost metrics. Default: 200
        chunk_size (int, optional): Digits per ``attribute`` call, for every
                    method alike. Default: 16
        n_sensitivity (int, optional): Digits for max-sensitivity (it re-runs
                    each method ``sensitivity_samples`` times). Default: 32
        sensitivity_samples (int, optional): Perturbations per digit. Default: 5
        n_randomisation (int, optional): Digits for the randomisation check. Default: 50
        n_localisation (int, optional): Digits of the distractor task. Default: 200
        curve_steps (int, optional): Points of each pixel-flipping curve after 0. Default: 20
        preset (str or Preset, optional): NoiseMask preset. Default: ``"fast"``
        seed (int, optional): Seeds every random choice. Default: 0
        task (Task, optional): The task whose held-out images are explained.
                    Default: ``TASKS["mnist"]``
        data_dir (Path, optional): MNIST-layout IDX directory; default the task's own data.
        training (TrainingConfig, optional): Training of both classifiers.
                    Default: the task's
        roar (bool, optional): Also run ROAR (retrains per method and fraction). Default: False
        roar_train (int, optional): Training digits ROAR explains and retrains on. Default: 1000
        show_progress (bool, optional): Progress bars. Default: True
        cache (Path, optional): Weight cache directory.
        paper_maps (Path, optional): Paper-preset maps to score next to the fast
                    preset (``benchmarks/reference/paper_maps.npz``: 8 digits,
                    all outputs held, made by ``noisemask-lab make-paper-maps``);
                    used only if they were made with the same model.
    """

    out: Path
    n_images: int = 200
    chunk_size: int = 16
    n_sensitivity: int = 32
    sensitivity_samples: int = 5
    n_randomisation: int = 50
    n_localisation: int = 200
    curve_steps: int = 20
    preset: str | Preset = "fast"
    seed: int = 0
    task: Task = TASKS["mnist"]
    data_dir: Path | None = None
    training: TrainingConfig | None = None
    roar: bool = False
    roar_train: int = 1000
    show_progress: bool = True
    cache: Path | None = None
    paper_maps: Path | None = None

    @property
    def trained_with(self) -> TrainingConfig:
        """The training config (the task's when none was given)."""
        return self.task.training if self.training is None else self.training

    def with_images(self, n: int) -> CompareConfig:
        """``n`` held-out images, and no more than ``n`` for every other metric either.

        Examples::

            >>> from pathlib import Path
            >>> config = CompareConfig(Path("out")).with_images(40)
            >>> config.n_images, config.n_sensitivity, config.n_randomisation
            (40, 32, 40)
        """
        return replace(
            self,
            n_images=n,
            n_sensitivity=min(self.n_sensitivity, n),
            n_randomisation=min(self.n_randomisation, n),
            n_localisation=min(self.n_localisation, n),
        )

    def quick(self) -> CompareConfig:
        """A smoke test: tiny sizes and NoiseMask's coarse preset (under a minute on 2 cores)."""
        return replace(
            self,
            preset="coarse",
            n_images=12,
            n_sensitivity=3,
            sensitivity_samples=2,
            n_randomisation=3,
            n_localisation=12,
            curve_steps=5,
            roar_train=200,
        )


def compare(config: CompareConfig, log: bool = True) -> dict[str, Any]:
    """Runs the benchmark and writes its files to ``config.out``.

    Returns:
        *dict*: what ``results.json`` holds.
    """
    say: Callable[..., None] = functools.partial(print, flush=True) if log else (lambda *a: None)
    started = time.perf_counter()
    setup = prepare(
        config.task, config.data_dir, config.trained_with, config.show_progress, config.cache, say
    )
    model = setup.trained.model
    say(f"model: held-out accuracy {setup.trained.accuracy:.2%}")
    digits = setup.test_set.subset(slice(0, config.n_images))
    methods = _methods(model, config)
    results: dict[str, Any] = {
        "config": _config_record(config),
        "machine": machine_description(),
        "data": setup.source,
        "model": f"{config.trained_with.architecture} ({type(model).__name__})",
        "held_out_accuracy": setup.trained.accuracy,
        "metrics": {},
        "curves": {},
        "randomisation": {},
    }
    shown: dict[str, Tensor] = {}
    # NoiseTunnel (SmoothGrad) draws from torch's global generator: each method starts from
    # the same seeded state, and the caller's generator state is restored afterwards.
    # Constant maps are scored like any other (a randomised model gives them by design).
    with running_methods(constant_maps_expected=True):
        for method in methods:
            say(f"[{time.perf_counter() - started:6.0f} s] {method.name}")
            torch.manual_seed(config.seed)
            scores, curves, randomisation, maps = _evaluate(method, model, digits, config)
            shown[method.name] = maps[:SHOWN_IMAGES]
            results["metrics"][method.name] = scores
            results["curves"][method.name] = curves
            results["randomisation"].update(randomisation)
        localisation = _localisation(setup.train_set, setup.test_set, config, say)
        results["localisation_task"] = localisation.pop("task")
        for name, score in localisation.items():
            results["metrics"][name]["localisation_auroc"] = score
        if config.paper_maps is not None:
            results["paper_preset"] = _paper_preset(setup, config.paper_maps, config, say)
        if config.roar:
            say(f"[{time.perf_counter() - started:6.0f} s] ROAR")
            torch.manual_seed(config.seed)
            results["roar"] = roar(
                {
                    m.name: functools.partial(m.explain, chunk_size=config.chunk_size)
                    for m in methods
                },
                setup.train_set.subset(slice(0, config.roar_train)),
                digits,
                functools.partial(train_and_test, config=config.trained_with),
                config.seed,
            )
    results["seconds"] = time.perf_counter() - started
    _write(results, config.out)
    labels = digits.labels[:SHOWN_IMAGES].tolist()
    save_maps(
        config.out / "maps.npz",
        digits.images[:SHOWN_IMAGES],
        [config.task.class_names[label] for label in labels],
        shown,
        {method.name: method.sign for method in methods},
    )
    say(f"wrote results.md, results.json, curves.png, randomisation.png, maps.npz to {config.out}")
    return results


def _methods(model: nn.Module, config: CompareConfig) -> list[Method]:
    return standard_methods(
        model, config.preset, config.seed, include_random=True, include_graded=True
    )


def _evaluate(
    method: Method, model: nn.Module, digits: LabelledImages, config: CompareConfig
) -> tuple[dict[str, Any], dict[str, list[float]], dict[str, dict[str, Any]], Tensor]:
    images, labels = digits.images, digits.labels

    def explain() -> Tensor:
        return method.explain(images, labels, config.chunk_size)

    maps, cost = measure_cost(explain, model_of(method.attribution), len(digits))
    scores: dict[str, Any] = {
        "seconds_per_image": cost.seconds_per_image,
        "evaluations_per_map": cost.evaluations_per_map,
        "peak_memory_mib": cost.peak_memory_mib,
    }
    curves: dict[str, list[float]] = {}
    inputs = MetricInputs(method, model, images, labels, maps, config)
    for metric in metrics.METRICS:
        result = metric.score(inputs)
        scores.update({key: summarise(values) for key, values in result.per_image.items()})
        curves.update(result.curves)
    sample = slice(0, config.n_randomisation)
    signed, magnitude = _randomisation(method, model, images[sample], labels[sample], config, True)
    scores["randomisation_abs_spearman"] = list(magnitude.values())[-1]
    scores["randomisation_spearman_signed"] = list(signed.values())[-1]
    rows = {method.name: magnitude}
    if method.name == "NoiseMask":
        rows["NoiseMask (fixed tolerance)"] = _randomisation(
            method, model, images[sample], labels[sample], config, False
        )[1]
    return scores, curves, rows, maps


#: The "NoiseMask (fixed tolerance)" row's tolerance, in logits: the paper's.
FIXED_TOLERANCE = 1.0


def _randomisation(
    method: Method,
    trained: nn.Module,
    images: Tensor,
    labels: Tensor,
    config: CompareConfig,
    scale_tolerance: bool,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Spearman summaries per cascading stage: (signed maps, magnitudes).

    A tolerance in logit units is never exceeded by a re-initialised model,
    whose logits are far smaller, so the map turns constant (every pixel
    non-contributing) whatever the layers compute. A response tolerance (the
    default problem's) follows each model's own response to full noise by
    construction. For a problem with a tolerance in logits,
    ``scale_tolerance`` scales it by the ratio of the logits' spread; without
    it the row holds :data:`FIXED_TOLERANCE` logits ("NoiseMask (fixed tolerance)").
    """
    with torch.no_grad():
        trained_spread = trained(images).std()

    def explain(model: nn.Module, x: Tensor, t: Tensor) -> Tensor:
        same = _same_method(model, method, config)
        if isinstance(same.attribution, NoiseMaskAttribution):
            problem = same.attribution.problem
            if not scale_tolerance:
                problem = problem.replace(tolerance=FIXED_TOLERANCE, unit="output")
            elif problem.unit == "output":
                with torch.no_grad():
                    ratio = float(model(x).std() / trained_spread)
                problem = problem.replace(tolerance=problem.tolerance * ratio)
            same = dataclasses.replace(same, attribution=NoiseMaskAttribution(model, problem))
        return same.explain(x, t, config.chunk_size)

    result = cascading_randomisation(trained, explain, images, labels, seed=config.seed)

    def per_stage(scores: Tensor) -> dict[str, dict[str, float]]:
        return {stage: summarise(row) for stage, row in zip(result.stages, scores, strict=True)}

    # |rho| of the magnitudes is the headline: an anti-correlated map has not become independent.
    return per_stage(result.spearman), per_stage(result.spearman_abs.abs())


def _paper_preset(
    setup: PreparedTask, paper_maps: Path, config: CompareConfig, say: Callable[..., None]
) -> dict[str, Any]:
    """Pixel flipping of the committed paper-preset maps against the fast preset, same digits.

    The paper's objective holds all outputs (``target=None``), so both presets
    are scored that way here; the curves still follow each digit's label.
    """
    try:
        reference = load_paper_maps(paper_maps, setup)
    except ValueError as refusal:
        say(f"{refusal}; skipped")
        return {"skipped": "the maps were made with another model"}
    index = torch.from_numpy(reference["test_indices"])
    digits = setup.test_set.subset(index)
    paper = 1.0 - torch.from_numpy(reference["maps"]).unsqueeze(1)  # contributing = 1 - w
    fast = NoiseMaskAttribution(setup.trained.model).attribute(digits.images, seed=config.seed)
    rows: dict[str, Any] = {}
    for name, maps in (("NoiseMask, fast preset", fast), ("NoiseMask, paper preset", paper)):
        rows[name] = {
            key: summarise(
                pixel_flipping.curve(
                    setup.trained.model,
                    digits.images,
                    maps,
                    digits.labels,
                    kind,
                    removal,
                    config.curve_steps,
                    config.seed,
                ).area()
            )
            for key, kind, removal, _ in pixel_flipping.CURVES
        }
    return {"digits": index.tolist(), "source": str(paper_maps), "metrics": rows}


def _same_method(model: nn.Module, method: Method, config: CompareConfig) -> Method:
    """The method called ``method.name``, built for another model.

    The random baseline ignores the model: it keeps its own generator, so each
    stage draws a fresh map, as a map unrelated to the model would.
    """
    if isinstance(method.attribution, RandomAttribution):
        return method
    return next(m for m in _methods(model, config) if m.name == method.name)


def _localisation(
    train_set: LabelledImages,
    test_set: LabelledImages,
    config: CompareConfig,
    say: Callable[..., None],
) -> dict[str, Any]:
    """AUROC of used vs ignored stroke pixels on the distractor task, per method."""
    task_train = paste_distractors(train_set, train_set, seed=config.seed)
    trained = load_or_train(
        task_train.digits,
        paste_distractors(test_set, test_set, seed=config.seed).digits,
        config.trained_with,
        config.show_progress,
        config.cache,
    )
    model = trained.model
    task = paste_distractors(
        test_set.subset(slice(0, config.n_localisation)), test_set, seed=config.seed + 1
    )
    redrawn = paste_distractors(
        test_set.subset(slice(0, config.n_localisation)), test_set, seed=config.seed + 2
    )
    with torch.no_grad():
        unchanged = (
            model(task.digits.images).argmax(1) == model(redrawn.digits.images).argmax(1)
        ).float()
    say(
        f"distractor task: accuracy {trained.accuracy:.2%}; prediction unchanged when the "
        f"distractor is redrawn: {float(unchanged.mean()):.1%}"
    )
    scores: dict[str, Any] = {
        "task": {
            "accuracy": trained.accuracy,
            "prediction_unchanged_when_distractor_redrawn": float(unchanged.mean()),
        }
    }
    for method in _methods(model, config):
        torch.manual_seed(config.seed)
        maps = method.explain(task.digits.images, task.digits.labels, config.chunk_size)
        scores[method.name] = summarise(
            roc_auc_per_example(maps.sum(1), task.used[:, 0], task.ignored[:, 0])
        )
    return scores


def _config_record(config: CompareConfig) -> dict[str, Any]:
    """The config as ``results.json`` keeps it: the task by name."""
    record = {k: v for k, v in asdict(config).items() if k != "task"}
    record["training"] = asdict(config.trained_with)
    return _jsonable({**record, "task": config.task.name})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, Path):
        return str(value)
    return value


def _write(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2))
    write_tables(results, out)
    plot_curves(results["curves"], pixel_flipping.CURVES, out / "curves.png")
    plot_randomisation(results["randomisation"], out / "randomisation.png")


def _options(command: argparse.ArgumentParser) -> None:
    add_task_options(
        command,
        images=200,
        images_help="held-out images to evaluate (also the most any metric uses: "
        "max-sensitivity takes 32, randomisation 50, localisation 200)",
    )
    command.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and NoiseMask's coarse preset, overriding --images and --preset "
        "(a smoke test, under a minute)",
    )
    command.add_argument(
        "--roar", action="store_true", help="also run ROAR (retrains the CNN per method)"
    )
    add_report_option(command)
    command.add_argument(
        "--paper-maps",
        type=Path,
        help="paper-preset maps to score beside the fast preset "
        "(default: the task's: for MNIST, the checkout's benchmarks/reference/paper_maps.npz)",
    )


def _run(args: argparse.Namespace) -> None:
    task, training = task_of(args), training_of(args)
    paper_maps = args.paper_maps
    # The task's committed maps were made with its default classifier on its own data.
    own_model = args.data_dir is None and training == task.training
    if paper_maps is None and own_model and task.paper_maps and task.paper_maps.exists():
        paper_maps = task.paper_maps
    config = CompareConfig(
        out=args.out,
        task=task,
        training=training,
        preset=args.preset,
        seed=args.seed,
        data_dir=args.data_dir,
        roar=args.roar,
        paper_maps=paper_maps,
        show_progress=not args.no_progress,
    )
    compare(config.quick() if args.quick else config.with_images(args.images))
    if args.report:
        write_report_of(args.out)


COMMAND = Command(
    "compare",
    "measure NoiseMask and Captum's methods with the same metrics; write results.md/.json "
    "and curve plots",
    _options,
    _run,
    check_task_options,
)

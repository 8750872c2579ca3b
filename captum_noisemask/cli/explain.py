"""``explain-dataset``: explain every example of your own model's array, resumably.

    captum-noisemask explain-dataset --model usermodel:build --weights w.pt \\
        --inputs x.npy --labels y.npy --out run --report

The options every dataset run shares (``--out``, ``--preset``, ``--problem``, ``--target``,
``--batch-size``, ``--certify``, ``--seed``, ``--report``, ...) are added by
:func:`add_run_options` and run by :func:`run_dataset`, which the lab's ``explain-dataset``
(a lab task's dataset) uses too.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from torch import nn

from ..core.problem import NoiseMaskProblem
from ..labelled import LabelledImages
from ..presets import PRESETS
from .command import Command, check_out
from .report import add_report_option, write_report_of

__all__ = [
    "EXPLAIN_DATASET",
    "add_preset_option",
    "add_run_options",
    "check_run_options",
    "problem_of",
    "run_dataset",
]

#: Named problems of ``--problem``; a JSON file of ``NoiseMaskProblem.to_dict()`` is the rest.
NAMED_PROBLEMS: dict[str, Callable[[], NoiseMaskProblem]] = {
    "default": NoiseMaskProblem,
    "paper": NoiseMaskProblem.paper,
}


def add_run_options(command: argparse.ArgumentParser) -> None:
    """The options of every dataset run: where, which schedule and problem, what to explain."""
    command.add_argument("--out", type=Path, required=True, help="output directory")
    add_preset_option(command)
    command.add_argument(
        "--problem",
        default=None,
        metavar="PROBLEM",
        help="what the maps answer for: 'default' (NoiseMaskProblem()), 'paper' "
        "(NoiseMaskProblem.paper()) or a JSON file of NoiseMaskProblem.to_dict() (default: "
        "the preset's own, 'paper' for the paper and faithful presets)",
    )
    command.add_argument("--images", type=int, help="only the first N examples (default: all)")
    command.add_argument("--batch-size", type=int, default=64, help="examples per chunk")
    command.add_argument(
        "--target", choices=["predicted", "label"], default="predicted", help="class to explain"
    )
    command.add_argument(
        "--certify",
        type=int,
        default=0,
        metavar="DRAWS",
        help="measure each map's certificate on up to DRAWS fresh draws (e.g. 1000) and keep "
        "its lower bounds; 0 skips it",
    )
    command.add_argument("--seed", type=int, default=0, help="noise seed (seeds every draw)")
    command.add_argument("--no-progress", action="store_true", help="hide progress bars")
    add_report_option(command)


def add_preset_option(command: argparse.ArgumentParser) -> None:
    """``--preset``: NoiseMask's schedule, with what each costs."""
    command.add_argument(
        "--preset",
        choices=sorted(set(PRESETS) - {"coarse"}),  # coarse is for feature_mask grids
        default="fast",
        help="NoiseMask's schedule. 'fast': 16 antithetic draws x 150 annealed Adam steps, the "
        "paper map's shape at 1/625 of its cost (0.4 s per MNIST digit on 2 CPU cores in a "
        "batch of 16, 1.5 s alone); 'faithful': the paper's run emulated in 400 steps of 128 "
        "draws, its maps at 1/29 of its cost; 'paper': N=100, 15,000 steps, lr 1e-4 (222 s "
        "per digit on 2 CPU cores)",
    )


def check_run_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rejects bad run options before anything slow starts (``parser.error`` exits with 2)."""
    for option in ("images", "batch_size"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    if args.certify < 0:
        parser.error("--certify must be 0 (no certificate) or a number of draws")
    try:
        args.problem = problem_of(args.problem, args.preset)
    except (OSError, ValueError, TypeError) as error:
        parser.error(f"--problem {args.problem}: {error}")
    check_out(parser, args)


def problem_of(choice: str | None, preset: str) -> NoiseMaskProblem:
    """The problem ``--problem`` names: ``None`` is the preset's paired problem."""
    from ..presets import paired_problem

    if choice is None:
        return paired_problem(preset)
    if choice in NAMED_PROBLEMS:
        return NAMED_PROBLEMS[choice]()
    path = Path(choice)
    if not path.is_file():
        raise ValueError(f"not one of {list(NAMED_PROBLEMS)} nor a JSON file")
    return NoiseMaskProblem.from_dict(json.loads(path.read_text()))


def run_dataset(
    args: argparse.Namespace,
    examples: LabelledImages,
    load_model: Callable[[int], nn.Module],
    class_names: list[str] | None = None,
) -> None:
    """Explains ``examples`` with the model ``load_model(rank)`` returns (one rank under torchrun).

    ``load_model`` is called once per process with its rank, so that rank 0 can train and
    cache a model before the others load it.
    """
    from ..attribution import NoiseMaskAttribution
    from ..dataset_runs.distributed import process_group, rank_and_world
    from ..dataset_runs.runner import attribute_dataset

    if args.images is not None:
        examples = examples.subset(slice(0, args.images))
    with process_group() as device:
        rank, world = rank_and_world()
        model: nn.Module = load_model(rank).to(device)
        summary = attribute_dataset(
            NoiseMaskAttribution(model, args.problem),
            examples,
            args.out,
            batch_size=args.batch_size,
            target=args.target,
            attribute_kwargs={"preset": args.preset, "seed": args.seed},
            show_progress=not args.no_progress,
            certify_draws=args.certify,
            class_names=class_names,
        )
    if rank == 0:
        resumed = "" if world == 1 else " of rank 0's"
        print(
            f"explained {summary.n_examples} examples in {summary.n_chunks} chunks on {world} "
            f"process(es) in {summary.seconds:.1f} s ({summary.resumed_chunks}{resumed} chunks "
            f"were already done); results in {summary.out} (read them with "
            "captum_noisemask.dataset_runs.runner.load_results)"
        )
        if args.report:
            write_report_of(args.out)


def _options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--model",
        required=True,
        metavar="MODULE:CALLABLE",
        help="your model: a function on PYTHONPATH, called with no arguments, returning the "
        "nn.Module (e.g. usermodel:build)",
    )
    command.add_argument(
        "--weights", type=Path, help="state_dict (.pt) of the model, loaded with weights_only=True"
    )
    command.add_argument(
        "--inputs", type=Path, required=True, help="a float .npy array of images (N, C, H, W)"
    )
    command.add_argument("--labels", type=Path, help="an int .npy array (N,) of labels")
    add_run_options(command)


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if ":" not in args.model:
        parser.error(f"--model {args.model!r}: expected MODULE:CALLABLE, e.g. usermodel:build")
    check_run_options(parser, args)


def _run(args: argparse.Namespace) -> None:
    from ..dataset_runs.user_inputs import load_user_examples, load_user_model

    examples = load_user_examples(args.inputs, args.labels)
    model = load_user_model(args.model, args.weights)  # errors before any process group
    run_dataset(args, examples, lambda rank: model)


EXPLAIN_DATASET = Command(
    "explain-dataset",
    "explain every example of your model's array (--model MODULE:CALLABLE --inputs x.npy); "
    "resumable; launch with torchrun for several processes or GPUs",
    _options,
    _run,
    _check,
)

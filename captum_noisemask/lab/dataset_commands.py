"""The commands that front the library's dataset runner and report: ``explain-dataset`` and
``report``."""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

from torch import nn

from ..labelled import LabelledImages
from .command import (
    Command,
    add_task_options,
    check_out,
    check_task_options,
    task_of,
    training_of,
)
from .tasks.classifiers import CLASSIFIERS

__all__ = ["EXPLAIN_DATASET", "REPORT", "explain_dataset", "write_report_of"]


def _explain_options(command: argparse.ArgumentParser) -> None:
    add_task_options(command, images=None, images_help="only the first N examples (default: all)")
    (model,) = (a for a in command._actions if a.dest == "model")
    model.choices = None  # a lab classifier's name, or MODULE:CALLABLE (checked in _check)
    model.help = (
        f"your own model, MODULE:CALLABLE (a function on PYTHONPATH returning the nn.Module; "
        f"explains --inputs), or a lab classifier to train on the --dataset: "
        f"{', '.join(CLASSIFIERS)} (default: the task's)"
    )
    command.add_argument(
        "--inputs",
        type=Path,
        help="with --model MODULE:CALLABLE: a float .npy array of images (N, C, H, W)",
    )
    command.add_argument(
        "--labels", type=Path, help="with --inputs: an int .npy array (N,) of labels"
    )
    command.add_argument("--split", choices=["train", "test"], default="test", help="which split")
    command.add_argument(
        "--weights",
        type=Path,
        help="state_dict (.pt) of the --model, loaded with weights_only=True; default for a lab "
        "classifier: the model `reproduce` trains and caches",
    )
    command.add_argument("--batch-size", type=int, default=64, help="examples per chunk")
    command.add_argument(
        "--target", choices=["predicted", "label"], default="predicted", help="class to explain"
    )
    command.add_argument(
        "--certify",
        type=int,
        default=0,
        metavar="DRAWS",
        help="measure each map's certificate on DRAWS fresh draws (e.g. 1000; about three "
        "forward passes per draw) and keep its lower bounds; 0 skips it",
    )
    report_option(command)


def report_option(parser: argparse.ArgumentParser) -> None:
    """``--report``: write the run's HTML report at the end."""
    parser.add_argument(
        "--report",
        action="store_true",
        help="also write OUT/report/index.html at the end (see the report subcommand)",
    )


def _check_explain(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.certify < 0:
        parser.error("--certify must be 0 (no certificate) or a number of draws")
    if _user_model(args):
        if args.inputs is None:
            parser.error(f"--model {args.model} is your own model: pass --inputs FILE.npy")
        check_out(parser, args)
        return
    if args.model is not None and args.model not in CLASSIFIERS:
        parser.error(
            f"--model {args.model!r}: not a lab classifier ({', '.join(CLASSIFIERS)}) nor "
            "MODULE:CALLABLE"
        )
    if args.inputs is not None or args.labels is not None:
        parser.error("--inputs and --labels go with --model MODULE:CALLABLE (your own model)")
    check_task_options(parser, args)


def _user_model(args: argparse.Namespace) -> bool:
    return args.model is not None and ":" in args.model


def explain_dataset(args: argparse.Namespace) -> None:
    """The ``explain-dataset`` subcommand (one rank of it under torchrun)."""
    from ..attribution import NoiseMaskAttribution
    from ..dataset_runs.distributed import process_group, rank_and_world
    from ..dataset_runs.runner import attribute_dataset
    from ..dataset_runs.user_inputs import load_user_examples, load_user_model
    from ..presets import paired_problem

    with process_group() as device:
        rank, world = rank_and_world()
        if _user_model(args):
            examples = load_user_examples(args.inputs, args.labels)
            examples = examples if args.images is None else examples.subset(slice(0, args.images))
            model = load_user_model(args.model, args.weights).to(device)
            class_names = None
        else:
            examples = _examples(args)
            model = _model(args, examples, rank).to(device)
            class_names = list(task_of(args).class_names)
        summary = attribute_dataset(
            NoiseMaskAttribution(model, paired_problem(args.preset)),
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


def _examples(args: argparse.Namespace) -> LabelledImages:
    train_set, test_set = task_of(args).load(args.data_dir)
    examples = test_set if args.split == "test" else train_set
    return examples if args.images is None else examples.subset(slice(0, args.images))


def _model(args: argparse.Namespace, examples: LabelledImages, rank: int) -> nn.Module:
    import torch

    from ..dataset_runs.distributed import barrier
    from .tasks import prepare
    from .tasks.classifiers import build_classifier

    training = training_of(args)
    if args.weights is None:
        if rank != 0:
            barrier()  # rank 0 trains and caches the model first; the others then load it
        model = prepare(task_of(args), args.data_dir, training, say=print).trained.model
        if rank == 0:
            barrier()
        return model
    height, width = examples.images.shape[-2:]
    model = build_classifier(training.architecture, (height, width), training.n_classes)
    try:
        state = torch.load(args.weights, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except FileNotFoundError:
        raise ValueError(f"--weights {args.weights}: no such file") from None
    except (RuntimeError, pickle.UnpicklingError, AttributeError) as error:
        # load_state_dict lists missing keys and size mismatches after a header line.
        details = " ".join(line.strip() for line in str(error).splitlines()[1:]) or str(error)
        raise ValueError(
            f"--weights {args.weights} is not a {training.architecture} state_dict for "
            f"{height}x{width} inputs: {details[:400]}"
        ) from None
    return model.eval()


def _report_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run's --out directory")
    command.add_argument("--out", type=Path, help="report directory (default: RUN_DIR/report)")


def _check_report(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if not args.run_dir.is_dir():
        parser.error(f"RUN_DIR {args.run_dir}: not a directory")


def write_report_of(run_dir: Path, out: Path | None = None) -> None:
    """Writes a run's HTML report and says where."""
    from ..report import write_report

    page = write_report(run_dir, out)
    print(f"wrote {page} (open it in a browser; it needs no server and no network)")


EXPLAIN_DATASET = Command(
    "explain-dataset",
    "explain every example of a dataset, your own model's (--model MODULE:CALLABLE --inputs "
    "x.npy) or a lab task's (resumable; launch with torchrun for several processes or GPUs)",
    _explain_options,
    explain_dataset,
    _check_explain,
)

REPORT = Command(
    "report",
    "write RUN_DIR/report/index.html: an offline page to browse a run's maps "
    "(explain-dataset) or its methods side by side (compare, reproduce)",
    _report_options,
    lambda args: write_report_of(args.run_dir, args.out),
    _check_report,
)

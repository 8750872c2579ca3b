"""``explain-dataset`` for a lab task: every example of a task's split, through the library's
dataset runner (your own model's array: the library's ``captum-noisemask explain-dataset``)."""

from __future__ import annotations

import argparse
import pickle
from pathlib import Path

from torch import nn

from captum_noisemask.cli.command import Command
from captum_noisemask.cli.explain import add_run_options, check_run_options, run_dataset
from captum_noisemask.labelled import LabelledImages

from .command import add_dataset_options, check_task_options, task_of, training_of

__all__ = ["EXPLAIN_DATASET"]


def _explain_options(command: argparse.ArgumentParser) -> None:
    add_run_options(command)
    add_dataset_options(command)
    command.add_argument("--split", choices=["train", "test"], default="test", help="which split")
    command.add_argument(
        "--weights",
        type=Path,
        help="state_dict (.pt) of the --model, loaded with weights_only=True (default: the "
        "model the lab trains and caches)",
    )


def _check_explain(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    check_run_options(parser, args)
    check_task_options(parser, args)


def explain_dataset(args: argparse.Namespace) -> None:
    """The ``explain-dataset`` subcommand (one rank of it under torchrun)."""
    train_set, test_set = task_of(args).load(args.data_dir)
    examples = test_set if args.split == "test" else train_set
    run_dataset(
        args,
        examples,
        lambda rank: _model(args, examples, rank),
        class_names=list(task_of(args).class_names),
    )


def _model(args: argparse.Namespace, examples: LabelledImages, rank: int) -> nn.Module:
    import torch

    from captum_noisemask.dataset_runs.distributed import barrier

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


EXPLAIN_DATASET = Command(
    "explain-dataset",
    "explain every example of a lab task's split with the lab's classifier (resumable; launch "
    "with torchrun for several processes or GPUs); your own model: captum-noisemask "
    "explain-dataset",
    _explain_options,
    explain_dataset,
    _check_explain,
)

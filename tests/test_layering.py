"""Imports point down the layers: the method never imports the metrics, the experiment,
the benchmark or the dataset runner; the metrics never import the experiment."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import captum_noisemask

PACKAGE = Path(captum_noisemask.__file__).resolve().parent

#: Layer -> the layers it may import (itself included).
ALLOWED = {
    "_utils": {"_utils"},
    "architectures": {"architectures"},
    "method": {"_utils", "method"},
    "evaluation": {"_utils", "method", "evaluation"},
    "dataset_runs": {"_utils", "method", "dataset_runs"},
    "report": {"_utils", "method", "dataset_runs", "report"},
    "mnist": {"_utils", "architectures", "method", "evaluation", "mnist"},
    "benchmark": {"_utils", "architectures", "method", "evaluation", "mnist", "benchmark"},
    "cli": {
        "_utils",
        "architectures",
        "method",
        "evaluation",
        "dataset_runs",
        "mnist",
        "benchmark",
        "report",
        "cli",
    },
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside the package."""
    parts = module.split(".")[1:]
    method_modules = {"attribution", "certificate", "presets", "feature_masks", "labelled", "core"}
    if not parts or parts[0] in method_modules:
        return "method"
    if parts[0] in {"cli", "__main__"}:
        return "cli"
    return parts[0]


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> list[str]:
    """Every package module that ``path`` imports, relative imports resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return [t for t in found if t.split(".")[0] == root.name]


def violations(root: Path) -> list[str]:
    """``"importer -> imported"`` for every import that points up the layers."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        for target in imported_modules(path, root):
            if layer_of(target) not in ALLOWED[layer_of(importer)]:
                wrong.append(f"{importer} -> {target}")
    return wrong


def test_every_import_points_down_the_layers() -> None:
    assert violations(PACKAGE) == []


def test_every_module_belongs_to_a_layer() -> None:
    layers = {layer_of(module_name(p, PACKAGE)) for p in PACKAGE.rglob("*.py")}
    assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    root = tmp_path / "captum_noisemask"
    (root / "evaluation").mkdir(parents=True)
    (root / "mnist").mkdir()
    (root / "__init__.py").write_text("from .attribution import X\n")
    (root / "evaluation" / "__init__.py").write_text("")
    (root / "evaluation" / "roar.py").write_text("from ..mnist.training import train\n")
    (root / "mnist" / "training.py").write_text("from ..evaluation import roar\n")
    assert violations(root) == [
        "captum_noisemask.evaluation.roar -> captum_noisemask.mnist.training"
    ]


def modules_loaded(before: str, statement: str) -> list[str]:
    """The modules a fresh interpreter loads for ``statement`` after running ``before``."""
    probe = (
        f"import sys\n{before}\nearlier = set(sys.modules)\n{statement}\n"
        "print(' '.join(sorted(set(sys.modules) - earlier)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_cli_loads_no_subsystem_to_parse_its_arguments() -> None:
    loaded = modules_loaded(
        "",
        "from captum_noisemask import cli\n"
        "cli.build_parser().parse_args(['compare', '--out', 'x'])",
    )
    subsystems = tuple(
        f"captum_noisemask.{part}" for part in ("evaluation", "mnist", "benchmark", "dataset_runs")
    )
    assert [m for m in loaded if m.startswith(subsystems)] == []


def test_importing_the_library_adds_no_plotting_and_no_dataset_package() -> None:
    """captum.attr loads matplotlib itself; the library adds none of it, nor mlxtend or PIL."""
    added = modules_loaded("import captum.attr", "import captum_noisemask")
    assert "captum_noisemask" in added
    unwanted = [m for m in added if m.split(".")[0] in {"matplotlib", "mlxtend", "PIL", "selenium"}]
    assert unwanted == []
    # Nor the experiments: importing the library loads none of them.
    lab = ("captum_noisemask.mnist", "captum_noisemask.benchmark", "captum_noisemask.report")
    assert [m for m in added if m.startswith(lab)] == []

"""Imports point down the layers. The library (the method, the metrics, the dataset runner,
the report, its command line) imports nothing of the lab (``captum_noisemask_lab``, in the
repository's ``lab`` folder); inside each, the layers below never import the ones above."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import captum_noisemask

PACKAGE = Path(captum_noisemask.__file__).resolve().parent
#: The lab's package in a checkout (the library's tests read its files, never import it).
LAB_PACKAGE = PACKAGE.parent / "lab" / "captum_noisemask_lab"
PACKAGES = ("captum_noisemask", "captum_noisemask_lab")

#: The library's layers, bottom up: the method's building blocks (``core``) below the method
#: (the explainer, its presets and certificate), which nothing in ``core`` may import.
LIBRARY = {"_utils", "core", "method", "evaluation", "dataset_runs", "report", "cli"}

#: The lab's layers below its commands: whatever a benchmark may import.
LAB_BELOW_COMMANDS = {
    "lab",
    "lab.paths",
    "lab.architectures",
    "lab.tasks",
    "lab.methods",
    "lab.metrics",
    "lab.figures",
}

#: Layer -> the layers it may import (itself included).
ALLOWED = {
    "_utils": {"_utils"},
    "core": {"_utils", "core"},
    "method": {"_utils", "core", "method"},
    "evaluation": {"_utils", "core", "method", "evaluation"},
    "dataset_runs": {"_utils", "core", "method", "dataset_runs"},
    "report": {"_utils", "core", "method", "dataset_runs", "report"},
    "cli": LIBRARY,
    "lab": {"lab"},
    "lab.paths": {"lab.paths"},
    "lab.architectures": {"lab.architectures"},
    "lab.tasks": LIBRARY | {"lab.paths", "lab.architectures", "lab.tasks"},
    "lab.methods": LIBRARY | {"lab.methods"},
    # A metric's inputs name the comparison's config for type checking only.
    "lab.metrics": LIBRARY | {"lab.methods", "lab.metrics", "lab.benchmarks"},
    "lab.figures": LIBRARY | {"lab.figures"},
    "lab.command": LIBRARY | {"lab.tasks", "lab.command"},
    "lab.dataset_commands": LIBRARY | {"lab.tasks", "lab.command", "lab.dataset_commands"},
    "lab.benchmarks": LIBRARY
    | LAB_BELOW_COMMANDS
    | {"lab.command", "lab.dataset_commands", "lab.benchmarks"},
    "lab.cli": LIBRARY
    | LAB_BELOW_COMMANDS
    | {"lab.command", "lab.dataset_commands"}
    | {"lab.benchmarks", "lab.cli"},
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name of the library or the lab."""
    package, *parts = module.split(".")
    if package == "captum_noisemask_lab":
        if parts and parts[0] == "__main__":
            return "lab.cli"
        return f"lab.{parts[0]}" if parts else "lab"
    method_modules = {"attribution", "layer", "certificate", "presets", "feature_masks", "labelled"}
    if parts and parts[0] == "core":
        return "core"
    if not parts or parts[0] in method_modules:
        return "method"
    if parts[0] == "__main__":
        return "cli"
    return parts[0]


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = list(relative.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, root: Path) -> list[str]:
    """Every module of the library or the lab that ``path`` imports, relative imports resolved."""
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
    return [t for t in found if t.split(".")[0] in PACKAGES]


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
    assert LAB_PACKAGE.is_dir()  # the lab's layers are checked too
    assert violations(LAB_PACKAGE) == []


def test_every_module_belongs_to_a_layer() -> None:
    for root in (PACKAGE, LAB_PACKAGE):
        layers = {layer_of(module_name(p, root)) for p in root.rglob("*.py")}
        assert layers <= set(ALLOWED), layers - set(ALLOWED)


def test_the_library_imports_nothing_of_the_lab() -> None:
    for layer in LIBRARY:
        assert not any(allowed.startswith("lab") for allowed in ALLOWED[layer]), layer
    library_modules = list(PACKAGE.rglob("*.py"))
    assert len(library_modules) > 30  # the walk does see the library
    lab_imports = [
        f"{module_name(p, PACKAGE)} -> {target}"
        for p in library_modules
        for target in imported_modules(p, PACKAGE)
        if target.split(".")[0] == "captum_noisemask_lab"
    ]
    assert lab_imports == []
    assert not (PACKAGE / "lab").exists()  # the lab lives beside the library, not in it


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    root = tmp_path / "captum_noisemask"
    (root / "evaluation").mkdir(parents=True)
    (root / "__init__.py").write_text("from .attribution import X\n")
    (root / "evaluation" / "__init__.py").write_text("")
    (root / "evaluation" / "roar.py").write_text(
        "from captum_noisemask_lab.tasks.training import train\n"
    )
    assert violations(root) == [
        "captum_noisemask.evaluation.roar -> captum_noisemask_lab.tasks.training"
    ]


def test_the_check_catches_core_importing_the_method_above_it(tmp_path: Path) -> None:
    root = tmp_path / "captum_noisemask"
    (root / "core").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "presets.py").write_text("from .core.schedule import Preset\n")
    (root / "core" / "schedule.py").write_text("")
    (root / "core" / "problem.py").write_text("from ..presets import FAST\n")
    assert violations(root) == ["captum_noisemask.core.problem -> captum_noisemask.presets"]


def modules_loaded(before: str, statement: str) -> list[str]:
    """The modules a fresh interpreter loads for ``statement`` after running ``before``."""
    probe = (
        f"import sys\n{before}\nearlier = set(sys.modules)\n{statement}\n"
        "print(' '.join(sorted(set(sys.modules) - earlier)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_the_cli_parses_without_the_dataset_runner_the_report_or_dataset_packages() -> None:
    """Building the parser imports every command's module, but nothing that reads data,
    renders pages or drives a browser is loaded before a command runs (PIL and matplotlib
    come with captum.attr), and nothing of the lab."""
    loaded = modules_loaded(
        "",
        "from captum_noisemask import cli\n"
        "cli.build_parser().parse_args(\n"
        "    ['explain-dataset', '--model', 'm:f', '--inputs', 'x.npy', '--out', 'x'])",
    )
    assert "captum_noisemask.cli.explain" in loaded
    heavy = ("captum_noisemask.dataset_runs", "captum_noisemask.report", "captum_noisemask_lab")
    assert [m for m in loaded if m.startswith(heavy)] == []
    assert [m for m in loaded if m.split(".")[0] in {"mlxtend", "selenium"}] == []


def test_importing_the_library_adds_no_plotting_and_no_dataset_package() -> None:
    """captum.attr loads matplotlib itself; the library adds none of it, nor mlxtend or PIL."""
    added = modules_loaded("import captum.attr", "import captum_noisemask")
    assert "captum_noisemask" in added
    unwanted = [m for m in added if m.split(".")[0] in {"matplotlib", "mlxtend", "PIL", "selenium"}]
    assert unwanted == []
    # Nor the lab, nor the report: importing the library loads none of them.
    lab = ("captum_noisemask_lab.", "captum_noisemask.report")
    assert [m for m in added if m.startswith(lab) or m == "captum_noisemask_lab"] == []


def test_the_lab_is_no_module_of_the_library() -> None:
    import importlib.util

    assert importlib.util.find_spec("captum_noisemask.lab") is None


@pytest.mark.slow
def test_the_librarys_wheel_holds_no_lab_module(tmp_path: Path) -> None:
    """``pip wheel --no-deps .`` packs the library alone: no lab module, and the report's assets."""
    import zipfile

    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), "."],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("captum_noisemask-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert (
        "captum_noisemask/attribution.py" in names and "captum_noisemask/cli/__init__.py" in names
    )
    assert "captum_noisemask/report/assets/report.js" in names
    assert [n for n in names if "lab" in n.split("/")[0] or "/lab/" in n] == []
    assert [n for n in names if n.startswith(("tests/", "benchmarks/", "docs/"))] == []

"""Sphinx configuration of the captum-noisemask documentation."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_figures import generate  # noqa: E402

project = "captum-noisemask"
author = "captum-noisemask developers"
copyright = "2026, captum-noisemask developers"
release = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.coverage",
    "sphinx.ext.viewcode",
]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
html_theme = "alabaster"
html_static_path = ["_static"]
exclude_patterns = ["_build", "generate_figures.py"]
nitpicky = False
suppress_warnings = ["ref.python"]


def setup(app):  # noqa: ANN001, ANN201 - Sphinx's extension hook
    """Figures are regenerated at every build, never committed (see generate_figures.py)."""
    app.connect("builder-inited", lambda _app: generate())

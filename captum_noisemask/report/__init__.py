"""Offline HTML reports of dataset runs and comparisons (``captum-noisemask report``).

:func:`write_report` reads a run's directory and writes ``report/index.html``
beside its arrays: a static page that opens from disk, with every map as a
thumbnail, filters, a detail view and summary charts. A comparison of methods
saves its images and maps with :func:`save_maps` for the page to show side by side.
"""

from ._writer import write_report
from .maps_file import save_maps

__all__ = ["save_maps", "write_report"]

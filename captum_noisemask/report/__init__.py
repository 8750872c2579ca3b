"""Offline HTML reports of dataset runs and comparisons (``captum-noisemask report``).

:func:`write_report` reads a run's directory and writes ``report/index.html``
beside its arrays: a static page that opens from disk, with every map as a
thumbnail, filters, a detail view and summary charts.
"""

from ._writer import write_report

__all__ = ["write_report"]

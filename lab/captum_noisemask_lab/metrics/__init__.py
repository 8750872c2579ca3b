"""The metrics ``compare`` runs on every method's maps, one module each, registered here.

Adding a metric: write a module with a :class:`~.base.Metric` (its columns and a
function from :class:`~.base.MetricInputs` to per-image scores) and add it to
:data:`METRICS`. ``compare`` scores every method with it, ``results.json`` keeps
its summaries, and the tables (``results.md``, the CSVs the docs include) get its
columns; a column with ``readme=True`` also goes into the README's table.
"""

from __future__ import annotations

from . import infidelity, max_sensitivity, noise_deletion, pixel_flipping
from .base import Column, Metric, MetricInputs, MetricScores

__all__ = ["METRICS", "Column", "Metric", "MetricInputs", "MetricScores"]

#: Every metric of ``compare``, in the order of the tables' columns.
METRICS: list[Metric] = [
    pixel_flipping.METRIC,
    noise_deletion.METRIC,
    infidelity.METRIC,
    max_sensitivity.METRIC,
]

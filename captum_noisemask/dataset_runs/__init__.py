"""Explaining a whole dataset: resumable chunked runs, spread over processes by torchrun."""

from .runner import DatasetResults, DatasetSummary, attribute_dataset, load_results

__all__ = ["attribute_dataset", "load_results", "DatasetResults", "DatasetSummary"]

"""The one place that imports Captum's private helpers.

Captum's ``_utils`` modules are not public API and may move between releases;
importing them only here keeps a Captum upgrade to a one-file change.
"""

from captum._utils.common import (
    _format_additional_forward_args,
    _format_output,
    _is_tuple,
)
from captum._utils.progress import progress
from captum.attr._utils.lrp_rules import Alpha1_Beta0_Rule
from captum.attr._utils.visualization import _initialize_cmap_and_vmin_vmax, _normalize_attr

__all__ = [
    "Alpha1_Beta0_Rule",
    "_format_additional_forward_args",
    "_format_output",
    "_initialize_cmap_and_vmin_vmax",
    "_is_tuple",
    "_normalize_attr",
    "progress",
]

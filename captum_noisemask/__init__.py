"""The "non-contributing pixels" explanation method as a Captum attribution."""

from ._utils.labelled import LabelledImages
from .attribution import DegenerateMapWarning, NoiseMaskAttribution
from .presets import FAITHFUL, FAST, PAPER, PRESETS, Preset

__version__ = "0.1.0"

__all__ = [
    "NoiseMaskAttribution",
    "DegenerateMapWarning",
    "Preset",
    "PRESETS",
    "PAPER",
    "FAITHFUL",
    "FAST",
    "LabelledImages",
    "__version__",
]

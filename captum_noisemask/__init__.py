"""The "non-contributing pixels" explanation method as a Captum attribution."""

from ._utils.labelled import LabelledImages
from .attribution import DegenerateMapWarning, GuaranteeWarning, NoiseMaskAttribution
from .certificate import Certificate, NetworkCertificate
from .feature_masks import grid_feature_mask
from .presets import COARSE, FAITHFUL, FAST, PAPER, PRESETS, Preset

__version__ = "0.1.0"

__all__ = [
    "NoiseMaskAttribution",
    "DegenerateMapWarning",
    "GuaranteeWarning",
    "Certificate",
    "NetworkCertificate",
    "Preset",
    "PRESETS",
    "PAPER",
    "COARSE",
    "FAITHFUL",
    "FAST",
    "LabelledImages",
    "grid_feature_mask",
    "__version__",
]

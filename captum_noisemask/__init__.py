"""The "non-contributing pixels" explanation method as a Captum attribution."""

from .attribution import DegenerateMapWarning, GuaranteeWarning, NoiseMaskAttribution
from .certificate import Certificate, NetworkCertificate
from .core.mask_units import MaskReport, SiteReport
from .core.problem import NoiseMaskProblem
from .feature_masks import grid_feature_mask
from .labelled import LabelledImages
from .layer import LayerNoiseMaskAttribution
from .presets import COARSE, FAITHFUL, FAST, PAPER, PRESETS, Preset

__version__ = "0.1.0"

__all__ = [
    "NoiseMaskAttribution",
    "LayerNoiseMaskAttribution",
    "NoiseMaskProblem",
    "DegenerateMapWarning",
    "GuaranteeWarning",
    "Certificate",
    "NetworkCertificate",
    "MaskReport",
    "SiteReport",
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

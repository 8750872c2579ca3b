"""The claim a map makes, measured on fresh noise draws: :class:`Certificate`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .core.levels import PerPosition
from .core.problem import CleanPass
from .core.statistics import clopper_pearson_lower

__all__ = ["Certificate", "NetworkCertificate", "measure_certificate"]


@dataclass(frozen=True)
class NetworkCertificate:
    """What fresh draws at a map's own levels did to one network; per example ``(B,)``.

    Attributes:
        within (Tensor): Share of the draws whose held outputs all stayed
                    within the tolerance.
        within_lower (Tensor): One-sided Clopper-Pearson lower bound on that
                    share at the certificate's confidence.
        decision_kept (Tensor): Share of the draws whose top-1 output is the
                    clean one's.
    """

    within: Tensor
    within_lower: Tensor
    decision_kept: Tensor


@dataclass(frozen=True)
class Certificate:
    """The map's claim, "noise at these levels leaves the held outputs within the
    tolerance", measured; returned by
    :meth:`~captum_noisemask.NoiseMaskAttribution.certify`.

    Attributes:
        masked (NetworkCertificate): The network the map is learnt for: mask
                    units on, held to the clean output its problem names.
        plain (NetworkCertificate): The caller's unmodified model, held to its
                    own clean output.
        necessity (Tensor): Per example, the share of draws on the plain model
                    that leave the tolerance when full noise covers only the
                    contributing positions (level > 0.5 in "contributing"
                    terms): high means the contributing region is needed.
        n_draws (int): Independent draws per example and measurement.
        confidence (float): Of ``within_lower``.
    """

    masked: NetworkCertificate
    plain: NetworkCertificate
    necessity: Tensor
    n_draws: int
    confidence: float

    def __str__(self) -> str:
        lines = [
            f"{'example':>7}  {'masked within':>13}  {'(lower)':>7}  {'kept':>6}  "
            f"{'plain within':>12}  {'(lower)':>7}  {'kept':>6}  {'necessity':>9}"
        ]
        rows = zip(
            self.masked.within.tolist(),
            self.masked.within_lower.tolist(),
            self.masked.decision_kept.tolist(),
            self.plain.within.tolist(),
            self.plain.within_lower.tolist(),
            self.plain.decision_kept.tolist(),
            self.necessity.tolist(),
            strict=True,
        )
        for i, (mw, ml, mk, pw, pl, pk, nec) in enumerate(rows):
            lines.append(
                f"{i:>7}  {mw:>13.1%}  {ml:>7.1%}  {mk:>6.1%}  "
                f"{pw:>12.1%}  {pl:>7.1%}  {pk:>6.1%}  {nec:>9.1%}"
            )
        lines.append(
            f"{self.n_draws} draws per example; lower bounds at {self.confidence:.0%} confidence"
        )
        return "\n".join(lines)


def measure_certificate(
    clean_pass: CleanPass, levels: tuple[Tensor, ...], n_draws: int, confidence: float
) -> Certificate:
    """The certificate of noise levels ``w`` (one map per input, shaped like it).

    Args:
        clean_pass (CleanPass): The explained problem's clean pass on the maps' inputs.
        levels (tuple[Tensor, ...]): Noise levels in [0, 1], shaped like the inputs.
        n_draws (int): Independent draws per example and measurement.
        confidence (float): Of the lower bounds.

    Returns:
        *Certificate*.
    """
    layout = PerPosition([tuple(w.shape) for w in levels])
    masked = _network_certificate(clean_pass, layout, levels, n_draws, confidence, masked=True)
    plain = _network_certificate(clean_pass, layout, levels, n_draws, confidence, masked=False)
    contributing = tuple((w < 0.5).to(w.dtype) for w in levels)
    outcomes = clean_pass.network(layout, n_draws, masked=False, forward_only=True).outcomes(
        contributing
    )
    necessity = 1.0 - outcomes.within.to(torch.float64).mean(0)
    return Certificate(masked, plain, necessity, n_draws, confidence)


def _network_certificate(
    clean_pass: CleanPass,
    layout: PerPosition,
    levels: tuple[Tensor, ...],
    n_draws: int,
    confidence: float,
    masked: bool,
) -> NetworkCertificate:
    outcomes = clean_pass.network(layout, n_draws, masked=masked, forward_only=True).outcomes(
        levels
    )
    successes = outcomes.within.sum(0)
    return NetworkCertificate(
        within=successes.to(torch.float64) / n_draws,
        within_lower=clopper_pearson_lower(successes, n_draws, confidence),
        decision_kept=outcomes.decision_kept.to(torch.float64).mean(0),
    )

"""The claim a map makes, measured on fresh noise draws: :class:`Certificate`."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .core.levels import PerPosition
from .core.problem import CleanPass
from .core.sequential import FIRST_LOOK, sequential_bound

__all__ = ["Certificate", "NetworkCertificate", "measure_certificate"]


@dataclass(frozen=True)
class NetworkCertificate:
    """What fresh draws at a map's own levels did to one network; per example ``(B,)``.

    Attributes:
        within (Tensor): Share of the draws whose held outputs all stayed
                    within the tolerance.
        within_lower (Tensor): One-sided Clopper-Pearson lower bound on that
                    share at the certificate's confidence, valid under the
                    sequential test's stopping (see
                    :mod:`~captum_noisemask.core.sequential`).
        decision_kept (Tensor): Share of the draws whose top-1 output is the
                    clean one's.
        draws (Tensor): Draws made per example (int64): ``n_draws`` for a
                    fixed certificate, fewer where the sequential test settled early.
    """

    within: Tensor
    within_lower: Tensor
    decision_kept: Tensor
    draws: Tensor


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
                    Measured on :data:`~captum_noisemask.core.sequential.FIRST_LOOK`
                    draws by a sequential certificate, on ``n_draws`` by a fixed one.
        n_draws (int): Most draws per example and network.
        confidence (float): Of ``within_lower``.
        bound_target (float or None): The share the sequential test decided
                    against (``None``: a fixed certificate of ``n_draws`` draws).
    """

    masked: NetworkCertificate
    plain: NetworkCertificate
    necessity: Tensor
    n_draws: int
    confidence: float
    bound_target: float | None = None

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
        if self.bound_target is None:
            drawn = f"{self.n_draws} draws per example"
        else:
            drawn = (
                f"draws per example until the bound's decision against {self.bound_target:g} "
                f"was settled (at most {self.n_draws}): masked mean "
                f"{float(self.masked.draws.double().mean()):.0f}, plain mean "
                f"{float(self.plain.draws.double().mean()):.0f}"
            )
        lines.append(f"{drawn}; lower bounds at {self.confidence:.0%} confidence")
        return "\n".join(lines)


def measure_certificate(
    clean_pass: CleanPass,
    levels: tuple[Tensor, ...],
    n_draws: int,
    confidence: float,
    bound_target: float | None,
) -> Certificate:
    """The certificate of noise levels ``w`` (one map per input, shaped like it).

    Args:
        clean_pass (CleanPass): The explained problem's clean pass on the maps' inputs.
        levels (tuple[Tensor, ...]): Noise levels in [0, 1], shaped like the inputs.
        n_draws (int): Most draws per example and network.
        confidence (float): Of the lower bounds.
        bound_target (float, optional): Draw per example only until the bound
                    clears this share or cannot (see
                    :func:`~captum_noisemask.core.sequential.sequential_bound`);
                    ``None``: exactly ``n_draws``.

    Returns:
        *Certificate*.
    """
    layout = PerPosition([tuple(w.shape) for w in levels])
    masked, plain = (
        _network_certificate(clean_pass, layout, levels, n_draws, confidence, bound_target, m)
        for m in (True, False)
    )
    contributing = tuple((w < 0.5).to(w.dtype) for w in levels)
    necessity_draws = n_draws if bound_target is None else min(n_draws, FIRST_LOOK)
    outcomes = clean_pass.network(
        layout, necessity_draws, masked=False, forward_only=True
    ).outcomes(contributing)
    necessity = 1.0 - outcomes.within.to(torch.float64).mean(0)
    return Certificate(masked, plain, necessity, n_draws, confidence, bound_target)


def _network_certificate(
    clean_pass: CleanPass,
    layout: PerPosition,
    levels: tuple[Tensor, ...],
    n_draws: int,
    confidence: float,
    bound_target: float | None,
    masked: bool,
) -> NetworkCertificate:
    kept = torch.zeros(clean_pass.batch_size, dtype=torch.int64)

    def draw_within(n: int, open_: Tensor) -> Tensor:
        network = clean_pass.network(layout, n, masked=masked, forward_only=True)
        outcomes = network.outcomes(levels, open_.to(levels[0].device))
        kept.add_(outcomes.decision_kept.sum(0).cpu())
        return outcomes.within.sum(0)

    result = sequential_bound(draw_within, clean_pass.batch_size, n_draws, bound_target, confidence)
    trials = result.trials.to(torch.float64)
    device = levels[0].device
    return NetworkCertificate(
        within=(result.successes / trials).to(device),
        within_lower=result.lower.to(device),
        decision_kept=(kept / trials).to(device),
        draws=result.trials.to(device),
    )

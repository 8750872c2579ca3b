r"""A lower bound on a share of noise draws, drawn only until its decision is settled.

A certificate serves one decision per example: does the share ``p`` of draws that keep the
held outputs within the tolerance reach a target ``q`` (e.g. 0.95)? Drawing a fixed 1,000
draws settles it long after it is clear for most examples: if 100 draws all stay within, the
bound already clears 0.95. The sequential test looks at fixed cumulative draw counts
``n_1 < n_2 < ... < n_L = n_max`` (:func:`looks`) and, per example, stops at the first look
where the decision is settled:

- **cleared**: the Clopper-Pearson lower bound at look ``j``'s confidence ``1 - alpha_j`` is
  ``>= q``;
- **out of reach**: the matching upper bound is ``< q`` (with the same confidence the share
  is below the target), or even ``n_max`` draws that all stay within from now on could not
  lift the final bound to ``q``.

**Why the reported bound stays valid.** Look ``j``'s bound misses the true ``p`` with
probability at most ``alpha_j``, and the ``alpha_j`` sum to ``alpha`` (:func:`alpha_spent`:
half at the last look, half shared by the others), so by the union bound all ``L`` bounds
hold at once with probability at least ``1 - alpha``. On that event the bound at *whatever*
look the example stopped at holds too, however the stopping depended on the draws: the
reported bound is valid at confidence ``1 - alpha`` under any stopping rule on these looks (a
Bonferroni alpha-spending). The price is a slightly lower bound than a fixed-``n``
one at the same draws; ``tests/core/test_sequential.py`` checks the coverage by simulation
over examples with known shares.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .statistics import clopper_pearson_lower, clopper_pearson_upper

__all__ = ["SequentialBound", "alpha_spent", "looks", "sequential_bound", "FIRST_LOOK"]

#: Draws at the first look: 100 draws all within clear 0.95 at an early look's share of 95%
#: confidence over 5 looks (``0.00625 ** (1 / 100) = 0.950``); :func:`looks` doubles from here.
FIRST_LOOK = 100


@dataclass(frozen=True)
class SequentialBound:
    """Per example ``(B,)``: successes, draws made, and the bound valid at the stopping look.

    Attributes:
        successes (Tensor): Draws within, int64.
        trials (Tensor): Draws made, int64.
        lower (Tensor): Lower bound on the share at the test's confidence (float64).
        looks (tuple[int, ...]): The cumulative draw counts looked at.
    """

    successes: Tensor
    trials: Tensor
    lower: Tensor
    looks: tuple[int, ...]


def looks(max_draws: int) -> tuple[int, ...]:
    """The cumulative draw counts: ``100, 200, 400, ...`` doubling, then ``max_draws``.

    Examples::

        >>> from captum_noisemask.core.sequential import looks
        >>> looks(1000), looks(400), looks(50)
        ((100, 200, 400, 800, 1000), (100, 200, 400), (50,))
    """
    counts = []
    n = FIRST_LOOK
    while n < max_draws:
        counts.append(n)
        n *= 2
    return (*counts, max_draws)


def alpha_spent(n_looks: int, alpha: float) -> tuple[float, ...]:
    """Each look's share of the error ``alpha``: half to the last look, the other half split
    evenly over the earlier ones (all of it to a single look), so the bound at ``n_max`` stays
    close to the fixed-``n`` one while early looks can still clear a clear case.

    Examples::

        >>> from captum_noisemask.core.sequential import alpha_spent
        >>> [round(a, 5) for a in alpha_spent(5, 0.05)], alpha_spent(1, 0.05)
        ([0.00625, 0.00625, 0.00625, 0.00625, 0.025], (0.05,))
    """
    if n_looks == 1:
        return (alpha,)
    return (*[alpha / 2 / (n_looks - 1)] * (n_looks - 1), alpha / 2)


def sequential_bound(
    draw_within: Callable[[int, Tensor], Tensor],
    batch_size: int,
    max_draws: int,
    target: float | None,
    confidence: float,
) -> SequentialBound:
    """Draws per example until its bound's decision against ``target`` is settled.

    Args:
        draw_within (Callable): ``draw_within(n, open)`` makes ``n`` fresh draws for the
                    examples where the bool tensor ``open`` ``(B,)`` is True and returns,
                    per example, how many of them stayed within (``(B,)``, any values
                    elsewhere).
        batch_size (int): ``B``.
        max_draws (int): Most draws per example.
        target (float, optional): The share the bound is to reach. ``None``: one look of
                    ``max_draws`` draws at ``confidence``, the fixed-``n`` bound.
        confidence (float): Of the reported bound, in (0, 1).

    Returns:
        *SequentialBound*.
    """
    counts = (max_draws,) if target is None else looks(max_draws)
    spent = alpha_spent(len(counts), 1.0 - confidence)
    successes = torch.zeros(batch_size, dtype=torch.int64)
    trials = torch.zeros(batch_size, dtype=torch.int64)
    lower = torch.zeros(batch_size, dtype=torch.float64)
    open_ = torch.ones(batch_size, dtype=torch.bool)
    made = 0
    for count, alpha in zip(counts, spent, strict=True):
        at_look = 1.0 - alpha
        new = draw_within(count - made, open_.clone()).detach().cpu().to(torch.int64)
        successes = torch.where(open_, successes + new, successes)
        trials = torch.where(open_, torch.full_like(trials, count), trials)
        bound = clopper_pearson_lower(successes, count, at_look).cpu()
        lower = torch.where(open_, bound, lower)
        made = count
        if target is None or count == counts[-1]:
            break
        cleared = bound >= target
        upper = clopper_pearson_upper(successes, count, at_look).cpu()
        best_case = clopper_pearson_lower(successes + (max_draws - count), max_draws, at_look)
        out_of_reach = (upper < target) | (best_case.cpu() < target)
        open_ &= ~(cleared | out_of_reach)
        if not bool(open_.any()):
            break
    return SequentialBound(successes, trials, lower, counts)

"""The sequential certificate's bound: valid under its stopping rule, cheap where it is clear."""

from __future__ import annotations

import torch
from torch import Tensor

from captum_noisemask.core.sequential import looks, sequential_bound
from captum_noisemask.core.statistics import clopper_pearson_lower

#: Known shares of draws within, around and away from the 0.95 target.
SHARES = (0.9, 0.94, 0.95, 0.955, 0.97, 0.99, 1.0)
PER_SHARE = 1500


def _binomial_draws(shares: Tensor, seed: int):
    generator = torch.Generator().manual_seed(seed)

    def draw_within(n: int, open_: Tensor) -> Tensor:
        # torch.binomial has no generator argument: draw the Bernoulli trials themselves.
        trials = torch.rand(len(shares), n, generator=generator) < shares.unsqueeze(1)
        return trials.sum(1) * open_

    return draw_within


def _simulated(confidence: float = 0.95, target: float | None = 0.95, seed: int = 0):
    shares = torch.tensor(SHARES, dtype=torch.float64).repeat_interleave(PER_SHARE)
    result = sequential_bound(_binomial_draws(shares, seed), len(shares), 1000, target, confidence)
    return shares, result


def test_the_bound_covers_the_true_share_at_its_confidence() -> None:
    shares, result = _simulated()
    for share in SHARES:
        group = shares == share
        misses = float((result.lower[group] > share).double().mean())
        # 1,500 examples per share: a true miss rate of 5% shows as at most ~6.7%.
        assert misses <= 0.067, (share, misses)


def test_the_simulation_catches_a_bound_that_ignores_its_stopping_rule() -> None:
    """Stopping at the first look whose *unadjusted* bound clears the target overstates the
    bound on shares just below it: the coverage check above would fail for it."""
    shares = torch.full((4000,), 0.945, dtype=torch.float64)
    draw = _binomial_draws(shares, seed=1)
    successes, stopped = torch.zeros(4000, dtype=torch.int64), torch.zeros(4000, dtype=torch.bool)
    lower = torch.zeros(4000, dtype=torch.float64)
    made = 0
    for count in looks(1000):
        successes += draw(count - made, ~stopped)
        made = count
        bound = clopper_pearson_lower(successes, count, 0.95)
        lower = torch.where(stopped, lower, bound)
        stopped |= bound >= 0.95
    assert float((lower > 0.945).double().mean()) > 0.067


def test_a_fixed_number_of_draws_is_the_plain_clopper_pearson_bound() -> None:
    shares, result = _simulated(target=None)
    assert bool((result.trials == 1000).all())
    assert torch.equal(result.lower, clopper_pearson_lower(result.successes, 1000, 0.95))


def test_clear_examples_stop_early_and_the_decision_agrees_with_1000_draws() -> None:
    shares, sequential = _simulated(seed=2)
    _, fixed = _simulated(target=None, seed=2)
    assert bool((sequential.trials[shares == 1.0] == looks(1000)[0]).all())  # 100 draws
    assert float(sequential.trials[shares <= 0.9].double().mean()) <= 400  # out of reach
    agree = (sequential.lower >= 0.95) == (fixed.lower >= 0.95)
    # Away from the target the decision is the fixed one's; within 0.02 of it even two fixed
    # runs of fresh draws disagree often (at 0.955 a fixed run clears 18% of the time).
    clear_cases = (shares - 0.95).abs() >= 0.03
    assert float(agree[clear_cases].double().mean()) >= 0.99
    assert float(agree.double().mean()) >= 0.85
    assert float(sequential.trials.double().mean()) < 0.6 * 1000

"""The concave reward for noise (``reward_exponent``): a ranking inside the contributing region."""

from __future__ import annotations

import pytest
import torch
from support import two_strengths
from torch import nn

from captum_noisemask import NoiseMaskAttribution, NoiseMaskProblem


def _rows_counted(model: nn.Module) -> list[int]:
    rows = [0]
    model.register_forward_hook(lambda _m, args, _o: rows.__setitem__(0, rows[0] + len(args[0])))
    return rows


@pytest.mark.parametrize("exponent", [2.0, 4.0])
def test_a_concave_reward_ranks_what_the_linear_one_ties_at_the_same_cost(
    exponent: float,
) -> None:
    # Weight 8 on noise of half-width 1 moves the output by more than 4 at full noise.
    problem = NoiseMaskProblem(tolerance=4.0, unit="output", order="levels")
    x = torch.rand(2, 12, generator=torch.Generator().manual_seed(0))
    model = two_strengths()
    rows = _rows_counted(model)
    plain = NoiseMaskAttribution(model, problem).attribute(x, seed=0)
    plain_rows, rows[0] = rows[0], 0
    concave = problem.replace(reward_exponent=exponent)
    ranked = NoiseMaskAttribution(model, concave).attribute(x, seed=0)
    strong, weak, unused = slice(0, 4), slice(4, 8), slice(8, 12)
    gap = float(ranked[:, strong].min() - ranked[:, weak].max())
    # The group whose noise costs more sits higher above the other than under the paper's
    # linear reward ...
    assert gap > 0.1 and gap > float(plain[:, strong].min() - plain[:, weak].max()) + 0.02
    # ... both still contribute, what the model ignores still does not, at the same cost.
    assert float(ranked[:, weak].min()) > 0.5
    assert float(ranked[:, unused].max()) < 0.02
    assert rows[0] == plain_rows


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [(0.5, ValueError, "reward_exponent"), ("2", TypeError, "reward_exponent")],
)
def test_bad_exponents_are_refused(value: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        NoiseMaskProblem(reward_exponent=value)  # type: ignore[arg-type]


def test_the_exponent_is_said_and_stored() -> None:
    problem = NoiseMaskProblem(reward_exponent=3)
    assert "slope max(1, 3 (1 - w)^(3 - 1))" in problem.describe()
    assert NoiseMaskProblem.from_dict(problem.to_dict()) == problem
    assert NoiseMaskProblem.paper().reward_exponent == 1.0  # the paper's linear reward

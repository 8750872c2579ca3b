"""The graded map over a path of tolerances (``tolerance_path``)."""

from __future__ import annotations

import pytest
import torch
from support import two_strengths

from captum_noisemask import FAST, NoiseMaskAttribution, NoiseMaskProblem
from captum_noisemask.core.optimisation import CONTINUATION_STEPS


def test_the_path_ranks_what_one_tolerance_ties() -> None:
    problem = NoiseMaskProblem(tolerance=1.0, unit="output", order="levels")
    x = torch.rand(2, 12, generator=torch.Generator().manual_seed(0))
    plain = NoiseMaskAttribution(two_strengths(), problem).attribute(x, seed=0)
    graded_problem = problem.replace(tolerance_path=(1, 4, 16))
    graded = NoiseMaskAttribution(two_strengths(), graded_problem).attribute(x, seed=0)
    strong, weak, unused = slice(0, 4), slice(4, 8), slice(8, 12)
    # One tolerance: both groups are "contributing" (values within a few hundredths).
    assert float(plain[:, strong].min() - plain[:, weak].max()) < 0.05
    # Over the path the weak group gives way first: a clear gap opens.
    assert float(graded[:, strong].min() - graded[:, weak].max()) > 0.1
    assert float(graded[:, weak].min()) > 0.5
    assert torch.equal(graded[:, unused], torch.zeros(2, 4))


def test_a_one_point_path_is_the_plain_map_and_later_points_cost_a_third() -> None:
    model = two_strengths()
    rows = [0]
    model.register_forward_hook(lambda _m, args, _o: rows.__setitem__(0, rows[0] + len(args[0])))
    x = torch.rand(1, 12, generator=torch.Generator().manual_seed(1))
    levels = NoiseMaskProblem(order="levels")  # a graded map is its own order
    plain = NoiseMaskAttribution(model, levels).attribute(x, seed=0)
    plain_rows, rows[0] = rows[0], 0
    one_point = NoiseMaskAttribution(model, levels.replace(tolerance_path=[1.0]))
    assert torch.equal(one_point.attribute(x, seed=0), plain)
    rows[0] = 0
    NoiseMaskAttribution(model, levels.replace(tolerance_path=(1, 2, 4))).attribute(x, seed=0)
    later_steps = round(FAST.n_steps * CONTINUATION_STEPS)
    assert rows[0] == plain_rows + 2 * later_steps * FAST.n_samples


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ((), ValueError, "at least one"),
        ((1, 1), ValueError, "increase strictly"),
        ((2, 1), ValueError, "increase strictly"),
        ((1, -2), ValueError, r"tolerance_path\[1\]"),
        ((1, float("nan")), ValueError, r"tolerance_path\[1\]"),
        ("12", TypeError, "sequence"),
        (3, TypeError, "sequence"),
    ],
)
def test_bad_paths_are_refused(path: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        NoiseMaskProblem(tolerance_path=path, order="levels")  # type: ignore[arg-type]


def test_a_path_has_no_single_convergence_delta() -> None:
    graded = NoiseMaskAttribution(
        two_strengths(), NoiseMaskProblem(tolerance_path=(1, 2), order="levels")
    )
    with pytest.raises(ValueError, match="return_convergence_delta"):
        graded.attribute(torch.rand(1, 12), return_convergence_delta=True)

"""The finished run the report tests share."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_runs import N_EXAMPLES, make_run


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certified NoiseMask run of 230 random 8x8 images on the tiny CNN."""
    return make_run(tmp_path_factory.mktemp("run"), N_EXAMPLES, certify_draws=40)

"""Every benchmark of the lab, one module each, registered here; each is a subcommand.

Adding a benchmark: write a module whose :class:`~captum_noisemask_lab.command.Command`
(``COMMAND``: name, summary, options, what it runs) does the measurement and writes its
results, and add ``module.COMMAND`` to :data:`BENCHMARKS`; ``captum-noisemask NAME`` then
runs it. Its committed results go to ``benchmarks/results/``.
"""

from __future__ import annotations

from captum_noisemask.cli.command import Command

from . import (
    bn_picture,
    certificate,
    compare,
    key_tokens,
    layer_maps,
    localisation,
    localisation_variants,
    noise_deletion,
    noise_regions,
    paper_maps_fixture,
    report_scale,
    reproduce,
    speed,
)

__all__ = ["BENCHMARKS"]

#: Every benchmark, in the order ``captum-noisemask --help`` lists them.
BENCHMARKS: list[Command] = [
    reproduce.COMMAND,
    compare.COMMAND,
    speed.COMMAND,
    localisation.COMMAND,
    noise_regions.COMMAND,
    localisation_variants.COMMAND,
    bn_picture.COMMAND,
    certificate.COMMAND,
    key_tokens.COMMAND,
    layer_maps.COMMAND,
    noise_deletion.COMMAND,
    report_scale.COMMAND,
    paper_maps_fixture.COMMAND,
]

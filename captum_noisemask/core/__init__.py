"""The building blocks of :class:`~captum_noisemask.NoiseMaskAttribution`.

- :mod:`.noise`: the perturbation, uniform noise scaled by the levels ``w``;
- :mod:`.mask_units`: the paper's mask units, as scoped forward hooks;
- :mod:`.objective`: which outputs the tolerance holds, and the hinge on them;
- :mod:`.optimisation`: the loop, ``E(w) = hinge(w) - mean(w)`` minimised with Adam;
- :mod:`.adam`: Adam projected onto [0, 1].
"""

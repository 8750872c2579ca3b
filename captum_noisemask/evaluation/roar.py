"""ROAR (Hooker et al., 2019): remove the top-ranked pixels in train and test, retrain, test.

If a map ranks the pixels the task needs first, a classifier retrained
without them loses accuracy faster than one retrained without randomly
chosen pixels. Removed pixels take the training set's mean intensity, as in
the ROAR paper. Cheap at MNIST scale: the small CNN retrains in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from ..labelled import LabelledImages
from .pixel_flipping import rank_features

#: Trains a fresh model on the first set and returns its accuracy on the second.
Retrain = Callable[[LabelledImages, LabelledImages], float]

#: Maps of ``(images, labels)``: an attribution method with its settings, e.g.
#: ``lambda x, y: Saliency(model).attribute(x, target=y)``.
Explainer = Callable[[Tensor, Tensor], Tensor]

__all__ = ["Explainer", "Retrain", "remove_top_fraction", "roar", "ROAR_FRACTIONS"]

#: Fractions of pixels removed, one retraining each.
ROAR_FRACTIONS = (0.1, 0.3, 0.5, 0.7, 0.9)


def remove_top_fraction(
    digits: LabelledImages, maps: Tensor, fraction: float, fill: float, seed: int = 0
) -> LabelledImages:
    """Replaces each image's top ``fraction`` of pixels (by ``maps``; ties at random) by ``fill``.

    Examples::

        >>> import torch
        >>> from captum_noisemask import LabelledImages
        >>> from captum_noisemask.evaluation.roar import remove_top_fraction
        >>> digits = LabelledImages(torch.ones(1, 1, 2, 2), torch.zeros(1, dtype=torch.long))
        >>> ranking = torch.tensor([[[[4.0, 3.0], [2.0, 1.0]]]])
        >>> remove_top_fraction(digits, ranking, 0.5, fill=0.0).images.flatten().tolist()
        [0.0, 0.0, 1.0, 1.0]
    """
    order = rank_features(maps, torch.Generator().manual_seed(seed))
    n_removed = int(round(fraction * order.shape[1]))
    removed = torch.zeros_like(order, dtype=torch.bool)
    removed.scatter_(1, order[:, :n_removed], True)
    images = digits.images.clone()
    images[removed.view(images.shape[0], 1, *images.shape[2:]).expand_as(images)] = fill
    return LabelledImages(images, digits.labels)


def roar(
    explainers: Mapping[str, Explainer],
    train_set: LabelledImages,
    test_set: LabelledImages,
    retrain: Retrain,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy of a classifier retrained after removal, per method and fraction.

    Explains every digit of ``train_set`` and ``test_set`` with each method
    (on the model the methods were built for), then calls ``retrain`` on each
    degraded training set and the equally degraded test set.

    Args:
        explainers (Mapping[str, Explainer]): Method name -> what ranks the
                    pixels (include a random map).
        train_set (LabelledImages): LabelledImages to degrade and retrain on.
        test_set (LabelledImages): LabelledImages to degrade and test on.
        retrain (Callable): ``retrain(train_set, test_set)`` trains a model
                    from scratch on ``train_set`` and returns its accuracy on
                    ``test_set``.
        seed (int, optional): Seeds tie-breaking. Default: 0

    Returns:
        *dict* with ``fractions``, ``accuracy`` (method name -> one accuracy
        per fraction) and ``fill`` (the value removed pixels take).
    """
    fill = float(train_set.images.mean())
    results: dict[str, list[float]] = {}
    for name, explain in explainers.items():
        maps = [explain(part.images, part.labels) for part in (train_set, test_set)]
        accuracies = []
        for fraction in ROAR_FRACTIONS:
            degraded_train = remove_top_fraction(train_set, maps[0], fraction, fill, seed)
            degraded_test = remove_top_fraction(test_set, maps[1], fraction, fill, seed)
            accuracies.append(retrain(degraded_train, degraded_test))
        results[name] = accuracies
    return {"fractions": list(ROAR_FRACTIONS), "accuracy": results, "fill": fill}

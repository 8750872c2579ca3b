"""NoiseMask next to Captum's methods, all through one loop over Attribution objects.

python examples/compare_methods.py [N_DIGITS]
"""

import sys

from captum_noisemask_lab.methods import explain_all, standard_methods
from captum_noisemask_lab.tasks import TASKS, prepare

n_images = int(sys.argv[1]) if len(sys.argv) > 1 else 4
setup = prepare(TASKS["mnist"])
images = setup.test_set.images[:n_images]
labels = setup.test_set.labels[:n_images]

# Any captum.attr.Attribution fits here: the loop only calls .attribute(images, target=labels).
methods = standard_methods(setup.trained.model)
results = explain_all(methods, images, labels)

print(f"{'method':<24}{'s / image':>10}{'map range':>22}")
for name, result in results.items():
    low, high = float(result.maps.min()), float(result.maps.max())
    print(f"{name:<24}{result.cost.seconds_per_image:>10.4f}{low:>11.3g} .. {high:<8.3g}")

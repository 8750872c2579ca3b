"""The pattern-among-distractors task and its two scores."""

from __future__ import annotations

import pytest
import torch

from captum_noisemask.evaluation.localisation import box_masks, pointing_game, top_k_in_box
from captum_noisemask_lab.tasks.patterns import CLASS_PATTERNS, PATTERN_SIZE, make_pattern_task


def test_the_pattern_of_the_label_sits_in_its_box() -> None:
    task = make_pattern_task(20, size=64, seed=2)
    assert task.data.images.shape == (20, 1, 64, 64)
    assert float(task.data.images.min()) >= 0 and float(task.data.images.max()) <= 1
    for image, label, (top, left, bottom, right) in zip(
        task.data.images, task.data.labels, task.boxes, strict=True
    ):
        assert bottom - top == right - left == PATTERN_SIZE
        stroke = image[0, top:bottom, left:right] > 0.5
        assert torch.equal(stroke, CLASS_PATTERNS[label].bool())
    # Four distractors drawn with the same ink: the box holds a minority of the stroke pixels.
    strokes = (task.data.images > 0.5).flatten(1).sum(1)
    in_box = ((task.data.images > 0.5)[:, 0] & box_masks(task.boxes, 64, 64)).flatten(1).sum(1)
    assert bool((in_box < 0.5 * strokes).all())
    assert torch.equal(task.data.images, make_pattern_task(20, size=64, seed=2).data.images)


def test_task_refuses_sizes_it_cannot_fill() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        make_pattern_task(1, size=16)
    with pytest.raises(ValueError, match="n_distractors"):
        make_pattern_task(1, size=32, n_distractors=9)


def test_a_perfect_map_beats_random_and_constant_maps_score_the_box_share() -> None:
    task = make_pattern_task(64, size=64, seed=0)
    perfect = box_masks(task.boxes, 64, 64).float()[:, None]
    random = torch.rand(64, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    constant = torch.zeros(64, 1, 64, 64)
    assert torch.equal(pointing_game(perfect, task.boxes), torch.ones(64))
    assert torch.equal(top_k_in_box(perfect, task.boxes), torch.ones(64))
    assert float(pointing_game(random, task.boxes).mean()) < 0.1
    assert float(top_k_in_box(random, task.boxes).mean()) < 0.1
    share = PATTERN_SIZE**2 / 64**2  # ties shared fairly: a constant map scores the box's share
    assert torch.allclose(pointing_game(constant, task.boxes), torch.full((64,), share))
    assert torch.allclose(top_k_in_box(constant, task.boxes), torch.full((64,), share))


def test_ties_at_the_kth_value_fill_the_remaining_places_in_proportion() -> None:
    boxes = torch.tensor([[0, 0, 2, 2]])  # 4 pixels in a 4 x 4 map
    scores = torch.zeros(1, 4, 4)
    scores[0, 0, 0] = 2.0  # one pixel in the box above the rest
    scores[0, 0, 1] = scores[0, 3, 3] = 1.0  # a tie at the 2nd value: one in, one out
    # k = 2: the top pixel (in) plus half of a place shared by the tie.
    assert float(top_k_in_box(scores, boxes, k=2)) == pytest.approx(0.75)
    scores[0, 0, 0] = 1.0  # now three pixels tie at the maximum, two inside
    assert float(pointing_game(scores, boxes)) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="k must be"):
        top_k_in_box(scores, boxes, k=17)

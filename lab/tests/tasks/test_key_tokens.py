"""The key-token text task: its ground truth, its classifier and its benchmark."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from captum_noisemask_lab import cli
from captum_noisemask_lab.tasks.key_tokens import KEYS, PAD, key_token_set


def test_every_sequence_holds_one_key_token_which_says_its_class() -> None:
    data = key_token_set(300, seed=4)
    is_key = (data.ids == KEYS[0]) | (data.ids == KEYS[1])
    assert is_key.sum(1).tolist() == [1] * 300
    rows = torch.arange(300)
    assert torch.equal(data.ids[rows, data.key_position], torch.tensor(KEYS)[data.labels])
    assert bool((data.attention_mask[rows, data.key_position] == 1).all())
    assert bool((data.ids[data.attention_mask == 0] == PAD).all())
    assert bool((data.ids[data.attention_mask == 1] != PAD).all())
    assert torch.equal(key_token_set(300, seed=4).ids, data.ids)  # reproducible


@pytest.mark.slow  # trains the text CNN and runs five methods
def test_the_benchmark_trains_explains_and_writes_every_method(tmp_path: Path) -> None:
    arguments = ["bench-key-tokens", "--sequences", "6", "--train", "600", "--out", str(tmp_path)]
    assert cli.main(arguments) == 0
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["NoiseMask (default problem)"]["key_token_first"] >= 0.5
    assert 0 <= written["LayerIntegratedGradients (pad baseline)"]["key_token_first"] <= 1
    assert written["_about"]["command"].endswith("--sequences 6 --train 600")

"""A text task with a known answer: the class is said by one key token among distractors.

Each sequence holds 6 to 16 tokens of a 64-token vocabulary, padded with id 0 to 16 and
given with its attention mask. Exactly one *key* token sits at a random place: id 1 for
class 0, id 2 for class 1; every other token is a distractor drawn from ids 3..63, and a
third of the distractors are *decoys* (ids 3..6) that appear equally in both classes. The
explanation's ground truth is the key token's position. A small text CNN (embedding, a
width-3 convolution, ReLU, masked max over tokens, linear) learns it here in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn import functional as F

__all__ = ["KeyTokenSet", "TextCNN", "key_token_set", "train_text_cnn", "PAD", "VOCABULARY"]

#: The padding id, the vocabulary size, the longest sequence.
PAD, VOCABULARY, LENGTH = 0, 64, 16
#: The key ids (class 0, class 1) and the decoy ids.
KEYS, DECOYS = (1, 2), range(3, 7)


@dataclass(frozen=True)
class KeyTokenSet:
    """Sequences ``ids`` ``(N, 16)``, their ``attention_mask`` (1 on tokens, 0 on padding),
    ``labels`` ``(N,)`` and the key token's position ``key_position`` ``(N,)``."""

    ids: Tensor
    attention_mask: Tensor
    labels: Tensor
    key_position: Tensor


def key_token_set(n: int, seed: int) -> KeyTokenSet:
    """``n`` sequences of the task, reproducibly from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    lengths = torch.randint(6, LENGTH + 1, (n,), generator=generator)
    ids = torch.randint(DECOYS.stop, VOCABULARY, (n, LENGTH), generator=generator)
    decoys = torch.rand(n, LENGTH, generator=generator) < 1 / 3
    ids[decoys] = torch.randint(
        DECOYS.start, DECOYS.stop, (int(decoys.sum()),), generator=generator
    )
    labels = torch.randint(0, 2, (n,), generator=generator)
    key_position = (torch.rand(n, generator=generator) * lengths).long()
    ids[torch.arange(n), key_position] = torch.tensor(KEYS)[labels]
    attention_mask = (torch.arange(LENGTH) < lengths.unsqueeze(1)).float()
    ids[attention_mask == 0] = PAD
    return KeyTokenSet(ids, attention_mask, labels, key_position)


class TextCNN(nn.Module):
    """Embedding -> width-3 convolution -> ReLU -> masked max over tokens -> 2 logits.

    Called as ``model(ids, attention_mask)``; padding never reaches the max.
    """

    def __init__(self, dim: int = 16, channels: int = 32) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCABULARY, dim, padding_idx=PAD)
        self.conv = nn.Conv1d(dim, channels, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(channels, 2)

    def forward(self, ids: Tensor, attention_mask: Tensor) -> Tensor:
        features = self.relu(self.conv(self.embedding(ids).transpose(1, 2)))
        # ReLU features are >= 0: zeroing padding keeps it out of the max.
        pooled = (features * attention_mask.unsqueeze(1)).amax(dim=2)
        return self.fc(pooled)


def train_text_cnn(train: KeyTokenSet, epochs: int = 8, seed: int = 0) -> TextCNN:
    """A :class:`TextCNN` trained with Adam on ``train``; returned in eval mode."""
    torch.manual_seed(seed)
    model = TextCNN()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(train.labels), generator=order).split(64):
            loss = F.cross_entropy(
                model(train.ids[batch], train.attention_mask[batch]), train.labels[batch]
            )
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()

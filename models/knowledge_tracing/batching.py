"""Padded batches of answer sequences, bucketed by length so that little of a batch is padding."""

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from models.knowledge_tracing.data import Sequence


class SequenceDataset(Dataset):
    def __init__(self, sequences: list[Sequence]):
        self.sequences = [s for s in sequences if len(s.skills)]

    def __len__(self) -> int:
        return len(self.sequences)

    def __getitem__(self, index: int) -> Sequence:
        return self.sequences[index]


class LengthBuckets(Sampler[list[int]]):
    """Batches of sequences of similar length; the batch order is shuffled when training.

    In data-parallel training (``torch.distributed`` initialised) each process takes its share of the
    batches: every process draws the same order (same seed), process r keeps batches r, r + n, r + 2n...
    When training (``shuffle``), each keeps as many as the others, so that every step's gradient
    all-reduce has a partner; a few batches an epoch are left out, others each epoch.
    """

    def __init__(self, dataset: SequenceDataset, batch_size: int, *, shuffle: bool, seed: int = 0):
        order = np.argsort([len(s.skills) for s in dataset.sequences], kind="stable")
        self.batches = [order[i:i + batch_size].tolist() for i in range(0, len(order), batch_size)]
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        order = self.rng.permutation(len(self.batches)) if self.shuffle else np.arange(len(self.batches))
        rank, processes = _process_share()
        mine = order[rank::processes][:len(self)]
        for i in mine:
            yield self.batches[i]

    def __len__(self) -> int:
        rank, processes = _process_share()
        if self.shuffle:
            return len(self.batches) // processes if processes > 1 else len(self.batches)
        return len(range(rank, len(self.batches), processes))


def _process_share() -> tuple[int, int]:
    """(this process's rank, how many processes) in data-parallel training; (0, 1) otherwise."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def collate(sequences: list[Sequence]) -> dict[str, torch.Tensor]:
    """Pad to the longest sequence. ``scored`` marks rows with history before their answer, past the context."""
    length = max(len(s.skills) for s in sequences)
    batch = {name: np.zeros((len(sequences), length), dtype=np.int64)
             for name in ("skills", "correct", "group_start")}
    scored = np.zeros((len(sequences), length), dtype=bool)
    for row, sequence in enumerate(sequences):
        n = len(sequence.skills)
        batch["skills"][row, :n] = sequence.skills
        batch["correct"][row, :n] = sequence.correct
        batch["group_start"][row, :n] = sequence.group_start
        scored[row, :n] = sequence.scored
    tensors = {name: torch.from_numpy(values) for name, values in batch.items()}
    tensors["scored"] = torch.from_numpy(scored)
    return tensors

"""Knowledge-tracing networks: no label leaks between the rows of one answer, windows score every row once."""

import numpy as np
import pytest
import torch

from models.knowledge_tracing.batching import collate
from models.knowledge_tracing.data import Sequence, adjacent_distinct_groups, one_row_per_answer
from models.knowledge_tracing.networks import NETWORKS
from models.knowledge_tracing.training import KnowledgeTracer, KnowledgeTracingModule, TrainingConfig, windows

N_SKILLS = 12


def _sequence(rng, length: int, groups: np.ndarray | None = None) -> Sequence:
    skills = rng.integers(1, N_SKILLS + 1, length)
    return Sequence(skills, rng.integers(0, 2, length), one_row_per_answer(skills) if groups is None else groups)


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_a_row_never_sees_the_labels_of_its_own_answer(network):
    """Rows 5-7 are one answer with three skills: flipping any of their labels leaves all three predictions
    unchanged, and changes the predictions after the answer."""
    torch.manual_seed(0)
    model = NETWORKS[network](N_SKILLS, hidden=16, dropout=0.0).eval()
    rng = np.random.default_rng(0)
    groups = np.arange(12)
    groups[5:8] = 5
    base = _sequence(rng, 12, groups)
    batch = collate([base])
    before = model(batch["skills"], batch["correct"], batch["group_start"])
    for flipped in (5, 6, 7):
        changed = batch["correct"].clone()
        changed[0, flipped] = 1 - changed[0, flipped]
        after = model(batch["skills"], changed, batch["group_start"])
        assert torch.allclose(before[0, :8], after[0, :8]), f"row {flipped}'s label leaked into its answer"
        assert not torch.allclose(before[0, 8:], after[0, 8:])
    assert batch["scored"][0].tolist() == [False] + [True] * 11  # the first answer has no history


def test_conservative_groups_join_consecutive_distinct_skills():
    assert adjacent_distinct_groups(np.array([1, 1, 2, 3, 3, 4, 3])).tolist() == [0, 1, 1, 1, 4, 4, 6]


@pytest.mark.parametrize("window", [0, 7, 50])
def test_prediction_scores_every_row_once_whatever_the_window(window):
    rng = np.random.default_rng(1)
    sequences = [_sequence(rng, n) for n in (1, 5, 23, 40)]
    config = TrainingConfig(network="dkt", hidden=8, window=window)
    tracer = KnowledgeTracer(KnowledgeTracingModule(N_SKILLS, config), N_SKILLS, config, 0, 0.5)
    probability, labels = tracer.predict(sequences)
    expected = np.concatenate([s.correct[1:] for s in sequences])
    assert len(probability) == len(expected) and (labels == expected).all()
    assert ((0 < probability) & (probability < 1)).all()
    # Training windows do not overlap and cover every row.
    assert sum(len(w.skills) for w in windows(sequences, window)) == sum(len(s.skills) for s in sequences)


def test_mastery_covers_every_skill_even_for_a_new_learner():
    config = TrainingConfig(network="attentive_dkt", hidden=8)
    tracer = KnowledgeTracer(KnowledgeTracingModule(N_SKILLS, config), N_SKILLS, config, 0, 0.5)
    rng = np.random.default_rng(2)
    for sequence in (_sequence(rng, 30), Sequence(np.array([], dtype=np.int64), np.array([], dtype=np.int64),
                                                  np.array([], dtype=np.int64))):
        mastery = tracer.mastery(sequence)
        assert sorted(mastery) == list(range(1, N_SKILLS + 1))
        assert all(0 < p < 1 for p in mastery.values())


@pytest.mark.parametrize("network", sorted(NETWORKS))
def test_mastery_is_the_prediction_of_a_next_answer_on_each_skill(network):
    torch.manual_seed(1)
    model = NETWORKS[network](N_SKILLS, hidden=16, dropout=0.0).eval()
    history = collate([_sequence(np.random.default_rng(3), 9)])
    mastery = model.mastery(history["skills"], history["correct"], torch.tensor([9]))
    for skill in (1, 5, N_SKILLS):
        skills = torch.cat([history["skills"], torch.tensor([[skill]])], dim=1)
        correct = torch.cat([history["correct"], torch.tensor([[0]])], dim=1)
        next_answer = torch.sigmoid(model(skills, correct, torch.arange(10).unsqueeze(0)))[0, 9]
        assert torch.isclose(mastery[0, skill], next_answer, atol=1e-5), skill

"""The boosted knowledge tracer: history features never read an answer's own labels, and it learns."""

import numpy as np
from sklearn.metrics import roc_auc_score

from models.knowledge_tracing.boosting import fit_boosted
from models.knowledge_tracing.data import Sequence, one_row_per_answer
from models.knowledge_tracing.history_features import FEATURES, history_rows, skill_priors

N_SKILLS = 6


def _learner(rng, length: int, ability: float) -> Sequence:
    """Answers that get likelier right with practice on the skill and with the learner's ability."""
    skills = rng.integers(1, N_SKILLS + 1, length)
    practised: dict[int, int] = {}
    correct = []
    for skill in skills.tolist():
        practised[skill] = practised.get(skill, 0) + 1
        p = 1 / (1 + np.exp(-(ability + 0.6 * practised[skill] - 0.4 * skill)))
        correct.append(int(rng.random() < p))
    return Sequence(skills, np.array(correct), one_row_per_answer(skills))


def test_rows_of_one_answer_are_described_from_the_history_before_it():
    skills = np.array([1, 2, 3, 4, 5, 1])
    groups = np.array([0, 1, 2, 2, 2, 5])  # rows 2-4 are one answer on three skills
    base = Sequence(skills, np.array([1, 0, 1, 0, 1, 1]), groups)
    prior, default = skill_priors([base])
    features, labels = history_rows([base], prior, default)
    assert features.shape == (5, len(FEATURES)) and labels.tolist() == [0, 1, 0, 1, 1]
    for flipped in (2, 3, 4):
        correct = base.correct.copy()
        correct[flipped] = 1 - correct[flipped]
        changed, _ = history_rows([Sequence(skills, correct, groups)], prior, default)
        assert np.array_equal(features[:4], changed[:4]), f"row {flipped}'s label leaked into its answer"
        assert not np.array_equal(features[4], changed[4]), "the next answer reads it"


def test_it_scores_the_rows_the_networks_score_and_learns_from_practice():
    rng = np.random.default_rng(0)
    train = [_learner(rng, 60, rng.normal()) for _ in range(300)]
    test = [_learner(rng, 60, rng.normal()) for _ in range(100)]
    tracer = fit_boosted(train, N_SKILLS, seeds=2)  # two models averaged, as the default five are; five only cost time here
    assert len(tracer.classifiers) == 2
    probability, labels = tracer.predict(test)
    assert len(labels) == sum(len(s.skills) - 1 for s in test)
    assert roc_auc_score(labels, probability) > 0.7, "held-out learners, not the training ones"
    network_rows = np.concatenate([s.correct[1:] for s in test])
    assert np.array_equal(labels, network_rows)


def test_mastery_rises_with_right_answers_on_a_skill():
    rng = np.random.default_rng(1)
    tracer = fit_boosted([_learner(rng, 60, rng.normal()) for _ in range(300)], N_SKILLS, seeds=1)
    fresh = Sequence(np.array([2, 3]), np.array([0, 1]), np.array([0, 1]))
    practised = Sequence(np.array([2, 3, 1, 1, 1, 1]), np.array([0, 1, 1, 1, 1, 1]), np.arange(6))
    before, after = tracer.mastery(fresh), tracer.mastery(practised)
    assert set(after) == set(range(1, N_SKILLS + 1)) and all(0 < p < 1 for p in after.values())
    assert after[1] > before[1]

"""Knowledge tracing trained data-parallel (Lightning DDP over gloo, two processes on the CPU) learns what one
process learns: the same held-out AUC within noise, the weights back in the calling process."""

import numpy as np
from sklearn.metrics import roc_auc_score

from models.knowledge_tracing.data import Sequence, one_row_per_answer
from models.knowledge_tracing.training import TrainingConfig, fit

N_SKILLS = 8


def _learners(rng, n: int, length: int = 60) -> list[Sequence]:
    """Answers that a model can learn: each learner's ability, each skill's difficulty, practice helps."""
    difficulty = np.linspace(-1.5, 1.5, N_SKILLS)
    sequences = []
    for _ in range(n):
        ability, practice = rng.normal(0, 1.5), np.zeros(N_SKILLS)
        skills = rng.integers(1, N_SKILLS + 1, length)
        correct = np.empty(length, dtype=np.int64)
        for t, skill in enumerate(skills):
            p = 1 / (1 + np.exp(-(ability - difficulty[skill - 1] + 0.3 * practice[skill - 1])))
            correct[t] = rng.random() < p
            practice[skill - 1] += 1
        sequences.append(Sequence(skills, correct, one_row_per_answer(skills)))
    return sequences


def test_two_processes_learn_what_one_learns():
    rng = np.random.default_rng(7)
    train, valid, test = _learners(rng, 200), _learners(rng, 40), _learners(rng, 80)
    config = TrainingConfig(network="dkt", hidden=16, batch_size=16, learning_rate=0.01, max_epochs=5, patience=5,
                            window=0)
    aucs = {}
    for processes in (1, 2):
        tracer = fit(train, valid, N_SKILLS, config, processes=processes)
        probability, labels = tracer.predict(test)
        aucs[processes] = roc_auc_score(labels, probability)
        assert 0 <= tracer.best_epoch < config.max_epochs and tracer.validation_auc > 0.6
    assert aucs[1] > 0.7 and abs(aucs[2] - aucs[1]) < 0.02, aucs

"""Curriculum neighbours: classmates (same skills, same order) speak for a learner, and no label leaks."""

import numpy as np
from sklearn.metrics import roc_auc_score

from models.knowledge_tracing import boosting
from models.knowledge_tracing.boosting import fit_boosted
from models.knowledge_tracing.curriculum_neighbours import FEATURES, CurriculumNeighbours
from models.knowledge_tracing.data import Sequence, one_row_per_answer

N_SKILLS = 8
# Two classes, each given its own skills first; skills 3 and 4 are in both, and class B finds 4 hard.
CURRICULA = {"A": [1, 2, 3, 4], "B": [5, 6, 3, 4]}  # skill 3 just before 4 in both
HARD = {"A": 0.85, "B": 0.3}  # chance of a right answer on skill 4


def _learner(rng, curriculum: str, answers_per_skill: int = 6) -> Sequence:
    skills = np.repeat(CURRICULA[curriculum], answers_per_skill)
    p = np.where(skills == 4, HARD[curriculum], 0.7)
    correct = (rng.random(len(skills)) < p).astype(np.int64)
    return Sequence(skills, correct, one_row_per_answer(skills))


def _class(rng, curriculum: str, learners: int) -> list[Sequence]:
    return [_learner(rng, curriculum) for _ in range(learners)]


def test_a_learner_is_described_by_the_classmates_given_the_same_skills():
    rng = np.random.default_rng(0)
    neighbours = CurriculumNeighbours.fit(_class(rng, "A", 40) + _class(rng, "B", 40), N_SKILLS)
    column = FEATURES.index("class_skill_accuracy")
    # Both learners reach skill 4 at row 18; only the skills before it tell their class.
    for curriculum in ("A", "B"):
        rows = neighbours.rows([_learner(rng, curriculum)])
        assert rows.shape == (23, len(FEATURES))
        assert abs(rows[17, column] - HARD[curriculum]) < 0.1, (curriculum, rows[17])
    after_class_b = Sequence(np.array([5, 6, 3]), np.array([1, 1, 1]), np.arange(3))
    assert abs(neighbours.after(after_class_b, 4)[column] - HARD["B"]) < 0.1


def test_only_skills_are_read_never_the_learners_own_answers():
    rng = np.random.default_rng(1)
    neighbours = CurriculumNeighbours.fit(_class(rng, "A", 20) + _class(rng, "B", 20), N_SKILLS)
    learner = _learner(rng, "B")
    flipped = Sequence(learner.skills, 1 - learner.correct, learner.group_start)
    assert np.array_equal(neighbours.rows([learner]), neighbours.rows([flipped]), equal_nan=True)


def test_rows_of_one_answer_are_described_from_the_skills_before_it():
    rng = np.random.default_rng(2)
    neighbours = CurriculumNeighbours.fit(_class(rng, "A", 20) + _class(rng, "B", 20), N_SKILLS)
    skills = np.array([5, 6, 3, 4, 1])
    together = Sequence(skills, np.ones(5, dtype=np.int64), np.array([0, 1, 2, 2, 4]))  # 3 and 4: one answer
    apart = Sequence(skills, np.ones(5, dtype=np.int64), np.arange(5))
    rows_together, rows_apart = neighbours.rows([together]), neighbours.rows([apart])
    assert np.array_equal(rows_together[2], neighbours.rows([Sequence(skills[[0, 1, 3]], np.ones(3, dtype=np.int64),
                                                                      np.arange(3))])[1], equal_nan=True)
    assert not np.array_equal(rows_together[2], rows_apart[2], equal_nan=True), "skill 3 was read before its answer"


def test_a_training_learner_is_not_their_own_neighbour():
    rng = np.random.default_rng(3)
    others = _class(rng, "A", 30)
    loner = Sequence(np.array([8, 8, 8, 8]), np.array([1, 1, 1, 1]), np.arange(4))  # the only one on skill 8
    neighbours = CurriculumNeighbours.fit([loner, *others], N_SKILLS)
    own = neighbours.rows([loner], training=True)
    assert np.isnan(own).all(), "nobody else practised skill 8: the learner's own answers must not show"
    assert not np.isnan(neighbours.rows([loner])).all(), "a new learner on skill 8 sees the one who did"


def test_the_boosted_tracer_reads_the_class_a_learner_is_in():
    rng = np.random.default_rng(4)
    train = _class(rng, "A", 150) + _class(rng, "B", 150)
    test = _class(rng, "A", 50) + _class(rng, "B", 50)
    tracer = fit_boosted(train, N_SKILLS)
    probability, labels = tracer.predict(test)
    on_hard_skill = np.concatenate([s.skills[1:] == 4 for s in test])
    assert roc_auc_score(labels[on_hard_skill], probability[on_hard_skill]) > 0.7
    class_b = Sequence(np.array([5, 6, 3]), np.array([1, 1, 1]), np.arange(3))
    class_a = Sequence(np.array([1, 2, 3]), np.array([1, 1, 1]), np.arange(3))
    assert tracer.mastery(class_a)[4] > tracer.mastery(class_b)[4] + 0.2


def test_neighbours_are_kept_only_where_they_help_on_held_out_learners(monkeypatch):
    rng = np.random.default_rng(5)
    train = _class(rng, "A", 150) + _class(rng, "B", 150)
    assert fit_boosted(train, N_SKILLS).neighbours is not None
    monkeypatch.setattr(boosting, "_neighbours_help", lambda *args: False)
    tracer = fit_boosted(train, N_SKILLS)
    assert tracer.neighbours is None
    probability, labels = tracer.predict(_class(rng, "B", 10))
    assert len(probability) == len(labels) == 10 * 23
    assert set(tracer.mastery(Sequence(np.array([5, 6, 3]), np.array([1, 1, 1]), np.arange(3)))) == set(
        range(1, N_SKILLS + 1))

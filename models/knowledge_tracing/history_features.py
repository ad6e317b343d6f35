"""What a learner's answers so far say about their next answer on a skill, as a feature row.

``HistoryState`` reads a learner's answers one at a time and, at any point, describes a
question on skill ``k`` by what came before: attempts and successes on ``k``, the signed
streak on ``k`` (ASSISTments skill builders end after three right in a row), how long ago
``k`` was practised, the learner's recent and overall accuracy, their accuracy against each
skill's difficulty (an ability estimate), and whether the question continues a run on ``k``;
since issue 31 also decayed counts of right and wrong answers on ``k`` (each older answer weighs
0.8 of the next, as in R-PFA), the share right of the last five on ``k``, and an Elo rating of the
learner against the skills' difficulties (validation AUC on assist2009 0.8343 -> 0.8356, test
0.830 -> 0.832 with the new boosting settings). These are the counts that logistic
knowledge-tracing models (PFA, "Best-LR") build on; a boosted tree model reads them without
hand-set weights.

Rows of one answer (several skills) are all described from the state before that answer and
only then read into it, so no row ever sees a sibling's label.
"""

from collections import deque

import numpy as np

from models.knowledge_tracing.data import Sequence, answers

RECENT = 20  # rows of "recent" history
FEATURES = (
    "skill", "previous_skill", "skill_attempts", "skill_correct", "skill_success_rate", "skill_streak",
    "rows_since_skill", "continues_skill", "last_correct", "accuracy_last_10", "accuracy_last_3", "rows_read",
    "accuracy", "skills_seen", "skill_moving_accuracy", "skill_last_correct", "run_length", "run_accuracy",
    "skill_in_recent", "moving_accuracy", "recent_distinct_skills", "ability", "ability_last_10",
    "first_try_accuracy", "first_tries", "skill_difficulty",
    "skill_decayed_right", "skill_decayed_wrong", "skill_accuracy_last_5", "elo_ability", "elo_expected",
)
CATEGORICAL = (0, 1)  # skill and previous skill
NEVER = 999.0  # rows since a skill never practised
UNKNOWN = -1.0


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


class HistoryState:
    """The running counts of one learner's history; ``skill_prior`` is each skill's training accuracy."""

    def __init__(self, skill_prior: dict[int, float], default_prior: float):
        self.prior, self.default_prior = skill_prior, default_prior
        self.attempts: dict[int, int] = {}
        self.correct: dict[int, int] = {}
        self.streak: dict[int, int] = {}
        self.last_row: dict[int, int] = {}
        self.moving: dict[int, float] = {}
        self.last_correct: dict[int, int] = {}
        self.answers: list[int] = []
        self.residuals: list[float] = []
        self.first_tries: list[int] = []
        self.recent: deque[int] = deque(maxlen=RECENT)
        self.previous_skill = 0
        self.run_length = self.run_correct = 0
        self.moving_all = 0.7
        self.decayed: dict[int, tuple[float, float]] = {}  # (right, wrong), each older answer x 0.8
        self.skill_answers: dict[int, list[int]] = {}
        self.elo = 0.0

    def describe(self, skill: int) -> list[float]:
        """The feature row (``FEATURES``) of a question on ``skill`` asked now."""
        rows = len(self.answers)
        attempts, correct = self.attempts.get(skill, 0), self.correct.get(skill, 0)
        continues = rows > 0 and self.previous_skill == skill
        last = self.answers[-10:]
        return [
            skill, self.previous_skill, attempts, correct, (correct + 1) / (attempts + 2), self.streak.get(skill, 0),
            rows - self.last_row[skill] if skill in self.last_row else NEVER, float(continues),
            self.answers[-1] if rows else UNKNOWN, np.mean(last) if rows else UNKNOWN,
            np.mean(self.answers[-3:]) if rows else UNKNOWN, rows, np.mean(self.answers) if rows else UNKNOWN,
            len(self.attempts), self.moving.get(skill, UNKNOWN), self.last_correct.get(skill, UNKNOWN),
            self.run_length if continues else 0, self.run_correct / self.run_length if continues else UNKNOWN,
            self.recent.count(skill), self.moving_all, len(set(self.recent)),
            np.mean(self.residuals) if rows else 0.0, np.mean(self.residuals[-10:]) if rows else 0.0,
            np.mean(self.first_tries) if self.first_tries else UNKNOWN, len(self.first_tries),
            self.prior.get(skill, self.default_prior),
            *self.decayed.get(skill, (0.0, 0.0)),
            np.mean(self.skill_answers[skill][-5:]) if skill in self.skill_answers else UNKNOWN,
            self.elo, self.elo + _logit(self.prior.get(skill, self.default_prior)),
        ]

    def read(self, skill: int, correct: int) -> None:
        """Take one answered row into the history."""
        rows = len(self.answers)
        if rows and self.previous_skill == skill:
            self.run_length, self.run_correct = self.run_length + 1, self.run_correct + correct
        else:
            self.run_length, self.run_correct = 1, correct
        first = skill not in self.attempts
        self.attempts[skill] = self.attempts.get(skill, 0) + 1
        self.correct[skill] = self.correct.get(skill, 0) + correct
        streak = self.streak.get(skill, 0)
        self.streak[skill] = (max(streak, 0) + 1) if correct else (min(streak, 0) - 1)
        self.moving[skill] = correct if first else 0.6 * self.moving[skill] + 0.4 * correct
        self.moving_all = 0.8 * self.moving_all + 0.2 * correct
        self.last_correct[skill] = correct
        self.last_row[skill] = rows
        self.answers.append(correct)
        self.residuals.append(correct - self.prior.get(skill, self.default_prior))
        if first:
            self.first_tries.append(correct)
        self.recent.append(skill)
        self.previous_skill = skill
        right, wrong = self.decayed.get(skill, (0.0, 0.0))
        self.decayed[skill] = (0.8 * right + correct, 0.8 * wrong + 1 - correct)
        self.skill_answers.setdefault(skill, []).append(correct)
        expected = 1 / (1 + np.exp(-(self.elo + _logit(self.prior.get(skill, self.default_prior)))))
        self.elo += 0.4 / (1 + 0.05 * rows) ** 0.5 * (correct - expected)


def skill_priors(sequences: list[Sequence]) -> tuple[dict[int, float], float]:
    """Each skill's smoothed share of right answers in ``sequences``, and the overall share."""
    skills = np.concatenate([s.skills for s in sequences]) if sequences else np.zeros(0, dtype=np.int64)
    correct = np.concatenate([s.correct for s in sequences]) if sequences else np.zeros(0, dtype=np.int64)
    overall = float(correct.mean()) if len(correct) else 0.5
    attempts = np.bincount(skills, minlength=1)
    right = np.bincount(skills, weights=correct, minlength=1)
    # Smoothed towards the overall share by five answers' worth, so rare skills are not extreme.
    return ({int(k): float((right[k] + 5 * overall) / (attempts[k] + 5)) for k in np.flatnonzero(attempts)},
            overall)


def history_rows(sequences: list[Sequence], skill_prior: dict[int, float], default_prior: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of every row with history before its answer, sequence by sequence, row by row.

    These are the rows ``KnowledgeTracer.predict`` scores, in the same order.
    """
    features, labels = [], []
    for sequence in sequences:
        state = HistoryState(skill_prior, default_prior)
        skills, correct, starts = sequence.skills.tolist(), sequence.correct.tolist(), sequence.group_start.tolist()
        for answer in answers(starts):
            if starts[answer[0]] > 0:  # the first answer has no history: not scored, as for the networks
                for row in answer:
                    features.append(state.describe(skills[row]))
                    labels.append(correct[row])
            for row in answer:
                state.read(skills[row], correct[row])
    return (np.asarray(features, dtype=np.float64).reshape(-1, len(FEATURES)),
            np.asarray(labels, dtype=np.int64))

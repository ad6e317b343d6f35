"""Reviews: which practised skills a learner should go back to, when, and why.

A forgetting model fitted on graded answers predicts the chance that a learner answers a skill
right at their next attempt, from what they did on it before and how long ago. It is a logistic
regression on the features of DASH (Lindsey et al., 2014) and half-life regression (Settles and
Meeder, 2016):

- the smoothed share of right answers on the skill so far, and over the last three;
- how many answers (log);
- the time since the last answer on the skill (log days) and the answers on other skills given
  since (log): what forgetting is measured by; data sets without times (ASSISTments) have the
  second only;
- the skill's ease: its smoothed share right over all learners (logit);
- the learner's *ability* on the skill: the Rasch model's estimate (a logit, prior N(0, 1)) from the
  learner's answers and how hard each question was for everyone (its share right, leaning on its
  skill's while it has few answers). Two wrong answers to questions most learners miss say less than
  two wrong answers to easy ones; the share right cannot tell them apart.

The review list ranks skills by the learner's chance of a right answer on a question of *average*
difficulty (the skill's ease set to the average): the learner's own weakness, not the difficulty of
the skill's questions. On the simulator this finds the truly weakest skills more often than the
lowest share right does (``review_evaluation.py``); the model's full prediction, ease included, is
what the next-answer measures score.

The weight of the time since the last practice is the forgetting the answers show: when it is
negative, a skill's chance falls day by day, and the skill is *due* on the day it is predicted to
fall under ``REVIEW_BELOW``. A skill already under it is due now. The review list puts due skills
first, weakest first, each with a reason in words ("Loops: you answered 2 of 7 right; last
practised 12 days ago") and the item that practises it at the learner's level.
"""

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sklearn.linear_model import LogisticRegression

REVIEW_BELOW = 0.7  # the chance of a right answer under which a skill is due (the recommender's learning zone)
RECENT = 3  # answers that make the "recent" share
EASE_PRIOR = 5.0  # answers' weight of the overall share right in a skill's ease (few answers: near the average)
ABILITY_PRIOR_SD = 1.0  # logits: a learner's standing on a skill is rarely more than two from the average
MAX_DUE_DAYS = 365
FEATURES = ("share_right", "recent_share_right", "log_answers", "log_days_since", "log_answers_since", "skill_ease",
            "ability")
DAYS, EASE = FEATURES.index("log_days_since"), FEATURES.index("skill_ease")


@dataclass(frozen=True)
class Answer:
    skill_id: str
    correct: bool
    at: datetime | None = None  # None: the data set has no times
    question_id: str | None = None  # None: the data set names skills only


@dataclass
class SkillRecord:
    """What a learner did on one skill so far."""

    answers: int = 0
    right: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT))
    last_at: datetime | None = None
    last_index: int = -1  # position of the last answer on the skill in the learner's answers
    answered: list = field(default_factory=list)  # (question id or None, right) of each answer, oldest first

    def add(self, answer: Answer, index: int) -> None:
        self.answered.append((answer.question_id, answer.correct))
        self.answers += 1
        self.right += answer.correct
        self.recent.append(answer.correct)
        self.last_at = answer.at or self.last_at
        self.last_index = index


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def ability(ease: np.ndarray, right: np.ndarray, prior_sd: float = ABILITY_PRIOR_SD) -> float:
    """The learner's standing on a skill: the most probable ``theta`` (a logit) of the Rasch model
    P(right) = sigmoid(theta + ease of the question), under a normal prior N(0, prior_sd^2), by
    Newton's method (the log posterior is concave). 0: answers like the average learner's on the same
    questions; a hard question answered wrong says little, an easy one answered wrong says much."""
    theta = 0.0
    for _ in range(50):
        chance = 1 / (1 + np.exp(-(theta + ease)))
        slope = float((right - chance).sum()) - theta / prior_sd**2
        curvature = float((chance * (1 - chance)).sum()) + 1 / prior_sd**2
        theta += slope / curvature
        if abs(slope / curvature) < 1e-6:
            break
    return theta


def records(answers: list[Answer]) -> dict[str, SkillRecord]:
    """Each skill's record after a learner's answers (oldest first)."""
    found: dict[str, SkillRecord] = {}
    for index, answer in enumerate(answers):
        found.setdefault(answer.skill_id, SkillRecord()).add(answer, index)
    return found


def days_between(earlier: datetime | None, later: datetime | None) -> float:
    if earlier is None or later is None:
        return 0.0
    return max(0.0, (later - earlier).total_seconds() / 86400)


@dataclass(frozen=True)
class Review:
    skill_id: str
    chance: float  # predicted chance of answering a question of average difficulty on the skill right now
    due_at: datetime | None  # when it falls under REVIEW_BELOW; None: not within a year (or no forgetting seen)
    answers: int
    right: int
    last_practised_at: datetime | None

    def due(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at <= now

    def reason(self, now: datetime) -> str:
        """What a learner reads after the skill's name: "you answered 2 of 7 right; last practised 12 days ago;
        ...". The name is left to whoever prints it ("Loops: ...", "review Loops: ..."), so it is never said
        twice. Not the chance itself: the learner's page charts the knowledge-tracing model's chance per skill, a figure of
        another model (it reads the order of answers, not the days between them), and two percentages for one
        skill side by side read as a contradiction."""
        parts = [f"you answered {self.right} of {self.answers} right"]
        if self.last_practised_at is not None:
            days = days_between(self.last_practised_at, now)
            parts.append("last practised today" if days < 1 else
                         f"last practised {int(days)} day{'s' if int(days) != 1 else ''} ago")
        if self.due_at is not None and self.due_at > now:
            parts.append(f"due in {max(1, math.ceil(days_between(now, self.due_at)))} days")
        return "; ".join(parts)


class ForgettingModel:
    """The chance of a right answer on a skill at a learner's next attempt (see the module's docstring)."""

    def __init__(self) -> None:
        self.ease: dict[str, float] = {}
        self.question_ease: dict[str, float] = {}
        self.average_ease = 0.0
        self.model: LogisticRegression | None = None

    def _ability(self, record: SkillRecord, skill_id: str) -> float:
        skill_ease = self.ease.get(skill_id, self.average_ease)
        ease = np.array([self.question_ease.get(q, skill_ease) if q is not None else skill_ease
                         for q, _ in record.answered])
        return ability(ease, np.array([right for _, right in record.answered], dtype=float))

    def _features(self, record: SkillRecord, skill_id: str, now: datetime | None, index: int) -> list[float]:
        return [
            _logit((record.right + 1) / (record.answers + 2)),
            _logit((sum(record.recent) + 1) / (len(record.recent) + 2)),
            math.log1p(record.answers),
            math.log1p(days_between(record.last_at, now)),
            math.log1p(max(0, index - record.last_index - 1)),
            self.ease.get(skill_id, self.average_ease),
            self._ability(record, skill_id),
        ]

    def fit(self, learners: list[list[Answer]]) -> "ForgettingModel":
        """Fit on learners' answers (each learner's oldest first): every answer on a skill practised before
        is a case."""
        totals: dict[str, list[int]] = {}
        questions: dict[str, list] = {}  # question -> [answers, right, its skill]
        for answers in learners:
            for answer in answers:
                total = totals.setdefault(answer.skill_id, [0, 0])
                total[0] += 1
                total[1] += answer.correct
                if answer.question_id is not None:
                    question = questions.setdefault(answer.question_id, [0, 0, answer.skill_id])
                    question[0] += 1
                    question[1] += answer.correct
        answered = sum(t[0] for t in totals.values())
        overall = sum(t[1] for t in totals.values()) / answered if answered else 0.5
        self.average_ease = _logit(overall)
        self.ease = {skill: _logit((right + EASE_PRIOR * overall) / (n + EASE_PRIOR))
                     for skill, (n, right) in totals.items()}
        # A question's ease leans on its skill's until it has answers of its own.
        skill_share = {skill: 1 / (1 + math.exp(-ease)) for skill, ease in self.ease.items()}
        self.question_ease = {q: _logit((right + EASE_PRIOR * skill_share[skill]) / (n + EASE_PRIOR))
                              for q, (n, right, skill) in questions.items()}
        rows, labels = self.cases(learners)
        if len(set(labels)) < 2:
            raise ValueError(f"{len(labels)} repeated answers, all {'right' if labels and labels[0] else 'wrong'}: "
                             "too few to fit a forgetting model")
        self.model = LogisticRegression(C=1.0, max_iter=1000).fit(np.array(rows), np.array(labels))
        return self

    def cases(self, learners: list[list[Answer]], *, min_answers_since: int = 0, since: datetime | None = None
              ) -> tuple[list[list[float]], list[int]]:
        """(features, right or not) of every answer on a skill answered before, with at least
        ``min_answers_since`` answers on other skills in between (and given at ``since`` or later: the
        answers before are context only)."""
        rows, labels = [], []
        for answers in learners:
            seen: dict[str, SkillRecord] = {}
            for index, answer in enumerate(answers):
                record = seen.get(answer.skill_id)
                if (record is not None and index - record.last_index - 1 >= min_answers_since
                        and (since is None or (answer.at is not None and answer.at >= since))):
                    rows.append(self._features(record, answer.skill_id, answer.at, index))
                    labels.append(int(answer.correct))
                seen.setdefault(answer.skill_id, SkillRecord()).add(answer, index)
        return rows, labels

    def predict(self, rows: list[list[float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        return self.model.predict_proba(np.array(rows))[:, 1]

    @property
    def forgetting_per_log_day(self) -> float:
        """The weight of log(1 + days since the last practice): negative when answers show forgetting."""
        return float(self.model.coef_[0][DAYS])

    def reviews(self, answers: list[Answer], now: datetime, skills: set[str] | None = None) -> list[Review]:
        """The practised skills (of ``skills``, when given), due first, then by chance of a right answer on a
        question of average difficulty (so a skill is not picked for having hard questions)."""
        found = []
        for skill, record in records(answers).items():
            if skills is not None and skill not in skills:
                continue
            row = self._features(record, skill, now, len(answers))
            row[EASE] = self.average_ease  # the learner's chance, not the skill's questions': see the docstring
            chance = float(self.predict([row])[0])
            found.append(Review(skill, chance, self._due_at(row, chance, record.last_at, now), record.answers,
                                record.right, record.last_at))
        return sorted(found, key=lambda r: (not r.due(now), r.chance, r.skill_id))

    def _due_at(self, row: list[float], chance: float, last_at: datetime | None, now: datetime) -> datetime | None:
        """When the chance falls (or fell) under REVIEW_BELOW as days pass since the last practice, the other
        features held; a skill under it without forgetting in the answers has been due since then."""
        weight = self.forgetting_per_log_day
        if last_at is None or weight >= 0:
            # No times, or no forgetting in the answers: the chance does not change by waiting.
            return (last_at or now) if chance < REVIEW_BELOW else None
        # How much log(1 + days) must change for the chance to reach the line (negative: it did already).
        to_line = (_logit(REVIEW_BELOW) - _logit(chance)) / weight
        days = math.expm1(max(0.0, row[DAYS] + to_line))
        return None if days > MAX_DUE_DAYS else last_at + timedelta(days=days)

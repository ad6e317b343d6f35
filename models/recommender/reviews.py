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
- the skill's ease: its smoothed share right over all learners (logit).

The weight of the time since the last practice is the forgetting the answers show: when it is
negative, a skill's chance falls day by day, and the skill is *due* on the day it is predicted to
fall under ``REVIEW_BELOW``. A skill already under it is due now. The review list puts due skills
first, weakest first, each with a reason in words ("you answered 2 of 7 on Loops right; last
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
MAX_DUE_DAYS = 365
FEATURES = ("share_right", "recent_share_right", "log_answers", "log_days_since", "log_answers_since", "skill_ease")
DAYS = FEATURES.index("log_days_since")


@dataclass(frozen=True)
class Answer:
    skill_id: str
    correct: bool
    at: datetime | None = None  # None: the data set has no times


@dataclass
class SkillRecord:
    """What a learner did on one skill so far."""

    answers: int = 0
    right: int = 0
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT))
    last_at: datetime | None = None
    last_index: int = -1  # position of the last answer on the skill in the learner's answers

    def add(self, answer: Answer, index: int) -> None:
        self.answers += 1
        self.right += answer.correct
        self.recent.append(answer.correct)
        self.last_at = answer.at or self.last_at
        self.last_index = index


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


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
    chance: float  # predicted chance of answering the skill right now
    due_at: datetime | None  # when it falls under REVIEW_BELOW; None: not within a year (or no forgetting seen)
    answers: int
    right: int
    last_practised_at: datetime | None

    def due(self, now: datetime) -> bool:
        return self.due_at is not None and self.due_at <= now

    def reason(self, name: str, now: datetime) -> str:
        """What a learner reads: "you answered 2 of 7 on Loops right; last practised 12 days ago; ..."."""
        parts = [f"you answered {self.right} of {self.answers} on {name} right"]
        if self.last_practised_at is not None:
            days = days_between(self.last_practised_at, now)
            parts.append("last practised today" if days < 1 else
                         f"last practised {int(days)} day{'s' if int(days) != 1 else ''} ago")
        parts.append(f"chance of a right answer now {self.chance:.0%}")
        if self.due_at is not None and self.due_at > now:
            parts.append(f"due in {max(1, math.ceil(days_between(now, self.due_at)))} days")
        return "; ".join(parts)


class ForgettingModel:
    """The chance of a right answer on a skill at a learner's next attempt (see the module's docstring)."""

    def __init__(self) -> None:
        self.ease: dict[str, float] = {}
        self.average_ease = 0.0
        self.model: LogisticRegression | None = None

    def _features(self, record: SkillRecord, skill_id: str, now: datetime | None, index: int) -> list[float]:
        return [
            _logit((record.right + 1) / (record.answers + 2)),
            _logit((sum(record.recent) + 1) / (len(record.recent) + 2)),
            math.log1p(record.answers),
            math.log1p(days_between(record.last_at, now)),
            math.log1p(max(0, index - record.last_index - 1)),
            self.ease.get(skill_id, self.average_ease),
        ]

    def fit(self, learners: list[list[Answer]]) -> "ForgettingModel":
        """Fit on learners' answers (each learner's oldest first): every answer on a skill practised before
        is a case."""
        totals: dict[str, list[int]] = {}
        for answers in learners:
            for answer in answers:
                total = totals.setdefault(answer.skill_id, [0, 0])
                total[0] += 1
                total[1] += answer.correct
        answered = sum(t[0] for t in totals.values())
        overall = sum(t[1] for t in totals.values()) / answered if answered else 0.5
        self.average_ease = _logit(overall)
        self.ease = {skill: _logit((right + EASE_PRIOR * overall) / (n + EASE_PRIOR))
                     for skill, (n, right) in totals.items()}
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
        """The practised skills (of ``skills``, when given), due first, then by chance of a right answer."""
        found = []
        for skill, record in records(answers).items():
            if skills is not None and skill not in skills:
                continue
            row = self._features(record, skill, now, len(answers))
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

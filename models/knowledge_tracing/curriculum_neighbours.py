"""How the training learners who were given the same skills, in the same order, did on a skill.

A teacher gives a class the same skill builders in the same order, and classmates do alike on
them: a class's accuracy on a skill says something that one learner's own short history cannot.
Each training learner is described by the skills they practised and the transitions between
consecutive distinct skills (the order they were given), TF-IDF weighted and of unit length.
For a question on skill ``k`` after a history, the ``NEIGHBOURS`` training learners most alike
(cosine over the same description of the history, plus ``k`` and the step to it) who practised
``k`` give the features ``FEATURES``: their accuracy on ``k``, their attempts on it, their
first answer on it, their answer at this learner's attempt number on it, how alike they are,
and the accuracy of the most alike learners overall.

Only the skills of a history are read, never its answers, so no label can leak through these
features; rows of one answer are described from the skills before that answer. A training
learner is never their own neighbour (``rows(..., training=True)``).

On assist2009 (``learnlake eval kt``), the boosted model with these features: validation AUC
0.8358 -> 0.8385, test 0.8317 -> 0.8334, and the hybrid 0.8326 -> 0.8345 (skills alone, without
the order: boosted test 0.8330, hybrid 0.8339; 10 neighbours or 60 score alike, 120 lower). The
boosted model keeps them only where they help on held-out training learners (``boosting.py``).
On the first fold's training file instead (``*_train1.csv``, 2,062 training learners), the hybrid
0.8312 -> 0.8328 (boosted 0.8303 -> 0.8317). The gain is not the 153 test learners whose whole record
repeats a training learner's (756 scored rows): without them, boosted 0.8318 -> 0.8337, the same gain as
on all rows (0.8323 -> 0.8342, five seeds each).
The profiles are sparse (tens of tokens per learner): on assist2009 the fitted neighbours pickle to
8 MB, against 41 MB as a dense matrix, and describing the test file's rows takes 5 s, against 7.5 s.
"""

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from scipy import sparse

from models.knowledge_tracing.data import Sequence, answers

NEIGHBOURS = 20
FEATURES = ("class_skill_accuracy", "class_skill_attempts", "class_first_try_accuracy",
            "class_accuracy_at_attempt", "class_similarity", "class_accuracy")
_MISSING = [np.nan] * len(FEATURES)  # no training learner practised the skill: the trees route NaN apart


def _step_token(a: int, b: int, size: int) -> int:
    """The token of a step from skill ``a`` to skill ``b`` (skills are tokens below ``size``)."""
    return size + a * size + b


def _tokens(skills: list[int], size: int) -> set[int]:
    """The skills, and each step between consecutive distinct skills as one more token."""
    return set(skills) | {_step_token(a, b, size) for a, b in pairwise(skills) if a != b}


@dataclass
class CurriculumNeighbours:
    size: int  # skill ids are below it
    columns: dict[int, int]  # token -> column of ``profiles``
    idf: np.ndarray  # per column
    profiles: sparse.csc_array  # (learners, columns), TF-IDF rows of unit length: tens of tokens per learner
    attempts: np.ndarray  # (learners, size)
    accuracy: np.ndarray  # (learners, size), 0 where not practised
    answers: list[dict[int, np.ndarray]]  # each learner's answers on each skill, in order
    overall: np.ndarray  # each learner's accuracy
    practised_by: list[np.ndarray]  # per skill, the learners who practised it

    @classmethod
    def fit(cls, train: list[Sequence], n_skills: int) -> "CurriculumNeighbours":
        size = n_skills + 1
        tokens = [_tokens(s.skills.tolist(), size) for s in train]
        columns: dict[int, int] = {}
        for learner in tokens:
            for token in sorted(learner):
                columns.setdefault(token, len(columns))
        learner_of = np.repeat(np.arange(len(train)), [len(learner) for learner in tokens])
        column_of = np.array([columns[t] for learner in tokens for t in learner], dtype=np.int64)
        idf = np.log(len(train) / (1 + np.bincount(column_of, minlength=len(columns)))).astype(np.float32)
        weight = idf[column_of]
        norm = np.sqrt(np.bincount(learner_of, weights=weight.astype(np.float64) ** 2, minlength=len(train)))
        profiles = sparse.csc_array(((weight / (norm[learner_of] + 1e-9)).astype(np.float32), (learner_of, column_of)),
                                    shape=(len(train), len(columns)))
        attempts, right = np.zeros((len(train), size)), np.zeros((len(train), size))
        answers = []
        for row, s in enumerate(train):
            np.add.at(attempts[row], s.skills, 1)
            np.add.at(right[row], s.skills, s.correct)
            answers.append({int(k): s.correct[s.skills == k] for k in np.unique(s.skills)})
        accuracy = right / np.maximum(attempts, 1)
        overall = np.array([s.correct.mean() if len(s.correct) else np.nan for s in train])
        practised_by = [np.flatnonzero(attempts[:, k]) for k in range(size)]
        return cls(size, columns, idf, profiles, attempts, accuracy, answers, overall, practised_by)

    def _dot(self, tokens: set[int]) -> tuple[np.ndarray, float]:
        """Each learner's profile dotted with the TF-IDF of ``tokens`` (not yet normalised), and its squared norm."""
        dot, norm2 = np.zeros(self.profiles.shape[0]), 0.0
        p = self.profiles
        for column in (self.columns[t] for t in tokens if t in self.columns):  # a skill and a step, mostly
            learners = slice(p.indptr[column], p.indptr[column + 1])  # only the learners with the token
            dot[p.indices[learners]] += p.data[learners] * self.idf[column]
            norm2 += float(self.idf[column]) ** 2
        return dot, norm2

    def _neighbours(self, dot: np.ndarray, norm2: float, skill: int, exclude: int | None) -> tuple | None:
        """(the most alike learners who practised ``skill``, their cosine similarity, ``FEATURES`` but the one at
        an attempt), or None when nobody practised it."""
        similarity = dot / (np.sqrt(norm2) + 1e-9)
        if exclude is not None:
            similarity[exclude] = -np.inf
        candidates = self.practised_by[skill] if 0 <= skill < self.size else np.zeros(0, dtype=np.int64)
        candidates = candidates[np.isfinite(similarity[candidates])]
        if not len(candidates):
            return None
        if len(candidates) > NEIGHBOURS:
            candidates = candidates[np.argpartition(-similarity[candidates], NEIGHBOURS)[:NEIGHBOURS]]
        weights = np.maximum(similarity[candidates], 1e-3)
        alike = np.argpartition(-similarity, min(NEIGHBOURS, len(similarity) - 1))[:NEIGHBOURS]
        alike = alike[np.isfinite(similarity[alike])]
        features = [float(np.average(self.accuracy[candidates, skill], weights=weights)),
                    float(np.average(self.attempts[candidates, skill], weights=weights)),
                    float(np.average([self.answers[j][skill][0] for j in candidates], weights=weights)),
                    float(weights.mean()), float(np.nanmean(self.overall[alike]))]
        return [self.answers[j][skill] for j in candidates.tolist()], weights.tolist(), features

    def _describe(self, neighbours: tuple | None, attempt: int) -> list[float]:
        """``FEATURES`` of a question, this learner's ``attempt``-th on its skill (from 0)."""
        if neighbours is None:
            return _MISSING
        answers, weights, (accuracy, attempts, first_try, similarity, alike_accuracy) = neighbours
        # Their answer at the same attempt, among those who went on that long (plain Python: called per row).
        reached = [(w, a[attempt]) for a, w in zip(answers, weights, strict=True) if attempt < len(a)]
        total = sum(w for w, _ in reached)
        at_attempt = sum(w * float(c) for w, c in reached) / total if reached else np.nan
        return [accuracy, attempts, first_try, at_attempt, similarity, alike_accuracy]

    def rows(self, sequences: list[Sequence], *, training: bool = False) -> np.ndarray:
        """``FEATURES`` of every row with history, in ``history_rows``'s order. With ``training``, the
        sequences are the fitted learners, in order, and none is its own neighbour."""
        out = []
        for index, sequence in enumerate(sequences):
            skills, starts = sequence.skills.tolist(), sequence.group_start.tolist()
            exclude = index if training else None
            # The tokens of the skills read so far, grown answer by answer, and the learners' profiles dotted
            # with them: kept as they grow, so that each question adds only its own skill and step.
            history: set[int] = set()
            history_dot, history_norm2 = np.zeros(self.profiles.shape[0]), 0.0
            last, version = None, 0
            attempts: dict[int, int] = {}
            found: dict[tuple[int, int], tuple | None] = {}  # (version of the history, skill) -> neighbours
            for answer in answers(starts):
                if starts[answer[0]] > 0:  # every row of this answer is described from the skills before it
                    for k in skills[answer.start:answer.stop]:
                        if (version, k) not in found:
                            dot, norm2 = self._dot(self._step(last, k) - history)
                            found[version, k] = self._neighbours(history_dot + dot, history_norm2 + norm2, k, exclude)
                        out.append(self._describe(found[version, k], attempts.get(k, 0)))
                for k in skills[answer.start:answer.stop]:  # only then read into the history
                    new = self._step(last, k) - history
                    if new:
                        dot, norm2 = self._dot(new)
                        history |= new
                        history_dot, history_norm2, version = history_dot + dot, history_norm2 + norm2, version + 1
                    attempts[k], last = attempts.get(k, 0) + 1, k
        return np.asarray(out, dtype=np.float64).reshape(-1, len(FEATURES))

    def _step(self, last: int | None, skill: int) -> set[int]:
        """The tokens that ``skill`` asked after ``last`` adds: the skill, and the transition when it changes."""
        return {skill} | ({_step_token(last, skill, self.size)} if last is not None and last != skill else set())

    def after(self, sequence: Sequence, skill: int) -> list[float]:
        """``FEATURES`` of a question on ``skill`` asked after the whole of ``sequence``."""
        skills = sequence.skills.tolist()
        tokens = _tokens(skills, self.size) | self._step(skills[-1] if skills else None, skill)
        return self._describe(self._neighbours(*self._dot(tokens), skill, None), skills.count(skill))

"""Grading a short written answer against an instructor's reference answer and key points.

Each key point (the reference answer itself when none are given) is **covered** when the answer
says it: word for word, or in other words (nearly all its content words, stemmed, or a MiniLM
sentence similarity of ``SAME_MEANING``), never without its exact values in its order (numbers, code,
quoted text: "126.0" is not "26.0", however alike the sentences), and never negated ("not ...").
Values the answer's claim adds (not its reasons: what follows "because") that the question and the
reference do not have, and alternatives offered beside it ("False, or maybe True"), are
**conflicts**: they cost a point and send the answer to a person. The score is the share of key
points covered, on the item's scale.

The **confidence** is how far every decision was from its threshold: a verbatim match or an
answer with little in common is sure; an answer between "surely not" (``MAYBE_MEANING``,
``SOME_WORDS``) and "in other words", a similarity just over the line, or a conflict is not, and
an answer graded with confidence under ``REVIEW_BELOW`` waits in the instructor's review queue.
The thresholds were chosen on the development split of ``learnlake eval grading``
(``models/assessment/evaluation.py``), never on its held-out split. That set has no right answers in
other words (each contains the reference), so it measures only what the paraphrase path lets through
wrongly; the thresholds are high for that reason, and what they let through is near the line, so
not sure: a person checks it.
"""

import math
import re
from dataclasses import dataclass, field

import numpy as np

from models.embeddings import embed
from models.tutor.retrieval import tokens

SAME_MEANING = 0.90  # MiniLM cosine from which a sentence says the key point in other words
MOST_WORDS = 0.90  # share of a key point's content words (stemmed) that says it in other words
MAYBE_MEANING = 0.70  # under both this cosine and SOME_WORDS, an answer surely does not make the point
SOME_WORDS = 0.50
REVIEW_BELOW = 0.7  # confidence under which a person checks the grade
SURE = 0.97  # confidence of a decision with evidence far from every threshold
SHORT_ANSWER_WORDS = 5  # points this short are what "X or Y" hedges

# Values an answer must give exactly, in the reference's order: numbers, quoted text, code (identifiers
# with _ . or (), operators, Python's constants and exception names).
VALUE = re.compile(r"""\b(?:True|False|None|[A-Z]\w*(?:Error|Exception))\b"""
                   r"""|(?<!\w)-?(?:\d+(?:\.\d+)?|\.\d+)(?!\w)|"[^"]*"|(?<!\w)'[^'\n]*'(?!\w)|`[^`]+`"""
                   r"""|[A-Za-z_]\w*(?:[._]\w+|\(\))+|(?<!\S)(?:\*\*|//|[-+*/%=<>!]=?)(?!\S)""")
SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
# Reasons given after the answer ("126.0, because 6.0 + 20.0 ...") name values that do not compete with it.
REASON = re.compile(r"[,;:]?\s+\b(?:because|since|as|so|therefore|thus|hence)\b", re.IGNORECASE)
# An answer that offers another beside the right one ("False, or maybe True") hedges: it is not sure which.
HEDGE = re.compile(r"\b(?:or|either|maybe|perhaps|possibly)\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(?:not|no|never|none|cannot|nothing)\b|n't\b", re.IGNORECASE)


@dataclass(frozen=True)
class Assessment:
    """What an instructor sets on a free-text item: the reference answer, the key points a full answer
    makes (none: the reference answer is the one point), and the scale."""

    reference: str
    key_points: tuple[str, ...] = ()
    points: int = 2

    def points_to_cover(self) -> tuple[str, ...]:
        return self.key_points or (self.reference,)


@dataclass(frozen=True)
class Grade:
    score: int  # 0 .. points
    points: int
    confidence: float  # 0 .. 1
    covered: list[str] = field(default_factory=list)  # key points the answer makes
    missed: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # values the answer adds that the reference has not

    @property
    def needs_review(self) -> bool:
        return self.confidence < REVIEW_BELOW

    @property
    def share(self) -> float:
        return self.score / self.points if self.points else 0.0


def normalised(text: str) -> str:
    """Lower case, one kind of quote, no backticks, single spaces, no closing punctuation."""
    text = text.replace("`", "").replace("\u2018", "'").replace("\u2019", "'").replace("\u201c", '"')
    return " ".join(text.replace("\u201d", '"').lower().split()).strip(" .,;:!?")


def _values(text: str) -> list[str]:
    return [value for value in map(normalised, VALUE.findall(text)) if value]


def _in_order(wanted: list[str], given: list[str]) -> bool:
    """Every value of ``wanted``, in its order, among ``given`` (others may come between)."""
    remaining = iter(given)
    return all(value in remaining for value in wanted)


def claim(answer: str) -> str:
    """The answer without the reasons given for it: what it claims."""
    return REASON.split(answer, maxsplit=1)[0]


def _hedges(claimed: str, points: tuple[str, ...]) -> bool:
    """The claim offers alternatives beside a short answer ("False, or maybe True"), outside the words of
    the points (whose own "or" is theirs). In answers of several words "or" is ordinary prose."""
    if any(len(_words(point)) > SHORT_ANSWER_WORDS for point in points):
        return False
    rest = normalised(claimed)
    for point in points:
        rest = rest.replace(normalised(point), " ")
    return HEDGE.search(rest) is not None


def _negated_differently(claimed: str, point: str) -> bool:
    """The claim's sentence nearest the point (most shared words) and the point disagree on "not"."""
    wanted = set(tokens(point))
    nearest = max(_sentences(claimed), key=lambda sentence: len(wanted & set(tokens(sentence))))
    return len(NEGATION.findall(nearest)) % 2 != len(NEGATION.findall(point)) % 2


def _sentences(text: str) -> list[str]:
    return [part for part in SENTENCE_END.split(text.strip()) if part.strip()] or [text]


def contains(answer: str, point: str) -> bool:
    """The point's words, in order, inside the answer's (a whole-token match: "1" is not in "126.0")."""
    said, wanted = _words(answer), _words(point)
    return bool(wanted) and any(said[i:i + len(wanted)] == wanted for i in range(len(said) - len(wanted) + 1))


def _words(text: str) -> list[str]:
    return [word for word in (w.strip(".,;:!?") for w in normalised(text).split()) if word]


def _word_recall(answer: str, point: str) -> float | None:
    wanted = {word for word in tokens(point) if word[0].isalnum() or word[0] == "_"}
    if not wanted:
        return None  # nothing but values and stop words: only an exact match says it
    return len(wanted & set(tokens(answer))) / len(wanted)


def _certainty(margin: float) -> float:
    """From a decision's distance to its threshold (0: on the line) to a confidence in 0.5 .. SURE."""
    return 0.5 + (SURE - 0.5) * (1 - math.exp(-margin / 0.08))


def grade(question: str, assessment: Assessment, answer: str, *, similarity=None) -> Grade:
    """Grade ``answer`` to ``question``. ``similarity(point, sentences)``, the best cosine of the point to
    any of the answer's sentences, defaults to MiniLM (``semantic_similarity``)."""
    similarity = similarity or semantic_similarity
    claimed = claim(answer)
    claimed_values = _values(claimed)
    covered, missed, certainties = [], [], []
    sentences = _sentences(answer)
    for point in assessment.points_to_cover():
        point_values = _values(point)
        if _negated_differently(claimed, point):
            missed.append(point)  # "not all numbers are less than 5" says the opposite of the point
            certainties.append(_certainty(0.1))
        elif contains(answer, point):
            covered.append(point)
            certainties.append(SURE)
        elif not _in_order(point_values, _values(answer)):
            missed.append(point)  # a value the point needs is missing, different or elsewhere: not said
            certainties.append(SURE if not set(point_values) & set(claimed_values) else _certainty(0.1))
        else:
            cosine, recall = similarity(point, sentences), _word_recall(answer, point)
            above = max([cosine - SAME_MEANING] + ([recall - MOST_WORDS] if recall is not None else []))
            below = min([MAYBE_MEANING - cosine] + ([SOME_WORDS - recall] if recall is not None else []))
            (covered if above >= 0 else missed).append(point)
            # Said, sure by how far above the line; not said, sure only when far from saying it at all.
            certainties.append(_certainty(above) if above >= 0 else
                               _certainty(below) if below > 0 else REVIEW_BELOW - 0.1)
    known = {*_values(question), *_values(assessment.reference), *(v for p in assessment.key_points for v in _values(p))}
    conflicts = sorted(set(claimed_values) - known)
    if covered and _hedges(claimed, assessment.points_to_cover()):
        conflicts.append("another answer offered beside it")
    score = round(assessment.points * len(covered) / len(certainties))
    confidence = min(certainties)
    if conflicts and covered:
        score = max(score - 1, 0)
        confidence = min(confidence, REVIEW_BELOW - 0.1)  # a right answer hedged with another: a person decides
    return Grade(score=score, points=assessment.points, confidence=round(confidence, 3), covered=covered,
                 missed=missed, conflicts=conflicts)


def semantic_similarity(point: str, sentences: list[str]) -> float:
    """The best MiniLM cosine between the point and any of the sentences (or all of them together)."""
    texts = [point, *sentences] + ([" ".join(sentences)] if len(sentences) > 1 else [])
    vectors = embed(texts)
    return float(np.max(vectors[1:] @ vectors[0]))

"""``learnlake eval grading``: the short-answer grader against a set built from the OpenStax questions.

No short-answer grading data set ships in a package here (SemEval-2013's SciEntsBank and Beetle, or
Mohler's, are on hubs this machine cannot reach), so one is built from the book's H5P multiple-choice
questions, as the issue allows. For each question with one correct option, the instructor's reference
answer is that option's text and the written answers graded are:

- **right, 2 points**: the correct option as a learner might write it ("I think it is 126.0"), and the
  correct option followed by the book's own explanation of it ("126.0, because ...": the author's words,
  which often name other values along the way);
- **hedged, 1 point**: the correct option and a wrong one ("126.0 or 26.0");
- **wrong, 0**: each wrong option as a learner might write it, and the correct answer of another question
  of the same chapter (an answer to another question).

The wordings come from a fixed list, picked by a hash of the question id, so the set is the same on every
run. It measures frames, reasons, hedges and wrong values however alike the sentence, but no right answer
in it is in other words (each contains the reference), and it is built, not written by learners: its
figures are not comparable with published short-answer grading results. Questions of every third chapter are kept aside as in
``eval rag`` (``held_out``); the grader's thresholds and the baselines' cut-offs are chosen on the
development split and reported on both.

Baselines: an exact match after normalising case, spaces and closing punctuation (what a quiz engine
does with a typed answer); the reference's words, in order, anywhere in the answer (the grader's first
test alone, the strongest baseline on a set whose right answers all contain the reference); word overlap
(F1 of the normalised words) and MiniLM similarity to the reference, each with its two cut-offs (1 and 2
points) chosen for the best kappa on the development split.
"""

import hashlib
import itertools
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from rich.progress import track
from sklearn.metrics import cohen_kappa_score

from models.assessment.short_answers import Assessment, contains, grade, normalised
from models.embeddings import embed
from models.headline import HEADLINE, against_strongest
from models.tutor.rag_evaluation import CHAPTER, held_out, read_questions

POINTS = 2
RIGHT_WORDINGS = ("{a}", "I think it is {a}", "The answer is {a}.", "It's {a}", "{a}, I believe")
HEDGED_WORDINGS = ("{a} or {b}", "Either {a} or {b}", "{a}, or maybe {b}")
CUT_OFFS = np.round(np.arange(0.05, 1.0, 0.05), 2)


def _pick(options: tuple[str, ...], *key: str) -> str:
    digest = hashlib.sha256("|".join(key).encode()).digest()
    return options[digest[0] % len(options)]


def _strip_frame(text: str) -> str:
    return text.rstrip(" .")


def answers_to_grade(questions: list[dict]) -> list[dict]:
    """The built set: one row per written answer, with its question, reference and points (0, 1, 2)."""
    by_chapter: dict[str, list[dict]] = defaultdict(list)
    usable = [q for q in questions if len(q["correct"]) == 1 and q["correct"][0] and q["wrong"]]
    for question in usable:
        match = CHAPTER.search(question["id"])
        by_chapter[match.group(1) if match else ""].append(question)
    rows = []
    for question in usable:
        qid, right = question["id"], _strip_frame(question["correct"][0])
        written = [(_pick(RIGHT_WORDINGS, qid, "right").format(a=right), 2, "right")]
        if explanation := question["explanations"][0]:
            written.append((f"{right}, because {explanation}", 2, "right_explained"))
        wrong = [_strip_frame(w) for w in question["wrong"] if w and normalised(w) != normalised(right)]
        written += [(_pick(RIGHT_WORDINGS, qid, "wrong", str(n)).format(a=option), 0, "wrong")
                    for n, option in enumerate(wrong)]
        if wrong:
            first, second = (right, wrong[0]) if _pick(("a", "b"), qid, "order") == "a" else (wrong[0], right)
            written.append((_pick(HEDGED_WORDINGS, qid, "hedge").format(a=first, b=second), 1, "hedged"))
        match = CHAPTER.search(qid)
        others = [q for q in by_chapter[match.group(1) if match else ""]
                  if q is not question and normalised(q["correct"][0]) != normalised(right)]
        if others:
            other = others[int(hashlib.sha256(qid.encode()).hexdigest(), 16) % len(others)]
            written.append((_pick(RIGHT_WORDINGS, qid, "other").format(a=_strip_frame(other["correct"][0])), 0,
                            "off_question"))
        rows += [{"question_id": qid, "question": question["question"], "reference": right, "answer": answer,
                  "points": points, "kind": kind, "held_out": held_out(qid)} for answer, points, kind in written]
    return rows


class _Similarities:
    """MiniLM vectors of every text, embedded once in batches (the evaluation asks for each many times)."""

    def __init__(self):
        self._vectors: dict[str, np.ndarray] = {}

    def add(self, texts: list[str]) -> None:
        new = sorted({t for t in texts if t not in self._vectors})
        for start in range(0, len(new), 256):
            batch = new[start:start + 256]
            self._vectors.update(zip(batch, embed(batch), strict=True))

    def cosine(self, a: str, b: str) -> float:
        return float(self._vectors[a] @ self._vectors[b])

    def best(self, point: str, sentences: list[str]) -> float:
        texts = sentences + ([" ".join(sentences)] if len(sentences) > 1 else [])
        self.add([point, *texts])
        return max(self.cosine(point, text) for text in texts)


def _word_f1(answer: str, reference: str) -> float:
    said, wanted = normalised(answer).split(), normalised(reference).split()
    common = sum(min(said.count(w), wanted.count(w)) for w in set(wanted))
    if not common:
        return 0.0
    precision, recall = common / len(said), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def _agreement(truth: list[int], given: list[int]) -> dict:
    truth_a, given_a = np.array(truth), np.array(given)
    same_everywhere = len(set(truth)) == 1 and set(truth) == set(given)
    kappa = 1.0 if same_everywhere else float(cohen_kappa_score(truth_a, given_a, weights="quadratic",
                                                                 labels=list(range(POINTS + 1))))
    return {"accuracy": round(float(np.mean(truth_a == given_a)), 4), "qwk": round(kappa, 4), "answers": len(truth)}


def _banded(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.where(values >= high, 2, np.where(values >= low, 1, 0))


def _best_cut_offs(values: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """The two cut-offs (1 point from ``low``, 2 from ``high``) with the best kappa on the development rows."""
    best, chosen = -np.inf, (0.5, 0.5)
    for low, high in itertools.combinations_with_replacement(CUT_OFFS, 2):
        kappa = cohen_kappa_score(truth, _banded(values, low, high), weights="quadratic")
        if kappa > best:
            best, chosen = kappa, (float(low), float(high))
    return chosen


def _report(rows: list[dict], graded: dict[str, list[int]]) -> dict:
    splits = {"all": [True] * len(rows), "development": [not r["held_out"] for r in rows],
              "held_out": [r["held_out"] for r in rows]}
    report = {}
    for split, keep in splits.items():
        truth = [r["points"] for r, k in zip(rows, keep, strict=True) if k]
        report[split] = {name: _agreement(truth, [g for g, k in zip(given, keep, strict=True) if k])
                         for name, given in graded.items()}
    return report


def evaluate(questions_dir: Path, *, progress: bool = False) -> dict:
    rows = answers_to_grade(read_questions(questions_dir))
    similarities = _Similarities()
    similarities.add([t for r in rows for t in (r["answer"], r["reference"])])
    grades, latencies = [], []
    for row in track(rows, description="Grading", disable=not progress):
        started = time.perf_counter()
        grades.append(grade(row["question"], Assessment(reference=row["reference"], points=POINTS), row["answer"],
                            similarity=similarities.best))
        latencies.append(time.perf_counter() - started)
    truth = np.array([r["points"] for r in rows])
    development = np.array([not r["held_out"] for r in rows])
    overlap = np.array([_word_f1(r["answer"], r["reference"]) for r in rows])
    similarity = np.array([similarities.cosine(r["answer"], r["reference"]) for r in rows])
    overlap_cuts = _best_cut_offs(overlap[development], truth[development])
    similarity_cuts = _best_cut_offs(similarity[development], truth[development])
    graded = {
        "grader": [g.score for g in grades],
        "exact_match": [POINTS if normalised(r["answer"]) == normalised(r["reference"]) else 0 for r in rows],
        "contains_reference": [POINTS if contains(r["answer"], r["reference"]) else 0 for r in rows],
        "word_overlap": _banded(overlap, *overlap_cuts).tolist(),
        "similarity": _banded(similarity, *similarity_cuts).tolist(),
    }
    sure = [not g.needs_review for g in grades]
    kept_truth = [int(t) for t, s in zip(truth, sure, strict=True) if s]
    kept_given = [g.score for g, s in zip(grades, sure, strict=True) if s]
    agreement = _report(rows, graded)
    held_out = agreement["held_out"]
    return {
        "questions": len({r["question_id"] for r in rows}),
        "answers": len(rows),
        "answers_by_kind": {kind: sum(r["kind"] == kind for r in rows) for kind in sorted({r["kind"] for r in rows})},
        "agreement": agreement,
        "grader_by_kind": {kind: round(float(np.mean([g.score == r["points"] for g, r in zip(grades, rows, strict=True)
                                                      if r["kind"] == kind])), 4)
                           for kind in sorted({r["kind"] for r in rows})},
        "review_queue": {"share_sent": round(1 - float(np.mean(sure)), 4),
                         "not_sent": _agreement(kept_truth, kept_given) if kept_truth else None},
        "cut_offs": {"word_overlap": overlap_cuts, "similarity": similarity_cuts},
        "grading_p95_ms": round(float(np.percentile(latencies, 95)) * 1000, 2),
        HEADLINE: {"held_out_qwk": against_strongest(
            "quadratic weighted kappa, held-out chapters", "grader", held_out["grader"]["qwk"],
            {name: figures["qwk"] for name, figures in held_out.items() if name != "grader"})},
    }

"""Practice questions made from a course's own passages, offline and deterministically.

For a skill with no quiz item left, a learner still needs graded practice. Each question is one
sentence of a passage the tutor indexes, with a key term blanked out:

- the key term is an inline code span when the sentence has one (``append(x)``, ``x = 5``: what a
  programming course asks about), else the sentence's word that is most particular to its passage
  (TF-IDF over the course's passages), at least five letters long, not a stop word, and said at least
  twice in the passage (a concept of it, not filler);
- a **cloze** question asks for the term; a **multiple-choice** one offers it among three
  distractors of the same kind (code spans, or particular words) from the course's other passages.

Every question is checked to be answerable from the passage it cites, and dropped otherwise: the
term is in the passage; the sentence keeps at least ``MIN_CONTEXT_WORDS`` other words; the term (or a
word of the same stem) does not appear elsewhere in the sentence, which would give it away; no
distractor appears anywhere in the passage, so reading it settles the choice. A question's id is a
hash of its passage, sentence and term: the same material gives the same questions, and an edited
passage gives new ones.
"""

import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from models.tutor.chunks import Chunk
from models.tutor.retrieval import STOPWORDS, stem

Kind = Literal["cloze", "multiple_choice"]
BLANK = "_____"
MIN_CONTEXT_WORDS = 6
MAX_SENTENCE_WORDS = 45
MIN_TERM_LETTERS = 5
MAX_CODE_CHARS = 30
DISTRACTORS = 3
CODE = re.compile(rf"`([^`\n]{{1,{MAX_CODE_CHARS}}})`")
WORD = re.compile(r"[A-Za-z]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


@dataclass(frozen=True)
class PracticeQuestion:
    question_id: str
    kind: Kind
    prompt: str  # the sentence with its blank
    options: tuple[str, ...]  # multiple choice: the answer among the distractors, in a fixed order; cloze: ()
    answer: str
    sentence: str  # the passage's sentence, whole: the feedback
    chunk: Chunk  # the passage it cites
    skills: tuple[str, ...]
    generator: str = "extractive"  # built from the sentence by rules; "openai-compatible": written by a model

    def is_right(self, given: str) -> bool:
        return normalised(given) == normalised(self.answer)


def normalised(text: str) -> str:
    return " ".join(text.replace("`", "").strip().strip(".,;:!?").lower().split())


def _sentences(text: str) -> list[str]:
    """The prose sentences of a passage: no headings, list markers or code blocks."""
    prose, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.strip() and not line.lstrip().startswith("#"):
            prose.append(line.strip().lstrip("-*+ ").strip())
    return [s.strip() for paragraph in prose for s in SENTENCE_END.split(paragraph) if s.strip()]


def _particular_words(chunks: list[Chunk]) -> dict[str, dict[str, float]]:
    """Per passage, its words' TF-IDF over the course's passages (lower case)."""
    counts = {c.chunk_id: Counter(w.lower() for w in WORD.findall(c.text)) for c in chunks}
    documents = Counter(word for found in counts.values() for word in found)
    n = len(chunks)
    return {chunk_id: {w: tf * math.log((1 + n) / (1 + documents[w])) for w, tf in found.items()}
            for chunk_id, found in counts.items()}


def _term(sentence: str, weights: dict[str, float], counts: Counter) -> tuple[str, Literal["code", "word"]] | None:
    code = CODE.findall(sentence)
    if code:
        return max(code, key=len), "code"
    # A word the passage repeats is one of its concepts; a word it says once is as likely filler ("every").
    words = [w for w in WORD.findall(sentence) if len(w) >= MIN_TERM_LETTERS and w.lower() not in STOPWORDS
             and counts[w.lower()] >= 2]
    if not words:
        return None
    return max(words, key=lambda w: (weights.get(w.lower(), 0.0), len(w))), "word"


def _blanked(sentence: str, term: str, kind: str) -> str | None:
    """The sentence with the term blanked, or None when it would give the term away."""
    marked = f"`{term}`" if kind == "code" else term
    pattern = re.escape(marked) if kind == "code" else rf"\b{re.escape(term)}\b"
    if len(re.findall(pattern, sentence)) != 1:
        return None
    prompt = re.sub(pattern, BLANK, sentence, count=1)
    term_stem = stem(term.lower())
    rest = WORD.findall(prompt)
    if kind == "word" and any(stem(w.lower()) == term_stem for w in rest):
        return None
    if len(rest) < MIN_CONTEXT_WORDS or len(sentence.split()) > MAX_SENTENCE_WORDS:
        return None
    return prompt


def stable_order(key: str, values: list[str]) -> list[str]:
    return sorted(values, key=lambda v: hashlib.sha256(f"{key}|{v}".encode()).hexdigest())


def practice_questions(chunks: list[Chunk], skill_id: str | None = None) -> list[PracticeQuestion]:
    """Checked questions from a course's passages (those on ``skill_id`` when given), in passage order: a
    cloze and a multiple-choice question alternate, so a learner meets both."""
    weights = _particular_words(chunks)
    candidates = []  # (chunk, sentence, term, kind, prompt)
    for chunk in chunks:
        counts = Counter(w.lower() for w in WORD.findall(chunk.text))
        for sentence in _sentences(chunk.text):
            found = _term(sentence, weights[chunk.chunk_id], counts)
            if found and (prompt := _blanked(sentence, *found)):
                candidates.append((chunk, sentence, found[0], found[1], prompt))
    pools = {kind: sorted({term for _, _, term, k, _ in candidates if k == kind}) for kind in ("code", "word")}
    questions = []
    for chunk, sentence, term, kind, prompt in candidates:
        if skill_id is not None and skill_id not in chunk.skills:
            continue
        question_id = hashlib.sha256(f"{chunk.chunk_id}|{chunk.fingerprint}|{sentence}|{term}".encode()).hexdigest()[:16]
        text = chunk.text.lower()
        pool = pools[kind] if kind == "code" or not term.islower() else sorted({t.lower() for t in pools[kind]})
        distractors = [t for t in stable_order(question_id, pool)
                       if t.lower() not in text and normalised(t) != normalised(term)
                       and (kind == "code" or stem(t.lower()) != stem(term.lower()))]
        distractors.sort(key=lambda t: abs(len(t) - len(term)))  # alike in length: not told apart by shape
        choice = len(questions) % 2 == 1 and len(distractors) >= DISTRACTORS
        options = tuple(stable_order(question_id + "options", [term, *distractors[:DISTRACTORS]])) if choice else ()
        questions.append(PracticeQuestion(question_id, "multiple_choice" if choice else "cloze", prompt, options, term,
                                          sentence, chunk, chunk.skills))
    return questions

"""Practice questions made from a course's own passages, offline and deterministically.

For a skill with no quiz item left, a learner still needs graded practice. Each question is one
sentence of a passage the tutor indexes that practises a skill (a preface teaches none), with a key
term blanked out:

- the key term is an inline code span when the sentence has one (``append(x)``, ``x = 5``: what a
  programming course asks about), else the sentence's word that is most particular to its passage
  (TF-IDF over the course's passages), at least five letters long, not a stop word, and said at least
  twice in the passage (a concept of it, not filler);
- a **cloze** question asks for the term; a **multiple-choice** one offers it among three
  distractors of the same kind (code spans, or particular words) from the course's other passages:
  those from the passages closest to the question's own first (TF-IDF cosine, in steps of 0.1),
  then, for code, those of the same form (an assignment, a call, an index, a block's first line, a
  single name), then those alike in length. Distractors from anywhere in the course, alike in length
  only (the rule before), let a reader who never read the passage pick the answer by its topic: on
  the OpenStax Python book a reader who takes the option closest in meaning to the prompt (MiniLM)
  was right on 70 % of the multiple-choice questions, and is on 50 % with distractors from nearby
  passages (chance: 25 %; ``learnlake eval practice``).

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

import numpy as np
from scipy import sparse

from models.tutor.chunks import Chunk
from models.tutor.retrieval import STOPWORDS, stem

Kind = Literal["cloze", "multiple_choice"]
DistractorOrder = Literal["near", "length"]  # "length": alike in length only, the baseline of ``evaluation.py``
BLANK = "_____"
MIN_CONTEXT_WORDS = 6
MAX_SENTENCE_WORDS = 45
MIN_TERM_LETTERS = 5
MAX_CODE_CHARS = 30
DISTRACTORS = 3
CLOSENESS_STEP = 0.1  # passages this much alike are as close: among them, form and length choose
CODE = re.compile(rf"`([^`\n]{{1,{MAX_CODE_CHARS}}})`")
WORD = re.compile(r"[A-Za-z]+")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")
ASSIGNMENT = re.compile(r"(?<![=!<>])=(?!=)")
NAME = re.compile(r"[A-Za-z_]\w*")


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


def _particular_words(chunks: list[Chunk]) -> list[dict[str, float]]:
    """Per passage (in order), its words' TF-IDF over the course's passages (lower case)."""
    counts = [Counter(w.lower() for w in WORD.findall(c.text)) for c in chunks]
    documents = Counter(word for found in counts for word in found)
    n = len(chunks)
    return [{w: tf * math.log((1 + n) / (1 + documents[w])) for w, tf in found.items()} for found in counts]


def _unit_rows(weights: list[dict[str, float]]) -> sparse.csr_matrix:
    """The passages' TF-IDF vectors as the rows of a sparse matrix, each of length one: a product is a cosine."""
    vocabulary: dict[str, int] = {}
    rows, columns, values = [], [], []
    for row, found in enumerate(weights):
        norm = math.sqrt(sum(v * v for v in found.values())) or 1.0
        for word, weight in found.items():
            rows.append(row)
            columns.append(vocabulary.setdefault(word, len(vocabulary)))
            values.append(weight / norm)
    return sparse.csr_matrix((values, (rows, columns)), shape=(len(weights), max(1, len(vocabulary))))


def _form(code: str) -> int:
    """What a code span is, roughly, as bits: an assignment, a call, an index, a block's first line, a name."""
    parts = (bool(ASSIGNMENT.search(code)), "(" in code, "[" in code, code.rstrip().endswith(":"),
             bool(NAME.fullmatch(code.strip())))
    return sum(bit << i for i, bit in enumerate(parts))


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


class _Pool:
    """The terms of one kind that questions blank out, with the passages each was found in."""

    def __init__(self, terms: list[str], found_in: list[set[int]], n_passages: int, code: bool):
        self.terms, self.code = terms, code
        self.lengths = np.array([len(t) for t in terms])
        self.forms = np.array([_form(t) for t in terms] if code else [], dtype=np.int64)
        rows = [i for i, where in enumerate(found_in) for _ in where]
        columns = [passage for where in found_in for passage in sorted(where)]
        self.sources = sparse.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(terms), n_passages))

    def ranked(self, term: str, closeness: np.ndarray | None, seed: int) -> list[str]:
        """Every term of the pool, the likeliest distractors for ``term`` first; ``closeness``: each passage's
        to the question's (None: length alone); ties in a fixed order of the question's own (``seed``)."""
        keys = [np.random.default_rng(seed).permutation(len(self.terms)), np.abs(self.lengths - len(term))]
        if closeness is not None:
            if self.code:
                keys.append(self.forms != _form(term))
            nearest = self.sources.multiply(closeness[np.newaxis, :]).max(axis=1).toarray().ravel()
            keys.append(-np.floor(nearest / CLOSENESS_STEP + 1e-9))
        return [self.terms[i] for i in np.lexsort(keys)]


def practised(chunk: Chunk, skill_id: str | None = None) -> bool:
    """Whether practice questions are made from the passage: it practises a skill (``skill_id`` when given)."""
    return skill_id in chunk.skills if skill_id is not None else bool(chunk.skills)


def practice_questions(chunks: list[Chunk], skill_id: str | None = None, *,
                       distractors: DistractorOrder = "near") -> list[PracticeQuestion]:
    """Checked questions from a course's passages that practise a skill (those on ``skill_id`` when given), in
    passage order: a cloze and a multiple-choice question alternate, so a learner meets both. A passage that
    practises none (a preface, a syllabus) gives no question, though its terms may be distractors."""
    weights = _particular_words(chunks)
    vectors = _unit_rows(weights)
    candidates = []  # (passage number, sentence, term, kind, prompt)
    for number, chunk in enumerate(chunks):
        counts = Counter(w.lower() for w in WORD.findall(chunk.text))
        for sentence in _sentences(chunk.text):
            found = _term(sentence, weights[number], counts)
            if found and (prompt := _blanked(sentence, *found)):
                candidates.append((number, sentence, found[0], found[1], prompt))
    pools = {}
    for kind, folded in (("code", False), ("word", False), ("word", True)):  # folded: lower-case words' pool
        found_in: dict[str, set[int]] = {}
        for number, _, term, k, _ in candidates:
            if k == kind:
                found_in.setdefault(term.lower() if folded else term, set()).add(number)
        terms = sorted(found_in)
        pools[kind, folded] = _Pool(terms, [found_in[t] for t in terms], len(chunks), code=kind == "code")
    questions = []
    for number, sentence, term, kind, prompt in candidates:
        chunk = chunks[number]
        if not practised(chunk, skill_id):
            continue
        question_id = hashlib.sha256(f"{chunk.chunk_id}|{chunk.fingerprint}|{sentence}|{term}".encode()).hexdigest()[:16]
        chosen: list[str] = []
        if len(questions) % 2 == 1:  # every other question offers options
            text = chunk.text.lower()
            pool = pools[kind, kind == "word" and term.islower()]
            closeness = (vectors @ vectors[number].T).toarray().ravel() if distractors == "near" else None
            for t in pool.ranked(term, closeness, int(question_id, 16) % 2**32):
                if (t.lower() not in text and normalised(t) != normalised(term)
                        and (kind == "code" or stem(t.lower()) != stem(term.lower()))):
                    chosen.append(t)
                    if len(chosen) == DISTRACTORS:
                        break
        choice = len(chosen) == DISTRACTORS
        options = tuple(stable_order(question_id + "options", [term, *chosen])) if choice else ()
        questions.append(PracticeQuestion(question_id, "multiple_choice" if choice else "cloze", prompt, options, term,
                                          sentence, chunk, chunk.skills))
    return questions

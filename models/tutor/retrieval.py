"""Hybrid retrieval of course passages: dense (MiniLM in Qdrant) and BM25, fused by document.

Dense similarity finds passages that say the same thing in other words; BM25 finds the exact
terms a learner types (``print``, ``elif``, an error message) that a small embedding model
blurs. A question is usually about one section, and a section's evidence is spread over its
passages, so hybrid search ranks documents (sections, lessons) first, from three views:

- dense: the sum of the document's two passages nearest the query;
- dense centroid: the query against the mean of the document's passage vectors;
- BM25 over the document's whole text (over passages, a section's words are split apart:
  on the OpenStax book whole-section BM25 found the gold section in its top 5 for 0.66 of
  the questions, passage BM25 for 0.59);

fused by reciprocal rank (Cormack et al., 2009). Overview documents (an introduction, a preface,
a chapter summary: known by their titles) restate the topics of the sections around them and
so match a question on any of them; their fused score counts half, so the sections that teach
the topic come first (in a course of a hundred documents an overview still leads when no other
document is near the top of any view; it is never dropped). Passages then come document by
document: each document's best passage first, then the second best of each, and so on, so the
first few passages cite several close sections. Every search is restricted to one course.
Code in the question (Markdown code spans) reaches the dense search with its outline in words
(``models/tutor/query_code.py``) and BM25 as it is.

BM25's words are stemmed (Snowball), as content search's are. Measured on the OpenStax book's
development questions only (``rag_evaluation.held_out`` keeps every third chapter aside from choices
like this one), stemming moved hybrid recall@5 from 0.883 to 0.886 and BM25 alone from 0.719 to 0.704:
no real change there; it is kept so that a learner's "looping" meets a lesson's "loops" in any course.

Reranking was tried and not kept (recall@5, development / held-out, against 0.886 / 0.826 without): a
fourth view ranking sections by MiniLM cosine to their title and headings 0.877 / 0.780; the dense
centroid view searched again with the query moved toward the three best sections' centroids (pseudo-
relevance feedback) 0.877 / 0.826; a view ranking sections by their closeness to the question with each
answer option 0.889 / 0.817; a sentence-level MiniLM rerank of the passages, earlier, no gain either; a
learned-to-rank fusion (logistic regression over each view's rank and score, the best passage's dense and BM25
scores and the title's BM25), fitted on 600 of the course's own practice questions (``models/practice``), each
asked with its sentence taken out of the course's text, 0.811 / 0.789: those questions reward other views than
a learner's do. Fitted on the real questions of the other chapters instead (leave one chapter out, so on the
evaluation's own questions: a ceiling, not a candidate), the same model reaches only 0.895 / 0.835. A
fourth view ranking sections by MiniLM cosine to their "Learning objectives" (83 of the book's 115 sections
have them) gave 0.907 / 0.817: 11 development questions gained and 4 lost, but 3 gained and 4 lost held out,
so it is not kept on this evidence; in place of the centroid view, 0.892 / 0.835. Each document's fused
score raised by a quarter of the better of its two neighbours' in course order (a question is about one part
of a course, and a lesson's neighbours teach around it): 0.904 / 0.817, MRR 0.704 -> 0.689 / 0.697 -> 0.687;
at a half, 0.877 / 0.780. The centroid view over each document's opening (its first one or two passages, where
a lesson says what it teaches) rather than all its passages: 0.898 / 0.835 with one and 0.898 / 0.844 with two,
but with two MRR fell from 0.704 to 0.698 (development) and from 0.697 to 0.665 (held out); as a fourth view
beside the centroid, 0.898 to 0.907 / 0.817.
The held-out split has 109 questions (a standard error of about 0.036), so its gap to the development
split is within two standard errors.

What the tutor's askers say of its answers (``PUT /api/v1/tutor/turns/{id}/rating``, kept with the turn's question and
cited sections) is the one relevance label no evaluation chose. A search may be given a course's rated answers
(``RatedAnswers``, ``serving/tutor_ratings.py``): the rated questions near the new one vote for the sections their
helpful answers cited (a fourth view in the fusion) and against those of answers that did not help. With simulated
askers (``rag_evaluation``, ``rated``), recall@5 0.886 -> 0.901 (development) and 0.826 -> 0.844 (held out), MRR
about unchanged (0.704 -> 0.699, 0.697 -> 0.702), recall@1 a little lower (0.569 -> 0.551, 0.596 -> 0.596): the
sections the ratings bring up reach the top five more often than the top place.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from models.embeddings import embed
from models.tutor.chunks import Chunk
from models.tutor.index import TutorIndex
from models.tutor.query_code import with_outlines, without_markers

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
# A few lists of about a hundred documents: a small k lets their top ranks count. On the OpenStax
# book any k from 1 to 60 gives hybrid recall@5 between 0.83 and 0.84; 10 is not tuned further.
RRF_K = 10
CANDIDATES = 100  # nearest passages from the dense search
DENSE_PASSAGES_PER_DOCUMENT = 2
STOPWORDS = frozenset(STOPWORDS_EN)
OVERVIEW_TITLE = re.compile(r"(chapter\s+)?(introduction|preface|overview|summary|review|key terms)", re.IGNORECASE)
OVERVIEW_WEIGHT = 0.5  # on the OpenStax book, any weight from 0 to 0.7 gives the same recall@5


# Words and identifiers (``input_value`` stays whole), then operators and other symbols one by
# one: in a programming course ``%``, ``**`` or ``[`` is often what a question is about, and BM25's
# weights leave the symbols every section has (full stops, commas) nearly silent. On the OpenStax
# book whole-section BM25 finds the gold section in its top 5 for 0.70 of the questions with the
# symbols, 0.67 without them.
TOKEN = re.compile(r"[a-z0-9_]+|\*\*|//|==|!=|<=|>=|[-+*/%]=|[^\w\s]")


_stemmer = Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """A lower-case word's English (Snowball) stem: the form every keyword match here compares."""
    return _stemmer.stemWord(word)


def tokens(text: str) -> list[str]:
    """Lower-case words, identifiers and symbols, without stop words, each word stemmed (English Snowball:
    ``loops`` and ``looping`` are one word)."""
    return _stemmer.stemWords([word for word in TOKEN.findall(text.lower()) if word not in STOPWORDS])


@dataclass(frozen=True)
class RatedAnswers:
    """Earlier questions of one course that their askers rated: each question's vector (``question_vectors``),
    the documents its answer cited, whether the asker found it helpful, and who asked (any id of theirs)."""
    vectors: np.ndarray
    documents: list[tuple[str, ...]]
    helpful: list[bool]
    askers: list[str]


# Rated answers as a fourth view. Measured with simulated askers (``rag_evaluation``: each question rated helpful
# when its answer cited a gold section, with every other question's rating remembered), choices on the development
# questions only: a rated question counts when it is this close (MiniLM cosine) to the new one; a document is
# ranked by its votes (the similarity of each near question whose answer cited it, against it when the answer did
# not help; one vote per asker, their nearest question's) once they pass ``MIN_VOTES``, about two askers more for it
# than against; a document with votes below ``-MIN_VOTES`` keeps half its fused score. A lower bar follows single
# ratings: with one asker in five rating the other way, development recall@5 fell from 0.886 to 0.841 with no bar,
# and held at 0.895 with this one. One asker alone, however many questions they rate, moves nothing; with three
# questions in ten rated, nothing moved on the book (too few near questions pass the bar): ratings help a course
# whose learners ask about the same things often.
RATED_SIMILARITY = 0.7
MIN_VOTES = 1.5
UNHELPFUL_WEIGHT = 0.5


def question_vectors(questions: list[str]) -> np.ndarray:
    """Questions as the dense search embeds them (unit vectors), to compare a new question with rated ones."""
    return embed([with_outlines(question) for question in questions])


def _votes(rated: RatedAnswers, vector: np.ndarray) -> dict[str, float]:
    """Each document's votes from the rated questions near this one: their similarity for each whose answer cited
    it and helped, against it for each whose answer did not; of each asker, only their nearest question counts."""
    votes: dict[str, float] = defaultdict(float)
    if not rated.helpful:
        return votes
    similarity = rated.vectors @ vector
    nearest: dict[str, int] = {}
    for i in np.flatnonzero(similarity >= RATED_SIMILARITY):
        if rated.askers[i] not in nearest or similarity[i] > similarity[nearest[rated.askers[i]]]:
            nearest[rated.askers[i]] = i
    for i in nearest.values():
        for document in rated.documents[i]:
            votes[document] += float(similarity[i]) if rated.helpful[i] else -float(similarity[i])
    return votes


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float  # fused score (or the retriever's own in a single mode); higher is better
    rank: int
    similarity: float | None = None  # cosine to the query, when the dense search found it: how relevant it is


class _CourseText:
    """One course's passages and what search needs of them, built when the course's passages change:
    BM25 over passages and over whole documents, and each document's centroid vector."""

    def __init__(self, chunks: list[Chunk], vectors: dict[str, np.ndarray]):
        self.chunks = chunks
        self.by_id = {c.chunk_id: c for c in chunks}
        by_document: dict[str, list[Chunk]] = defaultdict(list)
        for chunk in chunks:
            by_document[chunk.document_id].append(chunk)
        self.documents = list(by_document)
        self.overviews = {d for d, parts in by_document.items() if OVERVIEW_TITLE.fullmatch(parts[0].title.strip())}
        self.passages = BM25Index([tokens(c.indexed_text) for c in chunks])
        self.whole_documents = BM25Index([tokens(" ".join([parts[0].title, *(c.text for c in parts)]))
                                          for parts in by_document.values()])
        centroids = []
        for parts in by_document.values():
            found = [vectors[c.chunk_id] for c in parts if c.chunk_id in vectors]
            mean = np.mean(found, axis=0) if found else np.zeros(384, dtype=np.float32)
            centroids.append(mean / (np.linalg.norm(mean) or 1.0))
        self.centroids = np.array(centroids, dtype=np.float32) if centroids else np.zeros((0, 384), np.float32)


class BM25Index:
    """BM25 over token lists; scores every entry for a query (zero when it shares no word)."""

    def __init__(self, texts: list[list[str]]):
        self.size = len(texts)
        self.model = bm25s.BM25()
        if texts:  # nothing indexed yet: nothing to score
            self.model.index([words or ["_"] for words in texts], show_progress=False)

    def scores(self, words: list[str]) -> np.ndarray:
        if not words or not self.size:
            return np.zeros(self.size)
        return np.asarray(self.model.get_scores(words), dtype=np.float64)


def _fuse(rankings: list[list[str]]) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: (key, score), best first."""
    fused: dict[str, float] = defaultdict(float)
    for ranking in rankings:
        for rank, key in enumerate(ranking):
            fused[key] += 1.0 / (RRF_K + rank + 1)
    return sorted(fused.items(), key=lambda item: -item[1])


def _by_document(ordered_documents: list[str], chunks_of: dict[str, list[str]]) -> list[str]:
    """Chunk ids round-robin over the documents in order: every document's best, then second best..."""
    out, depth = [], 0
    while True:
        layer = [chunks_of[d][depth] for d in ordered_documents if depth < len(chunks_of.get(d, []))]
        if not layer:
            return out
        out += layer
        depth += 1


class Retriever:
    def __init__(self, index: TutorIndex):
        self.index = index
        self._courses: dict[str, _CourseText] = {}

    def refresh(self, course_id: str) -> None:
        """Forget what was built from the course's passages (call after re-indexing the course)."""
        self._courses.pop(course_id, None)

    def _course(self, course_id: str) -> _CourseText:
        if course_id not in self._courses:
            self._courses[course_id] = _CourseText(self.index.course_chunks(course_id),
                                                   self.index.course_vectors(course_id))
        return self._courses[course_id]

    def search(self, course_id: str, query: str, *, k: int = 5, mode: Mode = "hybrid",
               rated: RatedAnswers | None = None) -> list[Passage]:
        """The ``k`` best passages of one course for a query; in hybrid search, with what ``rated`` (the course's
        rated answers) says of questions near it."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        course = self._course(course_id)
        if not course.chunks:
            return []
        similarity: dict[str, float] = {}
        vector = None
        if mode in ("dense", "hybrid"):
            vector = question_vectors([query])[0]
            similarity = {cid: s for cid, s in self.index.dense_search(course_id, vector, CANDIDATES)
                          if cid in course.by_id}
        if mode == "dense":
            best = sorted(similarity.items(), key=lambda item: -item[1])
            return self._passages(course, best, similarity, k)
        words = tokens(without_markers(query))
        passage_scores = dict(zip((c.chunk_id for c in course.chunks), course.passages.scores(words), strict=True))
        document_scores = course.whole_documents.scores(words)
        by_bm25 = [i for i in np.argsort(-document_scores, kind="stable") if document_scores[i] > 0]
        if mode == "bm25":
            documents = [(course.documents[i], float(document_scores[i])) for i in by_bm25]
        else:
            votes = _votes(rated, vector) if rated is not None else {}
            views = [self._dense_documents(course, similarity), [course.documents[i] for i in by_bm25],
                     [course.documents[i] for i in np.argsort(-(course.centroids @ vector), kind="stable")]]
            # Ratings of documents the course no longer has (re-indexed since) are left out.
            rated_up = sorted((d for d, vote in votes.items() if vote > MIN_VOTES and d in course.documents),
                              key=lambda d: -votes[d])
            fused = _fuse(views + [rated_up])
            documents = sorted(((d, score * (OVERVIEW_WEIGHT if d in course.overviews else 1.0)
                                 * (UNHELPFUL_WEIGHT if votes.get(d, 0.0) < -MIN_VOTES else 1.0)) for d, score in fused),
                               key=lambda item: -item[1])
        # Within a document: the nearest passages first, then those BM25 finds.
        chunks_of: dict[str, list[str]] = defaultdict(list)
        for chunk_id in sorted(course.by_id, key=lambda c: (-similarity.get(c, -1.0), -passage_scores[c])):
            if chunk_id in similarity or passage_scores[chunk_id] > 0:
                chunks_of[course.by_id[chunk_id].document_id].append(chunk_id)
        score_of = dict(documents)
        ordered = _by_document([d for d, _ in documents], chunks_of)
        best = [(cid, score_of[course.by_id[cid].document_id]) for cid in ordered]
        return self._passages(course, best, similarity, k)

    @staticmethod
    def _dense_documents(course: _CourseText, similarity: dict[str, float]) -> list[str]:
        """Documents by the sum of their passages nearest the query."""
        nearest: dict[str, list[float]] = defaultdict(list)
        for chunk_id, score in sorted(similarity.items(), key=lambda item: -item[1]):
            document = course.by_id[chunk_id].document_id
            if len(nearest[document]) < DENSE_PASSAGES_PER_DOCUMENT:
                nearest[document].append(score)
        return sorted(nearest, key=lambda d: -sum(nearest[d]))

    @staticmethod
    def _passages(course: _CourseText, best: list[tuple[str, float]], similarity: dict[str, float],
                  k: int) -> list[Passage]:
        return [Passage(course.by_id[chunk_id], score, rank, similarity.get(chunk_id))
                for rank, (chunk_id, score) in enumerate(best[:k])]

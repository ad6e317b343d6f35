"""Hybrid retrieval of course passages: dense (MiniLM in Qdrant) and BM25, fused by rank.

Dense similarity finds passages that say the same thing in other words; BM25 finds the exact
terms a learner types (``print``, ``elif``, an error message) that a small embedding model
blurs. Reciprocal rank fusion (Cormack et al., 2009, k = 60) adds 1 / (k + rank) from each
list: it needs no score calibration and no weights tuned to a question set. Every search is
restricted to one course.
"""

import re
from dataclasses import dataclass
from typing import Literal

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from models.embeddings import embed
from models.tutor.chunks import Chunk
from models.tutor.index import TutorIndex

Mode = Literal["dense", "bm25", "hybrid"]
MODES: tuple[Mode, ...] = ("dense", "bm25", "hybrid")
RRF_K = 60
CANDIDATES = 50  # from each retriever, before fusion
STOPWORDS = frozenset(STOPWORDS_EN)


def tokens(text: str) -> list[str]:
    """Lower-case words and identifiers (``input_value`` stays whole), without stop words."""
    return [word for word in re.findall(r"[a-z0-9_]+", text.lower()) if word not in STOPWORDS]


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float  # fused score (or the retriever's own in a single mode); higher is better
    rank: int
    similarity: float | None = None  # cosine to the query, when the dense search found it: how relevant it is


class _CourseBM25:
    """BM25 over one course's chunks, rebuilt when the course's chunks change."""

    def __init__(self, chunks: list[Chunk]):
        self.chunks = chunks
        self.by_id = {c.chunk_id: c for c in chunks}
        self.model = bm25s.BM25()
        if chunks:  # a course with nothing indexed yet has nothing to score
            self.model.index([tokens(c.indexed_text) or ["_"] for c in chunks], show_progress=False)

    def search(self, query: str, limit: int) -> list[tuple[str, float]]:
        words = tokens(query)
        if not words or not self.chunks:
            return []
        scores = self.model.get_scores(words)
        best = np.argsort(-scores)[:limit]
        return [(self.chunks[i].chunk_id, float(scores[i])) for i in best if scores[i] > 0]


class Retriever:
    def __init__(self, index: TutorIndex):
        self.index = index
        self._bm25: dict[str, _CourseBM25] = {}

    def refresh(self, course_id: str) -> None:
        """Forget the course's BM25 model (call after re-indexing the course)."""
        self._bm25.pop(course_id, None)

    def _course_bm25(self, course_id: str) -> _CourseBM25:
        if course_id not in self._bm25:
            self._bm25[course_id] = _CourseBM25(self.index.course_chunks(course_id))
        return self._bm25[course_id]

    def search(self, course_id: str, query: str, *, k: int = 5, mode: Mode = "hybrid") -> list[Passage]:
        """The ``k`` best passages of one course for a query."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        bm25 = self._course_bm25(course_id)
        ranked: list[list[tuple[str, float]]] = []
        similarity: dict[str, float] = {}
        if mode in ("dense", "hybrid"):
            ranked.append(self.index.dense_search(course_id, embed([query])[0], CANDIDATES))
            similarity = dict(ranked[-1])
        if mode in ("bm25", "hybrid"):
            ranked.append(bm25.search(query, CANDIDATES))
        if mode == "hybrid":
            fused: dict[str, float] = {}
            for hits in ranked:
                for rank, (chunk_id, _) in enumerate(hits):
                    fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            best = sorted(fused.items(), key=lambda item: -item[1])
        else:
            best = ranked[0]
        by_id = bm25.by_id
        passages = [Passage(by_id[chunk_id], score, rank, similarity.get(chunk_id)) for rank, (chunk_id, score) in
                    enumerate((cid, s) for cid, s in best if cid in by_id)]
        return passages[:k]

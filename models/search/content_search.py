"""Content search: hybrid keyword and semantic search over course content items.

Each content item (a lesson, a book section, a video, a quiz) is one search result. Two views rank
them for a query:

- **keyword**: BM25 over the item's title (counted twice: a title names the topic), its module's
  title, its tags (skills, by id and name) and its text, with English stemming (``loops`` finds
  ``loop``, ``printing`` finds ``print``) and the symbols a programming course is asked about kept
  as words: the tutor's tokens (``models/tutor/retrieval.py``);
- **semantic**: MiniLM cosine similarity of the query to the item's passages (the tutor's index:
  passages, not whole items, because a long section's one vector says little), the best passage per item.

They are fused by reciprocal rank with the constant of its paper (Cormack et al., 2009: k = 60),
not a weight fitted to any question set. An item matches when a query word is in it, or when one of
its passages is as close to the query as the tutor's relevance line (``RELEVANCE_THRESHOLD``);
the others are not results. Filters (course, module, type, difficulty, tags, and the courses the
user may see, which the caller decides) apply before ranking, so facets count what the filters let
through. Each result has a snippet: the window of its text with the most query words (the best
passage for a semantic match), with the character ranges of the words to highlight.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Literal

import numpy as np

from models.embeddings import embed
from models.tutor.answers import RELEVANCE_THRESHOLD
from models.tutor.index import TutorIndex
from models.tutor.query_code import with_outlines, without_markers
from models.tutor.retrieval import BM25Index, stem, tokens

Mode = Literal["hybrid", "keyword", "semantic"]
MODES: tuple[Mode, ...] = ("hybrid", "keyword", "semantic")
RRF_K = 60  # Cormack et al.'s constant
SNIPPET_WORDS = 30
DIFFICULTY_BANDS = {"easy": (-np.inf, -0.5), "medium": (-0.5, 0.5), "hard": (0.5, np.inf)}  # IRT logits
WORD = re.compile(r"[A-Za-z0-9_]+")
HEADING = re.compile(r"^#{1,6}[ \t]+(.*?)[ \t]*$", re.MULTILINE)


def difficulty_band(difficulty: float | None) -> str | None:
    if difficulty is None:
        return None
    return next(band for band, (low, high) in DIFFICULTY_BANDS.items() if low <= difficulty < high)


@dataclass(frozen=True)
class SearchDocument:
    item_id: str
    course_id: str
    course_title: str
    module_id: str
    module_title: str
    content_type: str
    title: str
    text: str
    difficulty: float | None = None
    tags: tuple[str, ...] = ()  # skill names (and ids where unnamed): what the tags filter matches


@dataclass(frozen=True)
class Filters:
    courses: frozenset[str]  # the courses the user may see (and asked for)
    module_id: str | None = None
    content_type: str | None = None
    difficulty: str | None = None  # a band of DIFFICULTY_BANDS
    tags: frozenset[str] = frozenset()  # lower case; an item matches with any of them

    def admits(self, document: SearchDocument) -> bool:
        return (document.course_id in self.courses
                and (self.module_id is None or document.module_id == self.module_id)
                and (self.content_type is None or document.content_type == self.content_type)
                and (self.difficulty is None or difficulty_band(document.difficulty) == self.difficulty)
                and (not self.tags or any(tag.lower() in self.tags for tag in document.tags)))


@dataclass(frozen=True)
class Hit:
    document: SearchDocument
    score: float
    matched_by: tuple[str, ...]  # "keyword", "semantic"
    snippet: str
    highlights: list[tuple[int, int]]  # character ranges of the snippet that match the query


@dataclass(frozen=True)
class Results:
    total: int  # matching items the filters admit
    hits: list[Hit]
    facets: dict[str, list[tuple[str, str, int]]]  # facet -> (value, label, count), most first


def _readable(markdown: str, title: str) -> str:
    """Markdown as a snippet reads it: without the item's own title (shown above the snippet), each heading
    ended so that it does not run into its first sentence ("When to use a loop: Use a loop ..."), no code ticks."""
    stripped = markdown.lstrip()
    first = HEADING.match(stripped)
    if first and first.group(1).casefold() == title.strip().casefold() and stripped[first.end():].strip():
        markdown = stripped[first.end():]
    ended = HEADING.sub(lambda m: m.group(1) + ("" if m.group(1)[-1:] in ".:?!" else ":"), markdown)
    return ended.replace("`", "")


def _snippet(text: str, query_stems: set[str], passage: str | None, title: str = "") -> tuple[str, list[tuple[int, int]]]:
    """The window of ``SNIPPET_WORDS`` words of ``text`` with the most query words (``passage``'s start
    when none is there), and the ranges of those words in it."""
    source = _readable(text, title)
    words = list(WORD.finditer(source))
    if not words:
        return source[:200], []
    stems = [stem(w.group().lower()) for w in words]
    hit = [len(w.group()) > 1 and s in query_stems for w, s in zip(words, stems, strict=True)]
    if not any(hit) and passage:
        source = _readable(passage, title)
        words = list(WORD.finditer(source))
        stems = [stem(w.group().lower()) for w in words]
        hit = [len(w.group()) > 1 and s in query_stems for w, s in zip(words, stems, strict=True)]
    best, best_score = 0, -1.0
    for start in range(0, max(1, len(words) - SNIPPET_WORDS + 1), 5):
        window = range(start, min(len(words), start + SNIPPET_WORDS))
        score = len({stems[i] for i in window if hit[i]}) + 0.1 * sum(hit[i] for i in window)
        if score > best_score:
            best, best_score = start, score
    last = min(len(words), best + SNIPPET_WORDS) - 1
    begin, end = words[best].start(), words[last].end()
    snippet = " ".join(source[begin:end].split())  # one line: Markdown's line breaks would split it
    prefix, suffix = ("… " if best > 0 else ""), (" …" if last < len(words) - 1 else "")
    shown = prefix + snippet + suffix
    ranges = [(m.start(), m.end()) for m in WORD.finditer(shown)
              if len(m.group()) > 1 and stem(m.group().lower()) in query_stems]
    return shown, ranges


class ContentSearch:
    def __init__(self, documents: list[SearchDocument], passages: dict[str, list[tuple[str, np.ndarray]]] | None = None):
        """``passages``: item id -> (passage text, unit MiniLM vector), from the tutor's index."""
        self.documents = documents
        self.keyword = BM25Index([tokens(" ".join([d.title, d.title, d.module_title, " ".join(d.tags), d.text]))
                                  for d in documents])
        position = {d.item_id: i for i, d in enumerate(documents)}
        owners, texts, vectors = [], [], []
        for item_id, found in (passages or {}).items():
            if item_id in position:
                for text, vector in found:
                    owners.append(position[item_id])
                    texts.append(text)
                    vectors.append(vector)
        self.passage_owner = np.array(owners, dtype=np.int64)
        self.passage_text = texts
        self.vectors = np.array(vectors, dtype=np.float32) if vectors else np.zeros((0, 384), np.float32)

    @property
    def semantic(self) -> bool:
        """Whether the semantic half can run (the tutor's passages are loaded)."""
        return len(self.vectors) > 0

    def search(self, query: str, filters: Filters, *, k: int = 10, mode: Mode = "hybrid") -> Results:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        admitted = np.array([filters.admits(d) for d in self.documents], dtype=bool)
        query_stems = tokens(without_markers(query))
        rankings, matched = [], defaultdict(set)
        if mode in ("hybrid", "keyword"):
            scores = np.where(admitted, self.keyword.scores(query_stems), 0.0)
            ranked = [int(i) for i in np.argsort(-scores, kind="stable") if scores[i] > 0]
            rankings.append(ranked)
            for i in ranked:
                matched[i].add("keyword")
        best_passage: dict[int, int] = {}
        if mode in ("hybrid", "semantic") and self.semantic:
            similarity = self.vectors @ embed([with_outlines(query)])[0]
            best = np.full(len(self.documents), -np.inf)
            np.maximum.at(best, self.passage_owner, similarity)
            for p in np.argsort(-similarity, kind="stable"):
                best_passage.setdefault(int(self.passage_owner[p]), int(p))
            ranked = [int(i) for i in np.argsort(-best, kind="stable") if admitted[i] and best[i] >= RELEVANCE_THRESHOLD]
            rankings.append(ranked)
            for i in ranked:
                matched[i].add("semantic")
        fused: dict[int, float] = defaultdict(float)
        for ranking in rankings:
            for rank, i in enumerate(ranking):
                fused[i] += 1.0 / (RRF_K + rank + 1)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        stems = set(query_stems)
        hits = []
        for i in order[:k]:
            passage = self.passage_text[best_passage[i]] if i in best_passage else None
            snippet, ranges = _snippet(self.documents[i].text or self.documents[i].title, stems, passage,
                                       self.documents[i].title)
            hits.append(Hit(self.documents[i], fused[i], tuple(sorted(matched[i])), snippet, ranges))
        return Results(len(order), hits, self._facets([self.documents[i] for i in order]))

    @staticmethod
    def _facets(found: list[SearchDocument]) -> dict[str, list[tuple[str, str, int]]]:
        """Counts of the matching items by course, module, type, difficulty band and tag."""
        def counted(values: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
            counts = Counter(values)
            return [(value, label, n) for (value, label), n in sorted(counts.items(), key=lambda c: (-c[1], c[0]))]

        return {
            "course": counted([(d.course_id, d.course_title) for d in found]),
            "module": counted([(d.module_id, d.module_title) for d in found]),
            "type": counted([(d.content_type, d.content_type) for d in found]),
            "difficulty": counted([(band, band) for d in found if (band := difficulty_band(d.difficulty))]),
            "tags": counted([(tag, tag) for d in found for tag in d.tags]),
        }


def index_passages(index: TutorIndex) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Item id -> (passage text, vector) of every course in the tutor's index: the semantic half's input."""
    found: dict[str, list[tuple[str, np.ndarray]]] = defaultdict(list)
    for course_id in sorted(index.course_ids()):
        vectors = index.course_vectors(course_id)
        for chunk in index.course_chunks(course_id):
            if chunk.chunk_id in vectors:
                found[chunk.document_id].append((chunk.text, vectors[chunk.chunk_id]))
    return dict(found)

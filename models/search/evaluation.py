"""``learnlake eval search``: content search on an OpenStax book and its H5P questions.

The book's sections are the search's items (one course, a module per chapter); their passages are
embedded as the tutor indexes them. Each question's text (without its answer options: what a learner
types into a search box) is searched in each mode; the figures are the gold sections' recall@1 and @5,
MRR, and latency percentiles (the query's embedding included). Nothing is fitted to the questions.
"""

import time
from pathlib import Path

import numpy as np
from rich.progress import track

from lake.sources.datasets.common import DatasetError
from lake.sources.datasets.openstax import read_book
from models.headline import HEADLINE, against_strongest
from models.search.content_search import MODES, ContentSearch, Filters, SearchDocument, index_passages
from models.tutor.content import book_chunks
from models.tutor.index import TutorIndex
from models.tutor.rag_evaluation import read_questions


def evaluate(content_dir: Path, questions_dir: Path, *, progress: bool = False) -> dict:
    book = read_book(content_dir)
    documents = [SearchDocument(section.module_id, book.slug, book.title, f"chapter-{number}", chapter.title,
                                "lesson", section.title, section.markdown)
                 for number, chapter in enumerate(book.chapters, start=1) for section in chapter.sections]
    known = {d.item_id for d in documents}
    questions = [q for q in read_questions(questions_dir) if q["gold"] & known]
    if not questions:
        raise DatasetError(f"none of the questions names a section of the book in {content_dir}")
    index = TutorIndex.in_memory()
    index.sync_course(book.slug, book_chunks(book))
    search = ContentSearch(documents, index_passages(index))
    everything = Filters(courses=frozenset({book.slug}))
    search.search("warm up", everything, k=1)  # loads the embedding model once
    figures = {}
    for mode in MODES:
        first_hits, latencies = [], []
        for q in track(questions, description=f"{mode} search...", disable=not progress):
            started = time.perf_counter()
            found = search.search(q["question"], everything, k=10, mode=mode)
            latencies.append((time.perf_counter() - started) * 1000)
            ids = [hit.document.item_id for hit in found.hits]
            first_hits.append(next((rank for rank, i in enumerate(ids) if i in q["gold"]), None))
        ranks = np.array([r if r is not None else np.inf for r in first_hits])
        figures[mode] = {"recall_at_1": float(np.mean(ranks < 1)), "recall_at_5": float(np.mean(ranks < 5)),
                         "mrr_at_10": float(np.mean(np.where(np.isfinite(ranks), 1 / (ranks + 1), 0.0))),
                         "p50_ms": float(np.percentile(latencies, 50)), "p95_ms": float(np.percentile(latencies, 95))}
    return {"book": book.title, "sections": len(documents), "questions": len(questions),
            "query": "the question's text, without its options", **figures["hybrid"],
            "bm25_alone": figures["keyword"], "modes": figures,
            HEADLINE: {"recall_at_5": against_strongest(
                "recall@5 of the gold section", "hybrid", figures["hybrid"]["recall_at_5"],
                {f"{mode} alone": figures[mode]["recall_at_5"] for mode in MODES if mode != "hybrid"})}}

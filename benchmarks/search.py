"""``learnlake bench search``: content search over HTTP on an OpenStax book, beside ``/health/live``.

A fresh home: the book imported as a published course (``datasets load openstax``), the core tables
snapshot into the lake and the passages indexed and published for the tutor (``tutor index``), a learner
signed up; then the API on loopback, and every question of the book's question set searched in the
book's course by one client, one at a time, each followed by a ``/health/live`` request: the floor of an
HTTP round trip on this machine at that moment.
"""

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from benchmarks.harness import free_port, start_api
from lake.sources.core_snapshot import snapshot_core_tables
from lake.sources.datasets.openstax import read_book
from learnlake.settings import Settings
from models.tutor.indexing import index_lake_content
from models.tutor.rag_evaluation import read_questions
from serving.core.imports import import_book
from serving.core.migrate import migrated_database
from serving.core.outbox import Outbox

PASSWORD = "bench-search-password"


@dataclass
class SearchBenchmark:
    book: str
    sections: int
    queries: int
    with_results: int  # queries answered with at least one section
    search_p50_ms: float
    search_p95_ms: float
    search_p99_ms: float
    health_p50_ms: float
    health_p95_ms: float


@contextmanager
def served_book(content_dir: Path, progress=lambda _: None, env: dict | None = None) -> Iterator[tuple[str, str, int, str]]:
    """A fresh home holding the book as a published course, indexed for the tutor, served on loopback (with ``env``
    added to the API's environment): (the API's URL, the course id, the book's sections, its title)."""
    book = read_book(content_dir)
    with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
        home = Path(tmp) / "learnlake"
        settings = Settings(home=home)
        progress("importing and indexing the book...")
        with migrated_database(settings.database_url) as database:
            course_id = import_book(database, Outbox.for_settings(settings), book).course_id
        snapshot_core_tables(settings.database_url, settings)
        index_lake_content(settings)
        port = free_port()
        api = start_api(home, port, env=env)
        try:
            yield f"http://127.0.0.1:{port}", course_id, len(book.sections), book.title
        finally:
            api.terminate()
            api.wait(60)


def run(content_dir: Path, questions_dir: Path, progress=lambda _: None) -> SearchBenchmark:
    questions = read_questions(questions_dir)
    with served_book(content_dir, progress) as (url, course_id, sections, title):
        progress(f"searching {len(questions)} questions over HTTP...")
        return _measure(url, course_id, title, sections, questions)


def _measure(url: str, course_id: str, title: str, sections: int, questions: list[dict]) -> SearchBenchmark:
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/api/v1/auth/register", json={"email": "reader@bench.example", "name": "Reader",
                                                   "password": PASSWORD})
        token = client.post("/api/v1/auth/login", json={"email": "reader@bench.example", "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        client.get("/api/v1/search", params={"q": "warm up", "course_id": course_id})  # builds the index
        search, health, with_results = [], [], 0
        for question in questions:
            started = time.perf_counter()
            found = client.get("/api/v1/search", params={"q": question["question"][:500], "course_id": course_id,
                                                         "limit": 5})
            search.append((time.perf_counter() - started) * 1000)
            found.raise_for_status()
            with_results += bool(found.json()["results"])
            started = time.perf_counter()
            client.get("/health/live").raise_for_status()
            health.append((time.perf_counter() - started) * 1000)

    def ms(values: list[float], q: float) -> float:
        return round(float(np.percentile(values, q)), 2)

    return SearchBenchmark(title, sections, len(search), with_results, ms(search, 50), ms(search, 95), ms(search, 99),
                           ms(health, 50), ms(health, 95))

"""``learnlake bench tutor-ratings``: what remembering the askers' ratings costs a question to the tutor.

A fresh home holding an OpenStax book (as ``bench search``), a few learners enrolled; every question of the
book's question set asked once over HTTP to warm up, then again, timed, with no rating in the course; the second
pass's answers then rated (helpful at random, four in five), and every question asked a third time: each ask then
reads the course's rated turns and meets their votes. The first ask after the ratings embeds up to
``EMBEDDED_PER_ASK`` rated questions (timed on its own); ``/health/live`` after each ask is the floor of an HTTP
round trip at that moment.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from benchmarks.search import served_book
from models.tutor.rag_evaluation import read_questions

LEARNERS = 5
PASSWORD = "bench-tutor-password"
HELPFUL_SHARE = 0.8
# Many questions from a few learners in a few minutes: the write and sign-in limits are not what is measured.
LIMITS = {"LEARNLAKE_RATE_LIMIT_WRITE": "100000/minute", "LEARNLAKE_RATE_LIMIT_AUTH": "1000/minute"}


@dataclass
class TutorRatingsBenchmark:
    book: str
    questions: int
    rated_turns: int
    ask_p50_ms_unrated: float
    ask_p95_ms_unrated: float
    first_ask_after_rating_ms: float  # embeds every rated question once
    ask_p50_ms_rated: float
    ask_p95_ms_rated: float
    health_p50_ms: float
    p50_ratio: float  # rated against unrated


def run(content_dir: Path, questions_dir: Path, progress=lambda _: None) -> TutorRatingsBenchmark:
    questions = [q["question"][:2000] for q in read_questions(questions_dir)]
    with served_book(content_dir, progress, env=LIMITS) as (url, course_id, _sections, title):
        learners = [_enrolled_learner(url, course_id, n) for n in range(LEARNERS)]
        # A first pass warms what every later ask reuses (the answers' sentences are kept embedded).
        progress(f"asking {len(questions)} questions to warm up...")
        _ask_all(learners, course_id, questions)
        progress(f"asking {len(questions)} questions with no rating in the course...")
        unrated, turns, health = _ask_all(learners, course_id, questions)
        progress(f"rating {len(turns)} answers...")
        rng = np.random.default_rng(0)
        for n, turn_id in enumerate(turns):
            learners[n % LEARNERS].put(f"/api/v1/tutor/turns/{turn_id}/rating",
                                       json={"helpful": bool(rng.random() < HELPFUL_SHARE)}).raise_for_status()
        progress("asking them again, with every answer rated...")
        rated, _, more_health = _ask_all(learners, course_id, questions)
        for client in learners:
            client.close()
    first, rated = rated[0], rated[1:]

    def ms(values: list[float], q: float) -> float:
        return round(float(np.percentile(values, q)), 2)

    return TutorRatingsBenchmark(title, len(questions), len(turns), ms(unrated, 50), ms(unrated, 95), round(first, 2),
                                 ms(rated, 50), ms(rated, 95), ms(health + more_health, 50),
                                 round(ms(rated, 50) / ms(unrated, 50), 3))


def _enrolled_learner(url: str, course_id: str, n: int) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=120)
    email = f"asker{n}@bench.example"
    client.post("/api/v1/auth/register", json={"email": email, "name": f"Asker {n}", "password": PASSWORD})
    token = client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
    token.raise_for_status()
    client.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    client.post(f"/api/v1/courses/{course_id}/enrollments").raise_for_status()
    return client


def _ask_all(learners: list[httpx.Client], course_id: str,
             questions: list[str]) -> tuple[list[float], list[str], list[float]]:
    """Each question asked by the next learner in turn: (latencies in ms, turn ids, /health/live latencies)."""
    latencies, turns, health = [], [], []
    for n, question in enumerate(questions):
        client = learners[n % len(learners)]
        started = time.perf_counter()
        reply = client.post("/api/v1/tutor/ask", json={"course_id": course_id, "question": question})
        latencies.append((time.perf_counter() - started) * 1000)
        reply.raise_for_status()
        turns.append(reply.json()["turn_id"])
        started = time.perf_counter()
        client.get("/health/live").raise_for_status()
        health.append((time.perf_counter() - started) * 1000)
    return latencies, turns, health

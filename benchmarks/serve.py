"""`learnlake bench serve`: latency and throughput of the served models, beside a trivial endpoint.

Trains a demo platform in a throwaway home (or uses ``--home``), starts the API on loopback in
one process, then for each endpoint in turn keeps ``clients`` concurrent clients sending
requests back to back (closed loop, keep-alive) for ``duration_s`` seconds, after a short
warm-up that is not counted:

- ``health``: ``GET /health/live``, the floor of this stack (HTTP, routing, JSON), no auth;
- ``recommendations``: ``GET /api/v1/learners/{id}/recommendations`` for enrolled learners of
  the demo, each with their own token (JWT check, account lookup, online store, champions);
- ``tutor_ask``: ``POST /api/v1/tutor/ask`` (retrieval, an answer, a kept turn, a lake event),
  with ``tutor_clients`` clients: each question embeds text on the CPU. Each course is asked
  questions about its own subject (the demo's lessons teach them), and the share the tutor
  answered from the material, rather than saying it does not know, is reported beside the times.

Rate limits are lifted in the benchmarked API, which is the one setting it changes.
"""

import asyncio
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import sqlalchemy as sa

from benchmarks.harness import free_port, start_api
from learnlake.settings import Settings
from serving.core.security import issue_access_token

log = logging.getLogger(__name__)
WARM_UP_S = 2.0  # per endpoint, not counted
SETTLE_S = 3.0  # after the relay has caught up
# Questions a learner of each demo course might ask; a course of another title gets the first set.
QUESTIONS = {
    "Python Foundations": ("What is a variable?", "When should I use a loop?", "How do I add an item to a list?",
                           "What does return do in a function?"),
    "Statistics for Data Science": ("How do I compute the mean of a list?", "What does a hypothesis test tell me?",
                                    "What is the difference between variance and standard deviation?",
                                    "What is a p-value?"),
    "Web Development Basics": ("What is the box model?", "What does a 404 status code mean?",
                               "How do I run code when a button is clicked?", "Why does an image need alt text?"),
    "Databases and SQL": ("What is a foreign key?", "What is the difference between an inner join and a left join?",
                          "What does GROUP BY do?", "Why do indexes slow down writes?"),
    "Machine Learning 101": ("What is overfitting?", "Why do we need a test set?", "What does ROC AUC measure?",
                             "How does a decision tree make a prediction?"),
    "Calculus I": ("What is a derivative?", "How does the chain rule work?", "What is a limit?",
                   "What does the fundamental theorem of calculus say?"),
}
UNLIMITED = {"LEARNLAKE_RATE_LIMIT_READ": "100000000/minute", "LEARNLAKE_RATE_LIMIT_WRITE": "100000000/minute",
             "LEARNLAKE_RATE_LIMIT_AUTH": "100000000/minute"}


@dataclass(frozen=True)
class EndpointFigures:
    clients: int
    requests: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    answered_share: float | None = None  # tutor only: answers grounded in the material, not "I don't know"


@dataclass(frozen=True)
class TelemetryCost:
    """One endpoint served with telemetry (metrics, request ids, request log lines) and without
    it (LEARNLAKE_TELEMETRY=false), in alternating rounds on the same home and machine."""

    requests_per_s_with: float
    requests_per_s_without: float
    p50_ms_with: float
    p50_ms_without: float
    overhead_pct: float  # how much more time a request takes with it: median of the rounds' throughput ratios


@dataclass(frozen=True)
class ServeBenchmark:
    duration_s: float
    learners: int
    endpoints: dict[str, EndpointFigures]
    recommendations_p99_over_health_p99: float
    telemetry: dict[str, TelemetryCost] | None = None


def _percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


async def _drive(port: int, requests: list[dict], clients: int, duration_s: float, *,
                 count_grounded: bool = False) -> EndpointFigures:
    """``clients`` closed-loop clients cycling through ``requests`` (method, url, params, headers, json);
    with ``count_grounded``, the share of answers whose ``grounded`` is true.

    aiohttp, not httpx: with 50 connections httpx's pool alone caps at about 200 requests/s on
    this machine, where aiohttp drives a trivial endpoint at over 6,000.
    """
    latencies: list[float] = []
    errors = grounded = 0
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", connector=connector, timeout=timeout) as session:
        async def one_client(seed: int, until: float, record: bool) -> None:
            nonlocal errors, grounded
            rng = random.Random(seed)
            while time.perf_counter() < until:
                request = requests[rng.randrange(len(requests))]
                started = time.perf_counter()
                async with session.request(**request) as response:
                    body = await response.read()
                elapsed = time.perf_counter() - started
                if record:
                    latencies.append(elapsed)
                    errors += response.status >= 400
                    if count_grounded and response.status < 400:
                        grounded += json.loads(body).get("grounded") is True

        warm_until = time.perf_counter() + WARM_UP_S
        await asyncio.gather(*(one_client(i, warm_until, False) for i in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(one_client(1000 + i, started + duration_s, True) for i in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return EndpointFigures(clients=clients, requests=len(latencies), errors=errors,
                           requests_per_s=round(len(latencies) / elapsed, 1),
                           p50_ms=round(statistics.median(latencies) * 1000, 2),
                           p99_ms=round(_percentile(latencies, 0.99) * 1000, 2),
                           answered_share=round(grounded / len(latencies), 3) if count_grounded else None)


def _demo_home(tmp: Path, learners: int, progress) -> Path:
    home = tmp / "learnlake"
    progress(f"training a demo platform of {learners} learners (learnlake demo --no-serve)...")
    done = subprocess.run([sys.executable, "-c", "from learnlake.cli import app; app()", "demo", "--no-serve",
                           "--learners", str(learners)],
                          env={**os.environ, "LEARNLAKE_HOME": str(home)}, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the demo failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return home


def _requests(settings: Settings) -> tuple[list[dict], list[dict], int]:
    """Recommendation and tutor requests for the demo's enrolled learners, each with their own token."""
    engine = sa.create_engine(settings.database_url)
    with engine.connect() as con:
        enrolled = con.execute(sa.text("select e.user_id, e.course_id, u.role, c.title from enrollments as e "
                                       "join users as u on u.id = e.user_id join courses as c on c.id = e.course_id "
                                       "where e.status <> 'unenrolled'")).all()
    engine.dispose()
    recommendations, questions = [], []
    first_set = next(iter(QUESTIONS.values()))
    for n, (user_id, course_id, role, title) in enumerate(enrolled):
        # A repeated demo blueprint is titled "Calculus I (2)": its subject is the blueprint's.
        asked = QUESTIONS.get(title.split(" (")[0], first_set)
        headers = {"Authorization": f"Bearer {issue_access_token(user_id, role, settings)}"}
        recommendations.append({"method": "GET", "url": f"/api/v1/learners/{user_id}/recommendations",
                                "params": {"course_id": course_id, "k": "10"}, "headers": headers})
        questions.append({"method": "POST", "url": "/api/v1/tutor/ask", "headers": headers,
                          "json": {"course_id": course_id, "question": asked[n % len(asked)]}})
    return recommendations, questions, len({u for u, *_ in enrolled})


def _wait_for_outbox_relay(settings: Settings, timeout_s: float = 600) -> None:
    """Until no domain event waits in the core outbox: a fresh demo's relay would load the
    machine for a minute and more, and its cost is not the endpoints'."""
    engine = sa.create_engine(settings.database_url)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            with engine.connect() as con:
                if not con.execute(sa.text("select count(*) from outbox where relay_batch is null")).scalar():
                    return
            time.sleep(1)
    finally:
        engine.dispose()
    raise RuntimeError(f"the outbox relay did not catch up within {timeout_s:g} s")


def run(*, clients: int = 50, tutor_clients: int = 8, duration_s: float = 10.0, learners: int = 400,
        home: Path | None = None, telemetry_rounds: int = 0, progress=log.info) -> ServeBenchmark:
    """With ``telemetry_rounds``, a second API without telemetry serves the same home, and health and
    recommendations are also driven on each in turn that many times (``telemetry`` in the result)."""
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-serve-") as tmp:
        home = home or _demo_home(Path(tmp), learners, progress)
        # A landing log of its own: the home may be served by another process at the same time.
        env = {**UNLIMITED, "LEARNLAKE_HOME": str(home), "LEARNLAKE_WRITER_ID": f"bench-serve-{os.getpid()}"}
        settings = Settings(home=home)
        recommendations, questions, learner_count = _requests(settings)
        port = free_port()
        # The API logs as a server does: a JSON line per request, to a file.
        api = start_api(home, port, env=env, log_file=Path(tmp) / "api.log")
        plain = None
        try:
            progress("waiting for the committer beside the API to relay the demo's domain events...")
            _wait_for_outbox_relay(settings)
            if telemetry_rounds:
                plain_port = free_port()
                plain = (plain_port, start_api(home, plain_port, log_file=Path(tmp) / "api-plain.log", env={
                    **env, "LEARNLAKE_WRITER_ID": f"bench-serve-plain-{os.getpid()}", "LEARNLAKE_TELEMETRY": "false"}))
            time.sleep(SETTLE_S)
            telemetry = None
            if plain is not None:  # first, while both APIs have served the same (nothing): a fair pair
                telemetry = {name: _telemetry_cost(port, plain[0], requests, clients, duration_s, telemetry_rounds,
                                                   progress, name)
                             for name, requests in (("health", [{"method": "GET", "url": "/health/live"}]),
                                                    ("recommendations", recommendations))}
            endpoints = {}
            for name, requests, n in (("health", [{"method": "GET", "url": "/health/live"}], clients),
                                      ("recommendations", recommendations, clients),
                                      ("tutor_ask", questions, tutor_clients)):
                progress(f"{name}: {n} clients for {duration_s:g} s...")
                endpoints[name] = asyncio.run(_drive(port, requests, n, duration_s,
                                                     count_grounded=name == "tutor_ask"))
        finally:
            for proc in (api, plain[1] if plain else None):
                if proc is not None:
                    proc.terminate()
                    proc.wait(60)
    return ServeBenchmark(duration_s=duration_s, learners=learner_count, endpoints=endpoints,
                          recommendations_p99_over_health_p99=round(
                              endpoints["recommendations"].p99_ms / endpoints["health"].p99_ms, 2),
                          telemetry=telemetry)


def _telemetry_cost(port_with: int, port_without: int, requests: list[dict], clients: int, duration_s: float,
                    rounds: int, progress, name: str) -> TelemetryCost:
    """Drive the two APIs in turn ``rounds`` times, the order swapped each round (this machine's speed drifts
    within a minute); the overhead is the median of each round's paired ratio."""
    measured: dict[bool, list[EndpointFigures]] = {True: [], False: []}
    for round_ in range(rounds):
        for with_telemetry in (round_ % 2 == 1, round_ % 2 == 0):
            progress(f"{name}, round {round_ + 1}/{rounds}, telemetry {'on' if with_telemetry else 'off'}...")
            measured[with_telemetry].append(asyncio.run(_drive(
                port_with if with_telemetry else port_without, requests, clients, duration_s)))
    ratios = [off.requests_per_s / on.requests_per_s for on, off in zip(measured[True], measured[False], strict=True)]
    rps = {side: statistics.median(f.requests_per_s for f in figures) for side, figures in measured.items()}
    p50 = {side: statistics.median(f.p50_ms for f in figures) for side, figures in measured.items()}
    return TelemetryCost(requests_per_s_with=rps[True], requests_per_s_without=rps[False], p50_ms_with=p50[True],
                         p50_ms_without=p50[False], overhead_pct=round((statistics.median(ratios) - 1) * 100, 1))

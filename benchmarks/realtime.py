"""`learnlake bench realtime`: many WebSocket clients held at once, a course message fanned out to all.

Starts the API on loopback in its own process (a throwaway home whose core database holds one
course and ``clients`` enrolled learners). Every client connects to ``/api/v1/ws`` with its own
token and joins the course's room; the instructor then posts announcements
(``POST /api/v1/courses/{id}/announcements``) one after another, and each client notes when each
arrives. Reported: connections held, deliveries made of those due, delivery latency (p50, p99,
max: from just before the POST until the client has the message), and the API's latency on a plain
authenticated read (``GET /api/v1/notifications``) with no client connected and while the clients
are connected and receiving, measured in the same run.
"""

import asyncio
import logging
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from websockets.asyncio.client import connect

from benchmarks.harness import free_port, start_api

log = logging.getLogger(__name__)

CONNECT_BATCH = 100  # connections opened at once: the server's accept backlog is 2048


@dataclass(frozen=True)
class RealtimeBenchmark:
    clients: int
    connected: int
    messages: int
    deliveries: int
    deliveries_due: int
    delivery_p50_ms: float
    delivery_p99_ms: float
    delivery_max_ms: float
    connect_s: float
    api_idle_p50_ms: float
    api_idle_p99_ms: float
    api_connected_p50_ms: float
    api_connected_p99_ms: float
    api_latency_ratio: float


def _people(home: Path, clients: int) -> tuple[str, str, list[str]]:
    """(course id, the instructor's token, each learner's token) in a fresh core database under ``home``."""
    from learnlake.settings import Settings
    from serving.core.db import Database
    from serving.core.enums import CourseStatus, Role
    from serving.core.migrate import upgrade
    from serving.core.security import issue_access_token
    from serving.core.tables import Course, Enrollment, User

    settings = Settings(home=home)
    upgrade(settings.database_url)
    database = Database(settings.database_url)
    with database.write() as session:
        teacher = User(email="teacher@bench.example", name="Teacher", role=Role.INSTRUCTOR)
        session.add(teacher)
        session.flush()
        course = Course(title="Fan-out", instructor_id=teacher.id, status=CourseStatus.PUBLISHED)
        session.add(course)
        learners = [User(email=f"learner{i}@bench.example", name=f"Learner {i}") for i in range(clients)]
        session.add_all(learners)
        session.flush()
        session.add_all([Enrollment(user_id=u.id, course_id=course.id) for u in learners])
        ids = (course.id, teacher.id, [u.id for u in learners])
    database.dispose()
    course_id, teacher_id, learner_ids = ids
    return (course_id, issue_access_token(teacher_id, Role.INSTRUCTOR, settings),
            [issue_access_token(i, Role.LEARNER, settings) for i in learner_ids])


def _api_latencies(base: str, token: str, requests: int) -> list[float]:
    latencies = []
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        for _ in range(requests):
            started = time.perf_counter()
            assert client.get("/api/v1/notifications", params={"limit": 1}).status_code == 200
            latencies.append(time.perf_counter() - started)
    return latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def _client(url: str, token: str, room: str, arrivals: dict, ready: asyncio.Event, done: asyncio.Event,
                  joined: list) -> None:
    async with connect(url, subprotocols=["learnlake", token], max_size=2**20, open_timeout=60) as ws:
        await ws.send(orjson.dumps({"type": "subscribe", "room": room}).decode())
        while True:
            message = orjson.loads(await ws.recv())
            if message["type"] == "subscribed":
                joined.append(1)
                break
        ready.set()
        while not done.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            message = orjson.loads(raw)
            if message["type"] == "course.announcement":
                arrivals.setdefault(message["data"]["title"], []).append(time.perf_counter())


async def _fan_out(port: int, course_id: str, teacher: str, tokens: list[str], messages: int, api_requests: int,
                   progress) -> dict:
    url, base = f"ws://127.0.0.1:{port}/api/v1/ws", f"http://127.0.0.1:{port}"
    arrivals: dict[str, list[float]] = {}
    done, joined = asyncio.Event(), []
    started = time.perf_counter()
    tasks = []
    for i in range(0, len(tokens), CONNECT_BATCH):
        batch_ready = [asyncio.Event() for _ in tokens[i:i + CONNECT_BATCH]]
        tasks += [asyncio.create_task(_client(url, token, f"course:{course_id}", arrivals, ready, done, joined))
                  for token, ready in zip(tokens[i:i + CONNECT_BATCH], batch_ready, strict=True)]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in batch_ready)), timeout=120)
    connect_s = time.perf_counter() - started
    progress(f"{len(joined):,} clients connected in {connect_s:.1f} s; {messages} announcements...")

    connected_latencies: list[float] = []
    measuring = threading.Thread(target=lambda: connected_latencies.extend(
        _api_latencies(base, tokens[0], api_requests)))
    measuring.start()
    sent_at = {}
    async with httpx.AsyncClient(base_url=base, timeout=60, headers={"Authorization": f"Bearer {teacher}"}) as http:
        for n in range(messages):
            title = f"announcement {n}"
            sent_at[title] = time.perf_counter()
            response = await http.post(f"/api/v1/courses/{course_id}/announcements", json={"title": title})
            assert response.status_code == 202, response.text
            await asyncio.sleep(0.2)
    deadline = time.monotonic() + 30
    while sum(len(v) for v in arrivals.values()) < len(joined) * messages and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.to_thread(measuring.join)
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [(t - sent_at[title]) * 1000 for title, times in arrivals.items() for t in times]
    return {"connected": len(joined), "connect_s": connect_s, "latencies": latencies,
            "deliveries": len(latencies), "connected_api": connected_latencies}


def run(clients: int = 1000, messages: int = 20, api_requests: int = 200, progress=log.info) -> RealtimeBenchmark:
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-realtime-") as tmp:
        home = Path(tmp) / "learnlake"
        progress(f"making {clients:,} learners enrolled in one course...")
        course_id, teacher, tokens = _people(home, clients)
        port = free_port()
        api = start_api(home, port, env={"LEARNLAKE_RATE_LIMIT_READ": "1000000/minute",
                                         "LEARNLAKE_RATE_LIMIT_WRITE": "1000000/minute"},
                        log_file=Path(tmp) / "api.log")
        try:
            idle = _api_latencies(f"http://127.0.0.1:{port}", tokens[0], api_requests)
            result = asyncio.run(_fan_out(port, course_id, teacher, tokens, messages, api_requests, progress))
        finally:
            api.terminate()
            api.wait(60)
    latencies, connected = result["latencies"], result["connected_api"]
    idle_p50, connected_p50 = statistics.median(idle) * 1000, statistics.median(connected) * 1000
    return RealtimeBenchmark(
        clients=clients, connected=result["connected"], messages=messages, deliveries=result["deliveries"],
        deliveries_due=result["connected"] * messages,
        delivery_p50_ms=round(statistics.median(latencies), 1) if latencies else float("nan"),
        delivery_p99_ms=round(_percentile(latencies, 0.99), 1), delivery_max_ms=round(max(latencies, default=0), 1),
        connect_s=round(result["connect_s"], 2),
        api_idle_p50_ms=round(idle_p50, 2), api_idle_p99_ms=round(_percentile(idle, 0.99) * 1000, 2),
        api_connected_p50_ms=round(connected_p50, 2),
        api_connected_p99_ms=round(_percentile(connected, 0.99) * 1000, 2),
        api_latency_ratio=round(connected_p50 / idle_p50, 2),
    )

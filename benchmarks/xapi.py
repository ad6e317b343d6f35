"""`learnlake bench xapi`: how fast the LRS answers, beside the native ingestion path, in one run.

Starts the API on loopback in its own process (its own throwaway home, a source key with every
scope) and, from concurrent keep-alive clients, times: native events one by one and in batches
(``POST /v1/events``, the baseline), xAPI statements one by one and in batches, statement queries
with filters, and State documents written (PUT) and read (GET). Each figure is requests (or
statements) per second with p50 and p99 latency; ``ratio_to_native`` divides each xAPI write rate
by the native rate at the same batch size.
"""

import base64
import http.client
import json
import logging
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import orjson

from benchmarks.harness import free_port, simulated_events, source_key, start_api
from lake.event_rows import row_to_native

log = logging.getLogger(__name__)

VERBS = ("http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/answered",
         "http://adlnet.gov/expapi/verbs/attempted", "http://adlnet.gov/expapi/verbs/experienced")
XAPI = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


@dataclass(frozen=True)
class Rate:
    requests: int
    items_per_s: float  # events, statements, queries or documents a second
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class XapiBenchmark:
    clients: int
    batch: int
    native_single: Rate
    native_batch: Rate
    statements_single: Rate
    statements_batch: Rate
    queries: Rate
    state_put: Rate
    state_get: Rate
    single_ratio_to_native: float
    batch_ratio_to_native: float


def _statement(i: int) -> dict:
    return {"id": str(uuid.uuid4()), "actor": {"objectType": "Agent", "mbox": f"mailto:learner{i % 500}@example.org"},
            "verb": {"id": VERBS[i % len(VERBS)]},
            "object": {"id": f"http://example.org/course/1/item/{i % 200}",
                       "definition": {"name": {"en-US": f"Item {i % 200}"}}},
            "result": {"success": i % 3 != 0, "score": {"scaled": (i % 10) / 10}}}


def _timed(port: int, requests: list[tuple[str, str, bytes | None, dict, int]], clients: int) -> tuple[float, list]:
    """Send every request (each client its share, keep-alive); (elapsed seconds, latencies in seconds)."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(share) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for method, path, body, headers, expected in share:
            started = time.perf_counter()
            con.request(method, path, body=body, headers=headers)
            response = con.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != expected:
                errors.append(f"{method} {path}: {response.status} {answer[:200]!r}")
        con.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(requests[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} request(s) failed, first: {errors[0]}")
    return elapsed, latencies


def _rate(port: int, requests: list, clients: int, items_per_request: int = 1) -> Rate:
    elapsed, latencies = _timed(port, requests, clients)
    latencies.sort()
    return Rate(requests=len(requests), items_per_s=round(len(requests) * items_per_request / elapsed, 1),
                p50_ms=round(statistics.median(latencies) * 1000, 2),
                p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2))


def run(requests: int = 2000, batch: int = 100, clients: int = 4, progress=log.info) -> XapiBenchmark:
    natives = [row_to_native(row) for row in simulated_events(requests + requests // 10 * batch).iter_rows(named=True)]
    statements = [_statement(i) for i in range(requests + requests // 10 * batch)]
    batches = requests // 10  # batched runs send a tenth as many requests, each of ``batch`` items
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-xapi-") as tmp:
        home = Path(tmp) / "learnlake"
        key = source_key(home)
        basic = {**XAPI, "Authorization": "Basic " + base64.b64encode(f"bench:{key}".encode()).decode()}
        bearer = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
        port = free_port()
        api = start_api(home, port, env={"LEARNLAKE_RATE_LIMIT_INGEST": "1000000/second"},
                        log_file=Path(tmp) / "api.log")
        try:
            progress(f"native events: {requests:,} one by one, {batches:,} batches of {batch}...")
            native_single = _rate(port, [("POST", "/v1/events", orjson.dumps([e]), bearer, 202)
                                         for e in natives[:requests]], clients)
            rest = natives[requests:]
            native_batch = _rate(port, [("POST", "/v1/events", orjson.dumps(rest[i * batch:(i + 1) * batch]), bearer,
                                         202) for i in range(batches)], clients, batch)
            progress(f"xAPI statements: {requests:,} one by one, {batches:,} batches of {batch}...")
            statements_single = _rate(port, [("POST", "/xapi/statements", orjson.dumps(s), basic, 200)
                                             for s in statements[:requests]], clients)
            rest = statements[requests:]
            statements_batch = _rate(port, [("POST", "/xapi/statements", orjson.dumps(rest[i * batch:(i + 1) * batch]),
                                             basic, 200) for i in range(batches)], clients, batch)
            progress(f"{requests:,} statement queries with filters...")
            queries = _rate(port, [("GET", "/xapi/statements?" + _query(i), None, basic, 200)
                                   for i in range(requests)], clients)
            progress(f"State documents: {requests:,} PUT, {requests:,} GET...")
            states = [_state_path(i) for i in range(requests)]
            state_put = _rate(port, [("PUT", path, orjson.dumps({"bookmark": i, "suspend_data": "x" * 200}), basic, 204)
                                     for i, path in enumerate(states)], clients)
            state_get = _rate(port, [("GET", path, None, basic, 200) for path in states], clients)
        finally:
            api.terminate()
            api.wait(60)
    return XapiBenchmark(
        clients=clients, batch=batch, native_single=native_single, native_batch=native_batch,
        statements_single=statements_single, statements_batch=statements_batch, queries=queries,
        state_put=state_put, state_get=state_get,
        single_ratio_to_native=round(statements_single.items_per_s / native_single.items_per_s, 3),
        batch_ratio_to_native=round(statements_batch.items_per_s / native_batch.items_per_s, 3),
    )


def _query(i: int) -> str:
    """A query as a dashboard sends one: a learner's statements of one verb, or an activity's, ten at a time."""
    if i % 2:
        return urlencode({"agent": json.dumps({"mbox": f"mailto:learner{i % 500}@example.org"}),
                          "verb": VERBS[i % len(VERBS)], "limit": 10})
    return urlencode({"activity": f"http://example.org/course/1/item/{i % 200}", "limit": 10})


def _state_path(i: int) -> str:
    return "/xapi/activities/state?" + urlencode({
        "activityId": f"http://example.org/course/1/item/{i % 200}",
        "agent": json.dumps({"mbox": f"mailto:learner{i % 500}@example.org"}), "stateId": f"bookmark-{i}"})

"""`learnlake bench ingest`: how fast events go from HTTP clients to Delta, measured end to end.

Starts the API on loopback in its own process (with its own throwaway home), posts N
simulator events in batches of B from concurrent clients, waits until every batch is
committed to Delta, checks the table holds exactly N distinct event ids, and compares the
rate with the cost floor: writing the same events straight to one Parquet file.
"""

import http.client
import logging
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow.parquet as pq

from benchmarks.harness import free_port, get_json, simulated_events, source_key, start_api
from lake.event_rows import row_to_native
from lake.readers import read_table
from learnlake.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestBenchmark:
    events: int
    batch: int
    clients: int
    events_per_s: float
    committed_events_per_s: float
    p50_ack_ms: float
    p99_ack_ms: float
    raw_write_events_per_s: float
    ratio: float
    delta_rows: int
    delta_distinct_ids: int


def post_batches(port: int, bodies: list[bytes], clients: int, key: str) -> list[float]:
    """Post every body (each client its share, keep-alive) with a source key; returns the ack latencies in seconds."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(share: list[bytes]) -> None:
        con = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for body in share:
            started = time.perf_counter()
            con.request("POST", "/v1/events", body=body, headers={"Content-Type": "application/json",
                                                                 "Authorization": f"Bearer {key}"})
            response = con.getresponse()
            answer = response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 202:
                errors.append(f"{response.status}: {answer[:200]!r}")
        con.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(bodies[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} batch(es) refused, first: {errors[0]}")
    return latencies


def wait_until_committed(port: int, key: str, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = get_json(port, "/v1/ingest/status", headers={"Authorization": f"Bearer {key}"})
        if status["backlog_batches"] == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"events not committed within {timeout_s} s")


def run(events: int = 200_000, batch: int = 500, clients: int = 4, progress=log.info) -> IngestBenchmark:
    progress(f"simulating {events:,} events...")
    frame = simulated_events(events)
    natives = [row_to_native(row) for row in frame.iter_rows(named=True)]
    bodies = [orjson.dumps(natives[i:i + batch]) for i in range(0, len(natives), batch)]

    with tempfile.TemporaryDirectory(prefix="learnlake-bench-") as tmp:
        home = Path(tmp) / "learnlake"
        raw_path = Path(tmp) / "raw.parquet"
        arrow = frame.to_arrow()
        started = time.perf_counter()
        pq.write_table(arrow, raw_path)
        raw_rate = events / (time.perf_counter() - started)

        key = source_key(home)
        port = free_port()
        # The key's rate limit is checked on every request, as in production, but set above what the
        # load generator can send: this measures throughput, not the limit.
        api = start_api(home, port, env={"LEARNLAKE_RATE_LIMIT_INGEST": "1000000/second"},
                        log_file=Path(tmp) / "api.log")  # a JSON line per request, as a server logs
        try:
            progress(f"posting {len(bodies):,} batches of {batch} from {clients} clients...")
            started = time.perf_counter()
            latencies = post_batches(port, bodies, clients, key)
            acked_s = time.perf_counter() - started
            wait_until_committed(port, key)
            committed_s = time.perf_counter() - started
        finally:
            api.terminate()
            api.wait(60)
        table = read_table("bronze.events", settings=Settings(home=home)).select("event_id")

    latencies.sort()
    rate = events / acked_s
    return IngestBenchmark(
        events=events,
        batch=batch,
        clients=clients,
        events_per_s=round(rate),
        committed_events_per_s=round(events / committed_s),
        p50_ack_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ack_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 2),
        raw_write_events_per_s=round(raw_rate),
        ratio=round(rate / raw_rate, 4),
        delta_rows=table.height,
        delta_distinct_ids=table["event_id"].n_unique(),
    )

"""`learnlake bench ingest`: how fast events go from HTTP clients to Delta, measured end to end.

Starts the API on loopback in its own process (with its own throwaway home), posts N
simulator events in batches of B from concurrent clients, waits until every batch is
committed to Delta, checks the table holds exactly N distinct event ids, and compares the
rate with the cost floor: writing the same events straight to one Parquet file.

With ``replicas``, the production topology instead: N API replicas behind nginx on one lake, with a
scratch PostgreSQL database as the core database (where the replicas claim event ids), beside
one replica behind the same proxy.
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
import polars as pl
import pyarrow.parquet as pq

from benchmarks.harness import (
    ApiReplicas,
    free_port,
    get_json,
    scratch_postgres,
    simulated_events,
    source_key,
    start_api,
)
from benchmarks.reverse_proxy import nginx
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


@dataclass(frozen=True)
class ReplicasRun:
    replicas: int
    events_per_s: float
    committed_events_per_s: float
    p50_ack_ms: float
    p99_ack_ms: float
    delta_rows: int
    delta_distinct_ids: int


@dataclass(frozen=True)
class ReplicasBenchmark:
    events: int
    batch: int
    clients: int
    runs: list[ReplicasRun]  # one replica, then N, each behind nginx on PostgreSQL
    ratio: float  # acknowledged events/s of N replicas over one

    @property
    def exact(self) -> bool:
        return all(r.delta_rows == r.delta_distinct_ids == self.events for r in self.runs)


def _bodies(events: int, batch: int, progress) -> tuple[pl.DataFrame, list[bytes]]:
    progress(f"simulating {events:,} events...")
    frame = simulated_events(events)
    natives = [row_to_native(row) for row in frame.iter_rows(named=True)]
    return frame, [orjson.dumps(natives[i:i + batch]) for i in range(0, len(natives), batch)]


def _percentile_ms(latencies: list[float], q: float) -> float:
    ordered = sorted(latencies)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)


def run(events: int = 200_000, batch: int = 500, clients: int = 4, progress=log.info) -> IngestBenchmark:
    frame, bodies = _bodies(events, batch, progress)

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

    rate = events / acked_s
    return IngestBenchmark(
        events=events,
        batch=batch,
        clients=clients,
        events_per_s=round(rate),
        committed_events_per_s=round(events / committed_s),
        p50_ack_ms=round(statistics.median(latencies) * 1000, 2),
        p99_ack_ms=_percentile_ms(latencies, 0.99),
        raw_write_events_per_s=round(raw_rate),
        ratio=round(rate / raw_rate, 4),
        delta_rows=table.height,
        delta_distinct_ids=table["event_id"].n_unique(),
    )


def run_replicas(events: int = 200_000, batch: int = 500, clients: int = 4, replicas: int = 2,
                 progress=log.info) -> ReplicasBenchmark:
    """The same load through nginx to one replica, then to ``replicas``, each on a fresh lake and database."""
    _frame, bodies = _bodies(events, batch, progress)
    runs = []
    for n in (1, replicas):
        progress(f"{n} replica(s) behind nginx: posting {len(bodies):,} batches of {batch} from {clients} clients...")
        runs.append(_behind_proxy(bodies, events, n, clients))
    return ReplicasBenchmark(events=events, batch=batch, clients=clients, runs=runs,
                             ratio=round(runs[-1].events_per_s / runs[0].events_per_s, 3))


def _behind_proxy(bodies: list[bytes], events: int, n: int, clients: int) -> ReplicasRun:
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-") as tmp, scratch_postgres() as database_url:
        folder = Path(tmp)
        key = source_key(folder, database_url=database_url)
        lake = folder / "lake"
        apis = ApiReplicas(folder, n, env={
            "LEARNLAKE_LAKE_URI": str(lake), "LEARNLAKE_DATABASE_URL": database_url,
            "LEARNLAKE_RATE_LIMIT_INGEST": "1000000/second", "LEARNLAKE_TRUSTED_PROXIES": "127.0.0.1",
            "LEARNLAKE_PSEUDONYM_KEY": "the-replicas-share-one-pseudonym-key"})
        try:
            with nginx(apis.ports, folder / "nginx") as proxy:
                started = time.perf_counter()
                latencies = post_batches(proxy, bodies, clients, key)
                acked_s = time.perf_counter() - started
                for port in apis.ports:
                    wait_until_committed(port, key)
                committed_s = time.perf_counter() - started
        finally:
            apis.stop()
        table = read_table("bronze.events", settings=Settings(home=folder / "reader", lake_uri=str(lake)))
    return ReplicasRun(replicas=n, events_per_s=round(events / acked_s),
                       committed_events_per_s=round(events / committed_s),
                       p50_ack_ms=round(statistics.median(latencies) * 1000, 2),
                       p99_ack_ms=_percentile_ms(latencies, 0.99), delta_rows=table.height,
                       delta_distinct_ids=table["event_id"].n_unique())

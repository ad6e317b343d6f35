"""`learnlake bench transform`: how long the dbt build takes on N events, full and incremental.

In a fresh, throwaway home: simulate a platform, repeat its events over as many cohorts of
new learners as it takes to reach N (tiling keeps big runs fast while every learner stays
real-shaped), write them to ``bronze.events`` with the simulated content items, then time

- ``scan_s``: DuckDB reading the Delta table once and aggregating it per course (the floor);
- ``full_build_s``: ``dbt build`` (models and tests) from an empty warehouse;
- ``incremental_build_s``: ``dbt build`` again after 1 % more events arrive.
"""

import logging
import math
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from lake import writers
from lake.catalog import CORE_SNAPSHOTS, table_uri
from lake.readers import read_table
from lake.sources.core_snapshot import empty_table
from lake.sources.simulator import SimulationConfig, simulate
from learnlake.settings import Settings
from pipelines.defs.transforms.project import dbt_build
from pipelines.defs.transforms.publish import publish_warehouse

log = logging.getLogger(__name__)

BASE_EVENTS = 200_000  # simulated once, then tiled
WRITE_CHUNK = 2_000_000


@dataclass(frozen=True)
class TransformBenchmark:
    events: int
    incremental_events: int
    scan_s: float
    full_build_s: float
    incremental_build_s: float
    models_and_tests: int


def run(events: int, *, seed: int = 7, lake_uri: str | None = None) -> TransformBenchmark:
    """``lake_uri``: a lake root elsewhere (``s3://bucket/prefix``, with the ``AWS_*`` settings); each run
    writes under a new folder of it. Default: a lake in the throwaway home."""
    with tempfile.TemporaryDirectory(prefix="learnlake-bench-transform-") as home:
        lake = f"{lake_uri.rstrip('/')}/bench-transform-{uuid.uuid4().hex[:12]}" if lake_uri else None
        settings = Settings(home=Path(home), lake_uri=lake)
        base = simulate_base(min(events, BASE_EVENTS), seed, settings)
        log.info("writing %s events to bronze.events", f"{events:,}")
        write_tiles(base, 0, events, settings)
        scan_s = _time_scan(settings)
        log.info("full dbt build")
        full_s, steps = dbt_build(settings)
        more = max(1, events // 100)
        write_tiles(base, events, events + more, settings)
        log.info("incremental dbt build after %s more events", f"{more:,}")
        incremental_s, _ = dbt_build(settings)
    return TransformBenchmark(events, more, round(scan_s, 2), round(full_s, 2), round(incremental_s, 2), steps)


def grow_and_publish(settings: Settings, events: int) -> int:
    """Grow a home's lake to ``events`` activity events by tiling its own (new learner ids, the same
    courses, items and days), rebuild the warehouse and publish it.

    For timing what reads the warehouse (``bench dashboards --events``) at a scale the demo does
    not reach. The models and the online store are left as they were. Returns the activity events
    the lake then holds.
    """
    base = read_table("bronze.events", settings=settings).filter(pl.col("source") != "outbox")
    if base.is_empty():
        raise RuntimeError(f"no activity events in {settings.home} to grow from: train a demo first")
    if events <= base.height:
        return base.height
    log.info("growing bronze.events from %s to %s events", f"{base.height:,}", f"{events:,}")
    write_tiles(base, base.height, events, settings)
    log.info("dbt build")
    dbt_build(settings)
    publish_warehouse(Path(settings.warehouse_path), Path(settings.published_warehouse_path))
    return events


def simulate_base(target: int, seed: int, settings: Settings) -> pl.DataFrame:
    learners = max(10, math.ceil(target / 150))
    sim = simulate(SimulationConfig(learners=learners, courses=4, days=56, seed=seed))
    # The simulated catalogue as the core snapshot would hold it (writers fill the absent columns).
    items = sim.content_items.with_columns(
        pl.col("position").cast(pl.Int32), pl.col("estimated_minutes").cast(pl.Int32),
        pl.lit(sim.config.start).cast(pl.Datetime("us", "UTC")).alias("created_at"),
        pl.lit(sim.config.start).cast(pl.Datetime("us", "UTC")).alias("updated_at"),
    )
    for name in CORE_SNAPSHOTS:
        writers.merge(name, empty_table(name), settings=settings)
    writers.merge("bronze.core_content_items", items.to_arrow(), settings=settings)
    return sim.events.head(target)


def write_tiles(base: pl.DataFrame, start: int, stop: int, settings: Settings) -> None:
    """Rows ``start..stop`` of the endless sequence: the base events, then the base again with
    new learner and event ids (tile 1, 2...), and so on; written in chunks."""
    version = _next_version(settings)
    position = start
    while position < stop:
        tile, offset = divmod(position, base.height)
        size = min(stop - position, base.height - offset, WRITE_CHUNK)
        chunk = base.slice(offset, size).with_columns(
            (pl.col("event_id") + f"~{tile}").alias("event_id"),
            (pl.col("learner_id") + f"~{tile}").alias("learner_id"),
            (pl.col("context_registration") + f"~{tile}").alias("context_registration"),
            (pl.col("context_session_id") + f"~{tile}").alias("context_session_id"),
        )
        writers.append("bronze.events", chunk.to_arrow(), app_id="bench", batch_version=version, settings=settings)
        version += 1
        position += size


def _next_version(settings: Settings) -> int:
    from deltalake import DeltaTable

    uri = table_uri("bronze.events", settings)
    return (DeltaTable(uri).transaction_version("bench") or 0) + 1 if DeltaTable.is_deltatable(uri) else 1


def _time_scan(settings: Settings) -> float:
    started = time.perf_counter()
    with duckdb.connect() as con:
        frame = pl.scan_delta(table_uri("bronze.events", settings))
        con.register("events", frame.collect().to_arrow())
        con.sql("select course_id, count(*), count(distinct learner_id) from events group by course_id").fetchall()
    return time.perf_counter() - started

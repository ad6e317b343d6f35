"""Readers of the published warehouse never fail, not even while the pipeline builds and publishes."""

import threading

import duckdb
import pytest

from lake import writers
from lake.catalog import CORE_SNAPSHOTS
from lake.sources.core_snapshot import empty_table
from lake.sources.simulator import SimulationConfig, simulate
from pipelines.defs.transforms.project import dbt_build
from pipelines.defs.transforms.publish import publish_warehouse

pytestmark = pytest.mark.integration


def test_reading_while_building_and_publishing_never_fails(learnlake_home):
    settings = learnlake_home
    for name in CORE_SNAPSHOTS:
        writers.merge(name, empty_table(name), settings=settings)
    events = simulate(SimulationConfig(learners=30, courses=2, days=14)).events
    half = events.height // 2
    writers.append("bronze.events", events.head(half).to_arrow(), app_id="t", batch_version=1, settings=settings)
    dbt_build(settings)
    publish_warehouse(settings.warehouse_path, settings.published_warehouse_path)

    stop, errors, reads = threading.Event(), [], []

    def read_forever():
        while not stop.is_set():
            try:
                with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
                    reads.append(con.execute("select sum(events) from marts.fct_course_daily_active_learners")
                                 .fetchone()[0])
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is what this test looks for
                errors.append(exc)

    readers = [threading.Thread(target=read_forever) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for version, chunk in ((2, events.slice(half)),):
            writers.append("bronze.events", chunk.to_arrow(), app_id="t", batch_version=version, settings=settings)
            dbt_build(settings)  # writes the build's own file while readers read the published one
            for _ in range(5):
                publish_warehouse(settings.warehouse_path, settings.published_warehouse_path)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not errors, errors[:3]
    assert len(reads) > 20
    assert set(reads) == {half, events.height}  # each read saw one whole version, old or new

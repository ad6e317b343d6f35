"""Incremental builds give the same marts as a build from scratch, also when new events
land in the middle of learners' histories and when compaction rewrites staged rows."""

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from lake import maintenance, writers
from lake.catalog import CORE_SNAPSHOTS
from lake.sources.core_snapshot import empty_table
from lake.sources.simulator import SimulationConfig, simulate
from pipelines.defs.transforms.project import dbt_build

pytestmark = pytest.mark.integration

# Bookkeeping columns that say when a row was built, not what it holds.
BOOKKEEPING = {"staged_at", "delta_file"}


def _tables(path) -> dict[str, pl.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [f"{s}.{t}" for s, t in con.sql(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('staging', 'intermediate', 'marts')").fetchall()]
        tables = {}
        for name in names:
            frame = pl.from_arrow(con.sql(f"select * from {name}").to_arrow_table())
            frame = frame.drop([c for c in frame.columns if c in BOOKKEEPING])
            tables[name] = frame.sort(frame.columns, nulls_last=True)
        return tables


def test_an_incremental_build_equals_a_full_one(learnlake_home):
    settings = learnlake_home
    sim = simulate(SimulationConfig(learners=40, courses=2, days=21))
    for name in CORE_SNAPSHOTS:
        writers.merge(name, empty_table(name), settings=settings)
    events = sim.events.sort("timestamp")
    # The second delivery holds later events of the same learners, and some learners' first.
    cut = events["timestamp"].quantile(0.7)
    first = events.filter(pl.col("timestamp") <= cut)
    writers.append("bronze.events", first.to_arrow(), app_id="t", batch_version=1, settings=settings)
    dbt_build(settings)
    writers.append("bronze.events", events.filter(pl.col("timestamp") > cut).to_arrow(), app_id="t",
                   batch_version=2, settings=settings)
    # Compaction mixes staged rows with rows not staged yet in new files; then, a second time,
    # rewrites staged rows only.
    maintenance.optimize("bronze.events", settings=settings)
    dbt_build(settings)
    writers.append("bronze.events", events.head(50).with_columns(pl.col("event_id") + "-late").to_arrow(),
                   app_id="t", batch_version=3, settings=settings)
    maintenance.optimize("bronze.events", settings=settings)
    dbt_build(settings)
    events = pl.concat([events, events.head(50).with_columns(pl.col("event_id") + "-late")])
    incremental = _tables(settings.warehouse_path)

    scratch = settings.model_copy(update={"warehouse_path": settings.home / "scratch.duckdb"})
    dbt_build(scratch)
    full = _tables(scratch.warehouse_path)

    assert incremental.keys() == full.keys()
    assert incremental["staging.stg_lake__events"].height == events.height
    for name, table in full.items():
        # Sums of floats may differ in the last bits when added in another order.
        assert_frame_equal(incremental[name], table, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)

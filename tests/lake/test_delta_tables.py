from datetime import UTC, datetime

import pyarrow as pa
import pytest
from deltalake import DeltaTable

from lake import readers, writers
from lake.catalog import table_uri
from lake.sources.simulator import SimulationConfig, simulate
from learnlake.errors import SchemaMismatchError, TableNotFoundError


@pytest.fixture(scope="module")
def events() -> pa.Table:
    return simulate(SimulationConfig(learners=15, courses=2, days=14)).events.to_arrow()


def test_events_land_partitioned_by_date(learnlake_home, events):
    assert writers.append("bronze.events", events)
    table = DeltaTable(table_uri("bronze.events"))
    assert table.metadata().partition_columns == ["event_date"]
    stored = readers.read_table("bronze.events")
    assert stored.height == events.num_rows
    assert sorted(stored["event_id"]) == sorted(events.column("event_id").to_pylist())
    partitions = {uri.split("event_date=")[1].split("/")[0] for uri in table.file_uris()}
    assert partitions == {d.isoformat() for d in events.column("event_date").to_pylist()}


def test_replayed_batch_is_not_stored_twice(learnlake_home, events):
    assert writers.append("bronze.events", events, app_id="sim", batch_version=1)
    assert not writers.append("bronze.events", events, app_id="sim", batch_version=1)
    assert readers.read_table("bronze.events").height == events.num_rows
    assert writers.append("bronze.events", events.slice(0, 5), app_id="sim", batch_version=2)
    assert readers.table_version("bronze.events") == 1
    assert readers.read_table("bronze.events").height == events.num_rows + 5
    # Time travel: the first version is still there.
    assert readers.read_table("bronze.events", version=0).height == events.num_rows


def test_missing_required_column_is_refused_and_nothing_written(learnlake_home, events):
    with pytest.raises(SchemaMismatchError, match="verb"):
        writers.append("bronze.events", events.drop_columns(["verb"]))
    assert not readers.table_exists("bronze.events")


def test_nulls_in_required_column_are_refused(learnlake_home):
    row = {"event_id": [None], "learner_id": ["l"], "verb": ["viewed"], "object_type": ["lesson"],
           "object_id": ["i"], "timestamp": [datetime(2026, 9, 7, tzinfo=UTC)],
           "received_at": [datetime(2026, 9, 7, tzinfo=UTC)], "event_date": [datetime(2026, 9, 7).date()],
           "schema_version": [1], "source": ["test"]}
    with pytest.raises(SchemaMismatchError, match="event_id"):
        writers.append("bronze.events", pa.table(row))


def test_unknown_and_unwritten_tables_say_so(learnlake_home):
    with pytest.raises(TableNotFoundError, match="unknown table .bronze.nope.; known: .*bronze.events"):
        writers.append("bronze.nope", pa.table({"a": [1]}))
    with pytest.raises(TableNotFoundError, match="has not been written yet"):
        readers.read_table("bronze.events")


def test_a_new_optional_column_does_not_break_the_table_or_older_readers(learnlake_home, events, monkeypatch):
    from lake import catalog

    writers.append("bronze.events", events.slice(0, 50))
    old_columns = readers.read_table("bronze.events").columns
    spec = catalog.TABLES["bronze.events"]
    evolved = catalog.TableSpec(spec.name, spec.schema.append(pa.field("context_device", pa.string())),
                                spec.partition_by, spec.description)
    monkeypatch.setitem(catalog.TABLES, "bronze.events", evolved)
    newer = events.slice(50, 10).append_column("context_device", pa.array(["ios"] * 10))
    writers.append("bronze.events", newer)
    table = readers.read_table("bronze.events")
    assert table.height == 60
    assert table["context_device"].null_count() == 50  # older rows simply have no value
    # A reader that knows only the old columns reads the same rows as before.
    old_view = readers.scan_table("bronze.events").select(old_columns).collect()
    assert old_view.height == 60 and old_view.columns == old_columns
    assert readers.read_table("bronze.events", version=0).columns == old_columns  # time travel too


def test_duckdb_reads_a_lake_table(learnlake_home, events):
    import duckdb

    writers.append("bronze.events", events)
    with duckdb.connect() as con:
        view = readers.register_duckdb(con, "bronze.events")
        count, learners = con.execute(f"select count(*), count(distinct learner_id) from {view}").fetchone()
    assert count == events.num_rows
    assert learners == len(set(events.column("learner_id").to_pylist()))

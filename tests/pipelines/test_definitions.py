import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from pipelines.defs.resources import LearnLake
from tests.conftest import REPO_ROOT

RESOURCES = {"learnlake": LearnLake()}


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from pipelines.defs.transforms.project import prepare_manifest

    assert prepare_manifest().exists()
    from pipelines.definitions import load_definitions

    return load_definitions()


def test_definitions_load_and_every_job_resolves(defs):
    jobs = defs.resolve_all_job_defs()
    assert "learnlake_all_assets" in {job.name for job in jobs}
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {"bronze/events", "staging/stg_lake__events", "marts/fct_course_daily_active_learners",
            "published_warehouse", "popularity_recommender", "online_features", "dropout_model",
            "knowledge_tracing_model", "next_items_recommender", "tutor_index"} <= keys
    # The recommender re-ranks with the champion mastery model: it trains after it.
    assert dg.AssetKey("knowledge_tracing_model") in graph.get(dg.AssetKey("next_items_recommender")).parent_keys


def test_dbt_source_is_wired_to_the_lake_asset(defs):
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_lake__events"]))
    assert dg.AssetKey(["bronze", "events"]) in staging.parent_keys
    published = graph.get(dg.AssetKey("published_warehouse"))
    assert dg.AssetKey(["marts", "fct_course_daily_active_learners"]) in published.parent_keys


def test_workspace_yaml_loads_the_definitions(defs):
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run([str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sensor_requests_one_run_per_new_events_version(defs, learnlake_home):
    from lake import writers
    from lake.sources.simulator import SimulationConfig, simulate
    from pipelines.defs.lake.sensors import bronze_events_sensor

    assert isinstance(bronze_events_sensor(dg.build_sensor_context(resources=RESOURCES)), dg.SkipReason)
    events = simulate(SimulationConfig(learners=5, days=7)).events.to_arrow()
    writers.append("bronze.events", events)
    context = dg.build_sensor_context(resources=RESOURCES)
    request = bronze_events_sensor(context)
    assert isinstance(request, dg.RunRequest) and request.run_key == "bronze.events@0"
    assert isinstance(bronze_events_sensor(dg.build_sensor_context(cursor=context.cursor, resources=RESOURCES)), dg.SkipReason)
    writers.append("bronze.events", events.slice(0, 3))
    assert bronze_events_sensor(dg.build_sensor_context(cursor=context.cursor, resources=RESOURCES)).run_key == "bronze.events@1"
    job = defs.resolve_job_def("downstream_of_events")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert "bronze/events" not in selected and "published_warehouse" in selected


def test_maintenance_job_compacts_checkpoints_and_vacuums(defs, learnlake_home):
    from lake import maintenance, writers
    from lake.readers import read_table
    from lake.sources.simulator import SimulationConfig, simulate

    events = simulate(SimulationConfig(learners=5, days=7)).events.to_arrow()
    for start in range(0, events.num_rows, events.num_rows // 4):
        writers.append("bronze.events", events.slice(start, events.num_rows // 4))
    before = maintenance.file_count("bronze.events")
    result = defs.resolve_job_def("lake_maintenance_job").execute_in_process()
    assert result.success
    summary = result.output_for_node("maintain_lake_tables")["bronze.events"]
    assert summary["files_before"] == before > summary["files_after"]
    assert read_table("bronze.events").height == events.num_rows
    operations = [c["operation"] for c in maintenance.history("bronze.events", limit=5)]
    assert "OPTIMIZE" in operations


def _files_per_day() -> dict[str, int]:
    from collections import Counter

    from lake.readers import open_table

    # Data files sit under event_date=YYYY-MM-DD/ (Hive-style partition folders).
    return dict(Counter(uri.split("event_date=")[1][:10] for uri in open_table("bronze.events").file_uris()))


def test_closing_an_event_day_compacts_that_day_only_and_counts_it(defs, learnlake_home):
    from datetime import UTC, datetime, timedelta

    import polars as pl
    import pyarrow as pa

    from lake import writers
    from lake.readers import read_table
    from lake.sources.simulator import SimulationConfig, simulate
    from learnlake.errors import ConfigurationError
    from pipelines.defs.lake.event_days import EVENT_DAYS, days_in_lake
    from pipelines.run import close_event_days

    assert defs.resolve_schedule_def("close_event_days_schedule").cron_schedule == "0 2 * * *"
    assert defs.resolve_job_def("close_event_days").partitions_def == EVENT_DAYS
    assert "bronze/events_by_day" not in {k.to_user_string() for k in
                                          defs.resolve_job_def("learnlake_all_assets").asset_layer.selected_asset_keys}

    events = simulate(SimulationConfig(learners=10, days=7)).events.to_arrow()
    for batch in range(3):  # three commits, each touching every day, as a day of ingestion does
        writers.append("bronze.events", events.take(list(range(batch, events.num_rows, 3))))
    days = days_in_lake()
    day, other = days[1], days[2]
    # One event of that day arrives two days late.
    late = events.filter(pa.compute.equal(events["event_date"], pa.scalar(datetime.fromisoformat(day).date())))
    late = late.slice(0, 1).to_pylist()[0]
    late.update(event_id="late-arrival", received_at=late["timestamp"] + timedelta(days=2))
    writers.append("bronze.events", pa.Table.from_pylist([late], schema=events.schema))
    before = _files_per_day()
    assert before[day] > 1 and before[other] > 1

    with pytest.raises(ConfigurationError, match="2999-01-01"):
        list(close_event_days([day, "2999-01-01"], persistent=False))
    assert _files_per_day() == before  # nothing closed when one day is wrong

    [(closed_day, figures)] = list(close_event_days([day], persistent=False))
    after = _files_per_day()
    assert closed_day == day and after[day] == 1 and after[other] == before[other]
    rows = read_table("bronze.events").filter(pl.col("event_date") == datetime.fromisoformat(day).date())
    assert figures["events"] == rows.height
    assert figures["learners"] == rows["learner_id"].n_unique()
    assert figures["courses"] == rows["course_id"].drop_nulls().n_unique()
    assert figures["arrived_after_the_day"] == 1
    assert figures["files_compacted"] == before[day]
    assert read_table("bronze.events").height == events.num_rows + 1  # compaction loses nothing

    [(_, again)] = list(close_event_days([day], persistent=False))  # closing again is harmless
    assert again["events"] == figures["events"] and again["files_compacted"] == 0
    assert datetime.now(UTC).date().isoformat() not in EVENT_DAYS.get_partition_keys()  # today is not over


def test_with_no_learners_to_simulate_the_lake_keeps_its_own_events(learnlake_home, monkeypatch):
    from lake import readers, writers
    from lake.sources.simulator import SimulationConfig, simulate
    from learnlake.settings import get_settings
    from pipelines.defs.lake.assets import bronze_events

    monkeypatch.setenv("LEARNLAKE_LEARNERS", "0")
    get_settings.cache_clear()
    with pytest.raises(dg.Failure, match="no learners are to be simulated"):
        dg.materialize([bronze_events], resources=RESOURCES)
    assert not readers.table_exists("bronze.events")

    own = simulate(SimulationConfig(learners=5, courses=1, days=7, seed=3)).events  # stands for real events
    writers.append("bronze.events", own.to_arrow())
    version = readers.table_version("bronze.events")
    result = dg.materialize([bronze_events], resources=RESOURCES)
    figures = result.asset_materializations_for_node("bronze__events")[0].metadata
    assert figures["simulated_events"].value == 0 and figures["appended"].value is False
    assert readers.table_version("bronze.events") == version and readers.read_table("bronze.events").height == own.height
    assert not readers.table_exists("ground_truth.mastery"), "no simulation, no simulated ground truth"

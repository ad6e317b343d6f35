"""A corrupted batch fails the blocking check, nothing downstream materialises, and the next
run, on clean data, recovers; the bad rows wait in bronze.dead_letters with their reasons."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from lake import writers
from lake.readers import read_table
from lake.sources.simulator import SimulationConfig, simulate
from learnlake.settings import get_settings
from pipelines.run import run_pipeline

pytestmark = pytest.mark.integration


def _downstream_run(settings):
    """What the sensor starts on a new bronze.events commit: the check, then everything after it."""
    from pipelines.definitions import load_definitions
    from pipelines.defs.lake.sensors import downstream_of_events_job

    job = load_definitions().resolve_job_def(downstream_of_events_job.name)
    return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_a_corrupted_batch_is_stopped_quarantined_and_then_the_pipeline_recovers(learnlake_home, monkeypatch):
    monkeypatch.setenv("LEARNLAKE_COURSES", "2")
    get_settings.cache_clear()
    settings = get_settings()
    first = run_pipeline(learners=20, persistent=False, settings=settings)
    assert first.success
    published_before = settings.published_warehouse_path.stat().st_mtime_ns

    # A writer with a bug: scores out of range, a repeated id, a timestamp a year ahead.
    extra = simulate(SimulationConfig(learners=5, courses=2, days=14, seed=99)).events
    bad = extra.head(30).with_columns(
        pl.when(pl.int_range(pl.len()) < 3).then(pl.lit(4.0)).otherwise(pl.col("result_score")).alias("result_score"),
        pl.when(pl.int_range(pl.len()) == 3).then(pl.lit(datetime.now(UTC) + timedelta(days=365)))
        .otherwise(pl.col("timestamp")).alias("timestamp"),
    )
    bad = pl.concat([bad, bad.slice(4, 1)])  # one id twice
    writers.append("bronze.events", bad.to_arrow(), app_id="buggy-writer", batch_version=1, settings=settings)

    blocked = _downstream_run(settings)
    checks = {evaluation.check_name: evaluation for evaluation in blocked.get_asset_check_evaluations()}
    quality = checks["bronze_events_quality"]
    assert not quality.passed
    failed = quality.metadata["failed_expectations"].value
    assert "result_score" in failed and "timestamp" in failed and "event_id" in failed
    assert not blocked.get_asset_materialization_events()  # the warehouse and the models waited
    assert settings.published_warehouse_path.stat().st_mtime_ns == published_before

    letters = read_table("bronze.dead_letters", settings=settings)
    assert letters.height == 3 + 1 + 2  # three scores, one future timestamp, both copies of the repeated id
    assert letters["reason"].str.contains("result_score").sum() == 3
    events = read_table("bronze.events", settings=settings)
    assert not events.filter(pl.col("result_score") > 1).height

    # A clean batch, and the pipeline goes through again.
    clean = extra.slice(40, 50)
    writers.append("bronze.events", clean.to_arrow(), app_id="buggy-writer", batch_version=2, settings=settings)
    recovered = _downstream_run(settings)
    assert recovered.success
    assert recovered.get_asset_materialization_events()
    assert settings.published_warehouse_path.stat().st_mtime_ns > published_before

"""``bronze/events_by_day``: bronze.events one day at a time, as daily Dagster partitions.

bronze.events is one Delta table partitioned by ``event_date``. Ingestion commits a day's
events in many small files while the day runs; once the day is over, materialising its
partition closes it: the day's files are compacted into a few large ones (only that Delta
partition is rewritten, other days are untouched) and the day's figures (events, learners,
courses, sources, events that arrived after the day ended) become partition metadata, which
the Dagster UI charts day by day.

A schedule closes yesterday every night at 02:00 UTC, before lake maintenance; a backfill
(the UI, or ``learnlake pipeline close-days``) closes a range of days, e.g. after a dataset
load. Closing a day again is harmless: it compacts whatever arrived late and re-counts.
"""

from datetime import date

import dagster as dg
import polars as pl

from lake import maintenance
from lake.readers import scan_table, table_exists, table_version
from learnlake.errors import ConfigurationError
from learnlake.settings import Settings
from pipelines.defs.lake.assets import bronze_events
from pipelines.defs.resources import LearnLake

# The oldest real dataset we load (KDD Cup 2015) starts in October 2013.
EVENT_DAYS = dg.DailyPartitionsDefinition(start_date="2013-01-01", timezone="UTC")


def day_figures(day: date, settings: Settings) -> dict:
    """What bronze.events holds for one day (reads that Delta partition only)."""
    events = scan_table("bronze.events", settings=settings).filter(pl.col("event_date") == day)
    end_of_day = pl.datetime(day.year, day.month, day.day, time_zone="UTC") + pl.duration(days=1)
    figures = events.select(
        pl.len().alias("events"),
        pl.col("learner_id").n_unique().alias("learners"),
        pl.col("course_id").drop_nulls().n_unique().alias("courses"),
        (pl.col("received_at") >= end_of_day).sum().alias("arrived_after_the_day"),
    ).collect().row(0, named=True)
    sources = events.group_by("source").agg(pl.len().alias("n")).sort("source").collect()
    figures["by_source"] = dict(zip(sources["source"], sources["n"], strict=True))
    return figures


EVENTS_BY_DAY_KEY = dg.AssetKey(["bronze", "events_by_day"])


@dg.asset(
    key=EVENTS_BY_DAY_KEY,
    deps=[bronze_events],
    partitions_def=EVENT_DAYS,
    group_name="lake",
    kinds={"deltalake"},
    description="One day of bronze.events, closed once the day is over: its files compacted, its figures counted.",
)
def bronze_events_by_day(context: dg.AssetExecutionContext, learnlake: LearnLake) -> dg.MaterializeResult:
    settings = learnlake.settings()
    day = date.fromisoformat(context.partition_key)
    if not table_exists("bronze.events", settings):
        context.log.info("bronze.events has no commit yet: nothing to close")
        return dg.MaterializeResult(metadata={"events": 0, "files_compacted": 0})
    compacted = maintenance.optimize("bronze.events", partition={"event_date": day.isoformat()}, settings=settings)
    figures = day_figures(day, settings)
    context.log.info(f"{day}: {figures['events']} events from {figures['learners']} learners; "
                     f"{compacted.get('numFilesRemoved', 0)} files compacted into {compacted.get('numFilesAdded', 0)}")
    return dg.MaterializeResult(metadata={
        **{name: value for name, value in figures.items() if name != "by_source"},
        "by_source": dg.MetadataValue.json(figures["by_source"]),
        "files_compacted": int(compacted.get("numFilesRemoved", 0)),
        "files_written": int(compacted.get("numFilesAdded", 0)),
        "delta_version": table_version("bronze.events", settings),
    })


close_event_days_job = dg.define_asset_job(
    "close_event_days", selection=[bronze_events_by_day], partitions_def=EVENT_DAYS,
    description="Close days of bronze.events: compact each day's files and count its events.",
)
# Yesterday's partition, every night at 02:00 UTC (lake maintenance follows at 03:00).
close_event_days_schedule = dg.build_schedule_from_partitioned_job(
    close_event_days_job, hour_of_day=2, minute_of_hour=0, default_status=dg.DefaultScheduleStatus.RUNNING)


def days_in_lake() -> list[str]:
    """Every event day bronze.events holds, oldest first, as partition keys."""
    if not table_exists("bronze.events"):
        return []
    days = scan_table("bronze.events").select(pl.col("event_date").unique().sort()).collect()["event_date"]
    return [d.isoformat() for d in days]


def closable_days() -> list[str]:
    """The days bronze.events holds that are over (partitions), oldest first: what closing closes by default."""
    closable = set(EVENT_DAYS.get_partition_keys())
    return [day for day in days_in_lake() if day in closable]


def check_closable(days: list[str]) -> None:
    """A clear error naming the days that are not partitions (badly written, or not over yet)."""
    known = set(EVENT_DAYS.get_partition_keys())
    unknown = [day for day in days if day not in known]
    if unknown:
        raise ConfigurationError(f"not a day that can be closed (YYYY-MM-DD, from {EVENT_DAYS.start:%Y-%m-%d} "
                                 f"to yesterday): {', '.join(unknown)}")

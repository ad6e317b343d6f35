"""Start the downstream assets when new events are committed to ``bronze.events``."""

import dagster as dg

from lake.readers import table_exists, table_version
from learnlake.settings import get_settings
from pipelines.defs.lake.event_days import bronze_events_by_day

EVENTS_KEY = dg.AssetKey(["bronze", "events"])

downstream_of_events_job = dg.define_asset_job(
    "downstream_of_events",
    # The quality check of bronze.events runs first: a failure stops everything after it.
    selection=(dg.AssetSelection.keys(EVENTS_KEY).downstream(include_self=False)
               - dg.AssetSelection.assets(bronze_events_by_day))  # closed per day by its own schedule
    | dg.AssetSelection.checks_for_assets(EVENTS_KEY),
    description="Everything built from bronze.events: the warehouse, its published copy, the models.",
)


@dg.sensor(job=downstream_of_events_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def bronze_events_sensor(context: dg.SensorEvaluationContext):
    """One run per new Delta version of bronze.events (the cursor is the last version seen)."""
    settings = get_settings()
    if not table_exists("bronze.events", settings):
        return dg.SkipReason("bronze.events has no commit yet")
    version = table_version("bronze.events", settings)
    if context.cursor is not None and int(context.cursor) >= version:
        return dg.SkipReason(f"no new commit since version {context.cursor}")
    context.update_cursor(str(version))
    return dg.RunRequest(run_key=f"bronze.events@{version}", tags={"bronze.events.version": str(version)})

"""Start the downstream assets when new events are committed to ``bronze.events``."""

import dagster as dg

from lake.readers import table_exists, table_version
from pipelines.defs.lake.event_days import bronze_events_by_day
from pipelines.defs.resources import LearnLake

EVENTS_KEY = dg.AssetKey(["bronze", "events"])
VERSION_TAG = "bronze.events.version"  # on a run: the bronze.events version its warehouse build read
RUNS_LOOKED_AT = 50

downstream_of_events_job = dg.define_asset_job(
    "downstream_of_events",
    # The quality check of bronze.events runs first: a failure stops everything after it.
    selection=(dg.AssetSelection.keys(EVENTS_KEY).downstream(include_self=False)
               - dg.AssetSelection.assets(bronze_events_by_day))  # closed per day by its own schedule
    | dg.AssetSelection.checks_for_assets(EVENTS_KEY),
    description="Everything built from bronze.events: the warehouse, its published copy, the models.",
)


@dg.sensor(job=downstream_of_events_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def bronze_events_sensor(context: dg.SensorEvaluationContext, learnlake: LearnLake):
    """One run per new Delta version of bronze.events (the cursor is the last version seen). With no cursor
    yet (a new instance, the demo's first serve) it starts from the version a finished run already built
    everything from, rather than at once building it all again."""
    settings = learnlake.settings()
    if not table_exists("bronze.events", settings):
        return dg.SkipReason("bronze.events has no commit yet")
    version = table_version("bronze.events", settings)
    seen = int(context.cursor) if context.cursor is not None else _processed_version(context)
    if seen is not None and seen >= version:
        context.update_cursor(str(seen))
        return dg.SkipReason(f"no new commit since version {seen}")
    context.update_cursor(str(version))
    return dg.RunRequest(run_key=f"bronze.events@{version}", tags={VERSION_TAG: str(version)})


def _processed_version(context: dg.SensorEvaluationContext) -> int | None:
    """The newest bronze.events version a successful run built the warehouse from (the tag ``VERSION_TAG``:
    set by this sensor on its runs, and by the warehouse step of a full run); None when there is none."""
    if context.instance_ref is None and getattr(context, "_instance", None) is None:
        return None  # evaluated without an instance (a test's bare context): nothing was built
    runs = context.instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]), limit=RUNS_LOOKED_AT)
    built = [int(r.dagster_run.tags[VERSION_TAG]) for r in runs if VERSION_TAG in r.dagster_run.tags]
    return max(built, default=None)

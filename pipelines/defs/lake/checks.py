"""The blocking data-quality check of bronze.events (a great-expectations suite), beside the asset it checks.

It validates the activity rows added since it last ran (it keeps the Delta version it reached under
the LearnLake home). Rows that break a rule are moved to ``bronze.dead_letters`` with the rule they
broke, and the check fails: downstream waits, and the next run, on clean data, goes through. Its
metadata, in the Dagster UI and the run log, says which expectations failed on how many rows.
"""

import json
from pathlib import Path

import dagster as dg
import polars as pl

from lake.quarantine import quarantine
from lake.readers import read_added_since, table_exists, table_version
from learnlake.settings import Settings
from pipelines.defs.lake.sensors import EVENTS_KEY
from pipelines.defs.resources import LearnLake

# The suites import great-expectations (seconds): each check imports them when it runs, so
# loading the Dagster definitions (the CLI, `dagster dev`) stays quick.



def _watermark_file(settings: Settings) -> Path:
    return settings.home / "quality" / "bronze.events.json"


def _read_watermark(settings: Settings) -> int | None:
    path = _watermark_file(settings)
    return json.loads(path.read_text())["version"] if path.exists() else None


def _write_watermark(settings: Settings, version: int) -> None:
    path = _watermark_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": version}))
    tmp.replace(path)


@dg.asset_check(asset=EVENTS_KEY, blocking=True,
                description="great-expectations suite on the activity rows added since the last check; "
                            "bad rows move to bronze.dead_letters")
def bronze_events_quality(context: dg.AssetCheckExecutionContext, learnlake: LearnLake) -> dg.AssetCheckResult:
    from pipelines.defs.quality.suites import bronze_events_suite, validate

    settings = learnlake.settings()
    if not table_exists("bronze.events", settings):
        return dg.AssetCheckResult(passed=True, metadata={"rows_checked": 0, "note": "no events yet"})
    since = _read_watermark(settings)
    added, version = read_added_since("bronze.events", since, settings=settings)
    activity = added.filter(pl.col("source") != "outbox")
    result = validate(activity.to_pandas(), bronze_events_suite(), "bronze_events")
    metadata = {"rows_checked": activity.height, "from_version": since, "to_version": version,
                "failed_expectations": result.summary()}
    if not result.passed:
        bad = activity[sorted(result.bad_rows)]
        reasons = {row["event_id"]: result.bad_rows[i] for i, row in zip(sorted(result.bad_rows),
                                                                          bad.iter_rows(named=True), strict=True)
                   if row["event_id"] is not None}
        moved = quarantine("bronze.events", bad.filter(pl.col("event_id").is_not_null()), reasons,
                           settings=settings)
        metadata["rows_moved_to_dead_letters"] = moved
        context.log.error(f"bronze.events failed its checks ({result.summary()}); "
                          f"{moved} row(s) moved to bronze.dead_letters")
        version = table_version("bronze.events", settings)  # the delete made a version of its own
    _write_watermark(settings, version)
    return dg.AssetCheckResult(passed=result.passed, metadata=metadata,
                               severity=dg.AssetCheckSeverity.ERROR)

"""Blocking data-quality checks (great-expectations suites) on the lake's events and the key marts.

A failing blocking check stops the assets downstream of what it checks; its metadata, shown
in the Dagster UI and the run log, says which expectations failed on how many rows.

``bronze_events_quality`` validates the activity rows added since it last ran (it keeps the
Delta version it reached under the LearnLake home). Rows that break a rule are moved to
``bronze.dead_letters`` with the rule they broke, and the check fails: downstream waits, and
the next run, on clean data, goes through.
"""

import json
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from lake.quarantine import quarantine
from lake.readers import read_added_since, table_exists, table_version
from learnlake.settings import Settings, get_settings

# The suites import great-expectations (seconds): each check imports them when it runs, so
# loading the Dagster definitions (the CLI, `dagster dev`) stays quick.

EVENTS_KEY = dg.AssetKey(["bronze", "events"])


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
def bronze_events_quality(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    from pipelines.defs.quality.suites import bronze_events_suite, validate

    settings = get_settings()
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


def _warehouse_frame(settings: Settings, query: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return pl.from_arrow(con.sql(query).to_arrow_table())


def _known(settings: Settings, table: str, column: str) -> list[str]:
    return _warehouse_frame(settings, f"select distinct {column} from marts.{table}")[column].to_list()


@dg.asset_check(asset=dg.AssetKey(["marts", "fct_enrollments"]), blocking=True,
                description="Unique enrollments, known statuses, courses and learners known to the dimensions")
def fct_enrollments_quality() -> dg.AssetCheckResult:
    from pipelines.defs.quality.suites import enrollments_suite, validate

    settings = get_settings()
    frame = _warehouse_frame(settings, "select * from marts.fct_enrollments")
    suite = enrollments_suite(_known(settings, "dim_courses", "course_id"),
                              _known(settings, "dim_learners", "learner_id"))
    result = validate(frame.to_pandas(), suite, "fct_enrollments")
    return dg.AssetCheckResult(passed=result.passed, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"rows_checked": frame.height, "failed_expectations": result.summary()})


@dg.asset_check(asset=dg.AssetKey(["marts", "fct_graded_answers"]), blocking=True,
                description="Unique answers, attempts from 1, scores in [0, 1], learners known to the dimensions")
def fct_graded_answers_quality() -> dg.AssetCheckResult:
    from pipelines.defs.quality.suites import graded_answers_suite, validate

    settings = get_settings()
    frame = _warehouse_frame(settings, "select event_id, learner_id, attempt_number, score from marts.fct_graded_answers")
    result = validate(frame.to_pandas(), graded_answers_suite(_known(settings, "dim_learners", "learner_id")),
                      "fct_graded_answers")
    return dg.AssetCheckResult(passed=result.passed, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"rows_checked": frame.height, "failed_expectations": result.summary()})


quality_checks = [bronze_events_quality, fct_enrollments_quality, fct_graded_answers_quality]

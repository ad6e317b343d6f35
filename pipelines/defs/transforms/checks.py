"""Blocking data-quality checks (great-expectations suites) on the key marts, beside the dbt assets they check.

A failing blocking check stops the assets downstream of its mart (the published warehouse, the models).
"""

import dagster as dg
import duckdb
import polars as pl

from learnlake.settings import Settings
from pipelines.defs.resources import LearnLake


def _warehouse_frame(settings: Settings, query: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return pl.from_arrow(con.sql(query).to_arrow_table())


def _known(settings: Settings, table: str, column: str) -> list[str]:
    return _warehouse_frame(settings, f"select distinct {column} from marts.{table}")[column].to_list()


@dg.asset_check(asset=dg.AssetKey(["marts", "fct_enrollments"]), blocking=True,
                description="Unique enrollments, known statuses, courses and learners known to the dimensions")
def fct_enrollments_quality(learnlake: LearnLake) -> dg.AssetCheckResult:
    from pipelines.defs.quality.suites import enrollments_suite, validate

    settings = learnlake.settings()
    frame = _warehouse_frame(settings, "select * from marts.fct_enrollments")
    suite = enrollments_suite(_known(settings, "dim_courses", "course_id"),
                              _known(settings, "dim_learners", "learner_id"))
    result = validate(frame.to_pandas(), suite, "fct_enrollments")
    return dg.AssetCheckResult(passed=result.passed, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"rows_checked": frame.height, "failed_expectations": result.summary()})


@dg.asset_check(asset=dg.AssetKey(["marts", "fct_graded_answers"]), blocking=True,
                description="Unique answers, attempts from 1, scores in [0, 1], learners known to the dimensions")
def fct_graded_answers_quality(learnlake: LearnLake) -> dg.AssetCheckResult:
    from pipelines.defs.quality.suites import graded_answers_suite, validate

    settings = learnlake.settings()
    frame = _warehouse_frame(settings, "select event_id, learner_id, attempt_number, score from marts.fct_graded_answers")
    result = validate(frame.to_pandas(), graded_answers_suite(_known(settings, "dim_learners", "learner_id")),
                      "fct_graded_answers")
    return dg.AssetCheckResult(passed=result.passed, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"rows_checked": frame.height, "failed_expectations": result.summary()})

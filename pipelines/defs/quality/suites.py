"""great-expectations suites: what the lake's events and the key marts must satisfy.

Suites are built in code (an ephemeral context: nothing is written to disk, nothing goes
over the network) and validate pandas frames. ``validate`` returns, per failed expectation,
how many rows broke it and which, so callers can report and quarantine them.
"""

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics: nothing leaves the machine
# Before the import: importing great-expectations logs a line at INFO for each function it
# registers (over 200), which buried the demo's output.
logging.getLogger("great_expectations").setLevel(logging.WARNING)

import great_expectations as gx
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from lake.events import MAX_CLOCK_SKEW
from lake.schemas import EVENTS, VERBS

# This module of great-expectations sets its own logger to INFO (a line per ephemeral context).
logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
ROW_LEVEL = "COMPLETE"  # unexpected row indexes come back, to quarantine the rows


@dataclass
class Validation:
    passed: bool
    failures: dict[str, int] = field(default_factory=dict)  # expectation -> rows that broke it
    bad_rows: dict[int, str] = field(default_factory=dict)  # row index -> the first rule it broke

    def summary(self) -> str:
        return "; ".join(f"{name}: {count} row(s)" for name, count in self.failures.items()) or "all passed"


def bronze_events_suite(now: datetime | None = None) -> list:
    """Activity events: the columns, ids present and unique, known verbs, scores in [0, 1],
    no timestamp in the future (beyond the clock skew ingestion allows)."""
    latest = (now or datetime.now(UTC)) + MAX_CLOCK_SKEW
    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=[f.name for f in EVENTS], exact_match=False),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="event_id"),
        gx.expectations.ExpectColumnValuesToBeUnique(column="event_id"),
        gx.expectations.ExpectColumnValuesToNotBeNull(column="learner_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="verb", value_set=list(VERBS)),
        gx.expectations.ExpectColumnValuesToBeBetween(column="result_score", min_value=0, max_value=1),
        gx.expectations.ExpectColumnValuesToBeBetween(column="timestamp", max_value=latest),
    ]


def enrollments_suite(courses: list[str], learners: list[str]) -> list:
    """fct_enrollments: unique ids, known statuses, and every course and learner known to the dimensions."""
    return [
        gx.expectations.ExpectColumnValuesToBeUnique(column="enrollment_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="status",
                                                    value_set=["active", "inactive", "completed", "dropped"]),
        gx.expectations.ExpectColumnValuesToBeInSet(column="course_id", value_set=courses),
        gx.expectations.ExpectColumnValuesToBeInSet(column="learner_id", value_set=learners),
        gx.expectations.ExpectColumnValuesToBeBetween(column="progress_percent", min_value=0, max_value=100),
    ]


def graded_answers_suite(learners: list[str]) -> list:
    """fct_graded_answers: unique event ids, attempts from 1, scores in range, known learners."""
    return [
        gx.expectations.ExpectColumnValuesToBeUnique(column="event_id"),
        gx.expectations.ExpectColumnValuesToBeBetween(column="attempt_number", min_value=1),
        gx.expectations.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=1),
        gx.expectations.ExpectColumnValuesToBeInSet(column="learner_id", value_set=learners),
    ]


def validate(frame: pd.DataFrame, expectations: list, name: str) -> Validation:
    """Run ``expectations`` on ``frame``."""
    if frame.empty:
        return Validation(passed=True)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # logs, not progress bars
    batch = (context.data_sources.add_pandas(name).add_dataframe_asset(name)
             .add_batch_definition_whole_dataframe("all").get_batch(batch_parameters={"dataframe": frame}))
    suite = context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
    result = batch.validate(suite, result_format=ROW_LEVEL)
    validation = Validation(passed=bool(result.success))
    for outcome in result.results:
        if outcome.success:
            continue
        config = outcome.expectation_config
        column = config.kwargs.get("column")
        label = f"{config.type}({column})" if column else config.type
        validation.failures[label] = int(outcome.result.get("unexpected_count") or 1)
        for index in outcome.result.get("unexpected_index_list") or []:
            validation.bad_rows.setdefault(int(index), f"{label} failed")
    return validation

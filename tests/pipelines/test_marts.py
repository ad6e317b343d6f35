"""The marts against independent computations: the same figures recomputed with polars from the lake."""

import itertools
from datetime import timedelta

import duckdb
import polars as pl
import pytest

from lake.readers import read_table

pytestmark = pytest.mark.integration

SESSION_GAP = timedelta(minutes=30)


@pytest.fixture(scope="module")
def built(small_demo):
    """The seeded core database and the whole pipeline on a small simulation (the session's small
    demo), read once for the module."""
    settings, _ = small_demo
    events = read_table("bronze.events", settings=settings).filter(pl.col("source") != "outbox")
    enrollments = read_table("bronze.core_enrollments", settings=settings)
    with duckdb.connect(str(settings.published_warehouse_path), read_only=True) as con:
        marts = {name: pl.from_arrow(con.sql(f"select * from marts.{name}").to_arrow_table()) for name in (
            "fct_learning_sessions", "fct_course_funnel", "fct_retention_cohorts", "fct_item_statistics",
            "fct_at_risk_by_rule", "fct_learner_course_state", "fct_learner_daily_activity")}
    return events, enrollments, marts


def test_sessions_split_on_thirty_minutes_of_silence(built):
    events, _, marts = built
    expected = (
        events.sort("learner_id", "timestamp", "event_id")
        .with_columns((pl.col("timestamp").diff().over("learner_id") > SESSION_GAP).fill_null(True).alias("new"))
        .group_by("learner_id").agg(pl.col("new").sum().alias("sessions"))
    )
    actual = marts["fct_learning_sessions"].group_by("learner_id").len("sessions")
    joined = expected.join(actual, on="learner_id", how="full", suffix="_mart")
    assert joined.height == expected.height == actual.height
    assert (joined["sessions"] == joined["sessions_mart"]).all()
    assert marts["fct_learning_sessions"]["events"].sum() == events.height


def test_the_funnel_counts_what_the_core_database_says(built):
    _, enrollments, marts = built
    done = (pl.col("status") == "completed") | (pl.col("progress_percent") >= 100)
    expected = enrollments.group_by("course_id").agg(
        pl.len().alias("enrolled"),
        (done | (pl.col("progress_percent") >= 50)).sum().alias("reached_50_pct"),
        done.sum().alias("completed"),
    )
    joined = expected.join(marts["fct_course_funnel"], on="course_id", suffix="_mart")
    assert joined.height == expected.height
    for column in ("enrolled", "reached_50_pct", "completed"):
        assert (joined[column] == joined[f"{column}_mart"]).all(), column
    funnel = marts["fct_course_funnel"]
    ordered = ["enrolled", "started", "reached_25_pct", "reached_50_pct", "reached_75_pct", "completed"]
    for wider, narrower in itertools.pairwise(ordered):
        assert (funnel[wider] >= funnel[narrower]).all(), (wider, narrower)


def test_retention_is_recomputed_from_the_raw_events(built):
    events, enrollments, marts = built
    starts = enrollments.select("learner_id", "course_id", "enrolled_at").with_columns(
        pl.col("enrolled_at").dt.truncate("1w").alias("week_start"))
    active = (
        events.join(starts, on=["learner_id", "course_id"])
        .filter(pl.col("timestamp") >= pl.col("enrolled_at"))
        .with_columns(((pl.col("timestamp") - pl.col("week_start")).dt.total_seconds() // (7 * 86400))
                      .cast(pl.Int32).alias("weeks_since_enrollment"),
                      pl.col("week_start").dt.date().alias("cohort_week"))
        .group_by("course_id", "cohort_week", "weeks_since_enrollment")
        .agg(pl.col("learner_id").n_unique().alias("active_learners"))
    )
    mart = marts["fct_retention_cohorts"].select("course_id", "cohort_week", "weeks_since_enrollment",
                                                 "active_learners")
    joined = active.join(mart, on=["course_id", "cohort_week", "weeks_since_enrollment"], how="full", suffix="_m")
    assert joined.height == active.height == mart.height
    assert (joined["active_learners"] == joined["active_learners_m"]).all()
    week0 = marts["fct_retention_cohorts"].filter(pl.col("weeks_since_enrollment") == 0)
    assert (week0["retention_rate"] <= 1).all()


def test_item_difficulty_is_the_share_of_wrong_first_answers(built):
    events, _, marts = built
    firsts = (
        events.filter(pl.col("verb") == "answered", pl.col("result_success").is_not_null())
        .sort("timestamp", "event_id")
        .group_by("learner_id", "object_id", maintain_order=True).first()
        .group_by("object_id").agg(pl.len().alias("learners"), (1 - pl.col("result_success").mean()).alias("d"))
    )
    joined = firsts.join(marts["fct_item_statistics"], left_on="object_id", right_on="question_id")
    assert joined.height == firsts.height
    assert (joined["learners"] == joined["learners_right"]).all()
    assert ((joined["d"] - joined["difficulty"]).abs() < 1e-9).all()
    discrimination = marts["fct_item_statistics"]["discrimination"].drop_nulls()
    assert discrimination.len() > 0 and discrimination.is_between(-1, 1).all()
    assert discrimination.mean() > 0  # simulated ability drives every answer: items separate learners


def test_the_at_risk_rule_flags_exactly_the_enrolled_unpassed_and_absent(built):
    _, _, marts = built
    state = marts["fct_learner_course_state"].filter(pl.col("unenrolled_at").is_null())
    expected = state.filter(pl.col("status") != "completed", pl.col("grade").fill_null(0) < 0.6,
                            pl.col("days_since_last_activity") >= 7)
    flagged = marts["fct_at_risk_by_rule"].filter("is_at_risk")
    assert sorted(flagged["enrollment_id"]) == sorted(expected["enrollment_id"])
    assert 0 < flagged.height < state.height


def test_daily_activity_adds_up_to_the_events(built):
    events, _, marts = built
    daily = marts["fct_learner_daily_activity"]
    assert daily["events"].sum() == events.height
    per_day = events.group_by("learner_id", "event_date").len()
    assert daily.height == per_day.height

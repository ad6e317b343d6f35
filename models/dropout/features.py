"""Learner x course activity features from daily counts: what the dropout models see.

The input is one row per enrolment and day with a count per activity type (the shape of the
KDD Cup 2015 logs, and of the ``int_learner_course_days`` mart). Each enrolment becomes a
(days x types) array from the course's first day up to the cut-off, and every feature is
computed from that array alone, so a feature can never see a day after the cut-off.

Features, in words an instructor can read (``FEATURE_LABELS``): totals and active days per
activity type, activity in the last week and the last three days, days since the last visit,
the first visit, weekly totals and their trend, the longest streak and the longest gap, and
the enrolment's activity relative to the rest of its course.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

WEEK = 7


@dataclass(frozen=True)
class ActivityCube:
    """Daily counts per enrolment: ``counts[enrolment, day, type]``, day 0 = the course's first day."""

    keys: list[str]
    courses: list[str]
    types: list[str]
    counts: np.ndarray  # float32, (n, days, types)


def activity_cube(daily: pl.DataFrame, *, key: str, course: str, day: str, types: list[str],
                  days: int) -> ActivityCube:
    """Pivot daily rows into the cube; ``day`` is an integer day index from the course start.

    Rows with a day outside ``[0, days)`` are dropped: that is how a cut-off is applied.
    """
    frame = daily.filter((pl.col(day) >= 0) & (pl.col(day) < days))
    enrolments = daily.select(key, course).unique(key, keep="first").sort(key)
    index = {k: i for i, k in enumerate(enrolments[key].to_list())}
    counts = np.zeros((len(index), days, len(types)), dtype=np.float32)
    if frame.height:
        rows = np.fromiter((index[k] for k in frame[key].to_list()), dtype=np.int64, count=frame.height)
        cols = frame[day].to_numpy().astype(np.int64)
        values = frame.select(types).fill_null(0).to_numpy().astype(np.float32)
        np.add.at(counts, (rows, cols), values)
    return ActivityCube(enrolments[key].to_list(), enrolments[course].to_list(), list(types), counts)


def _longest_run(active: np.ndarray, value: bool) -> np.ndarray:
    """Longest run of consecutive days equal to ``value``, per row."""
    best = np.zeros(active.shape[0], dtype=np.int32)
    current = np.zeros(active.shape[0], dtype=np.int32)
    for day in range(active.shape[1]):
        current = np.where(active[:, day] == value, current + 1, 0)
        best = np.maximum(best, current)
    return best


def activity_features(cube: ActivityCube) -> tuple[np.ndarray, list[str]]:
    """The feature matrix and its column names (see the module docstring)."""
    counts = cube.counts
    n, days, _ = counts.shape
    total_daily = counts.sum(axis=2)
    active = total_daily > 0
    columns: dict[str, np.ndarray] = {}
    for t, name in enumerate(cube.types):
        columns[f"{name}_total"] = np.log1p(counts[:, :, t].sum(axis=1))
        columns[f"{name}_active_days"] = (counts[:, :, t] > 0).sum(axis=1)
        columns[f"{name}_last_week"] = np.log1p(counts[:, -WEEK:, t].sum(axis=1))
    columns["events_total"] = np.log1p(total_daily.sum(axis=1))
    columns["active_days"] = active.sum(axis=1)
    columns["active_days_last_week"] = active[:, -WEEK:].sum(axis=1)
    columns["events_last_3_days"] = np.log1p(total_daily[:, -3:].sum(axis=1))
    any_day = active.any(axis=1)
    last_day = np.where(any_day, days - 1 - np.argmax(active[:, ::-1], axis=1), -1)
    first_day = np.where(any_day, np.argmax(active, axis=1), days)
    columns["days_since_last_visit"] = np.where(any_day, days - 1 - last_day, days)
    columns["first_visit_day"] = first_day
    columns["longest_streak_days"] = _longest_run(active, True)
    columns["longest_gap_days"] = _longest_run(active, False)
    weeks = max(1, days // WEEK)
    weekly = np.stack([total_daily[:, w * WEEK:(w + 1) * WEEK].sum(axis=1) for w in range(weeks)], axis=1)
    for w in range(weeks):
        columns[f"week_{w + 1}_events"] = np.log1p(weekly[:, w])
    # Trend: least-squares slope of log weekly activity, in log-events per week.
    centred = np.arange(weeks) - (weeks - 1) / 2
    columns["weekly_trend"] = (np.log1p(weekly) * centred).sum(axis=1) / max((centred ** 2).sum(), 1.0)
    columns["events_per_active_day"] = np.log1p(total_daily.sum(axis=1) / np.maximum(active.sum(axis=1), 1))
    # Relative to the enrolment's own course: a quiet learner in a quiet course is less at risk.
    courses = np.asarray(cube.courses, dtype=object)
    for name in ("events_total", "active_days", "active_days_last_week"):
        relative = np.zeros(n, dtype=np.float64)
        for course in np.unique(courses):
            members = courses == course
            relative[members] = columns[name][members] - np.median(columns[name][members])
        columns[f"{name}_vs_course"] = relative
    names = list(columns)
    return np.column_stack([columns[c].astype(np.float32) for c in names]), names


# The feature store's columns (``<view>__<feature>``) that the served dropout model reads.
SERVICE_LABELS = {
    "learner_course_activity__age_days": "days since last active in this course",
    "learner_course_activity__events_7d": "activity in this course, last 7 days",
    "learner_course_activity__events_28d": "activity in this course, last 28 days",
    "learner_course_activity__active_days_7d": "active days in this course, last 7 days",
    "learner_course_activity__active_days_28d": "active days in this course, last 28 days",
    "learner_course_activity__study_minutes_7d": "minutes studied in this course, last 7 days",
    "learner_course_activity__events_total": "activity in this course since enrolling",
    "learner_course_activity__active_days_total": "active days in this course since enrolling",
    "learner_course_activity__days_since_first_activity": "days since first active in this course",
    "learner_course_assessment__age_days": "days since the last graded answer",
    "learner_course_assessment__graded_answers": "graded answers in this course",
    "learner_course_assessment__accuracy": "share of answers right",
    "learner_course_assessment__accuracy_last_10": "share right in the last 10 answers",
    "learner_activity__age_days": "days since last active in any course",
    "learner_activity__sessions_7d": "sessions in all courses, last 7 days",
    "learner_activity__study_minutes_7d": "minutes studied in all courses, last 7 days",
    "learner_activity__answers_7d": "answers in all courses, last 7 days",
    "course_activity__age_days": "days since the course was last active",
    "course_activity__active_learners_today": "learners active in the course that day",
}


def feature_label(name: str) -> str:
    """A reason an instructor can read, for a feature name."""
    if name in SERVICE_LABELS:
        return SERVICE_LABELS[name]
    words = {
        "days_since_last_visit": "days since the last visit",
        "first_visit_day": "day of the first visit",
        "longest_streak_days": "longest run of active days",
        "longest_gap_days": "longest run of inactive days",
        "weekly_trend": "trend of weekly activity",
        "events_per_active_day": "activity per active day",
        "events_last_3_days": "activity in the last 3 days",
        "active_days_last_week": "active days in the last week",
    }
    if name in words:
        return words[name]
    label = name.replace("_vs_course", " compared with the course")
    label = label.replace("_total", " (total)").replace("_active_days", ": active days")
    label = label.replace("_last_week", " in the last week").replace("_events", " activity")
    return label.replace("_", " ")

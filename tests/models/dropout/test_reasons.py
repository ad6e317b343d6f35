"""Dropout reasons in the words and numbers an instructor reads."""

import math

from feature_store.repository import dropout_risk_v1
from models.dropout.features import feature_label
from models.dropout.model import Reason
from models.dropout.reasons import reason_text


def _text(feature: str, value: float, typical: float) -> str:
    return reason_text(Reason(feature, feature_label(feature), value, typical, 0.1))


def test_days_and_counts_read_as_whole_numbers_and_shares_as_percentages():
    assert _text("learner_course_activity__age_days", 40.0, 6.0) == \
        "days since last active in this course: 40 (typical 6)"
    assert _text("learner_activity__study_minutes_7d", 0.0, 111.94) == \
        "minutes studied in all courses, last 7 days: 0 (typical 112)"
    assert _text("learner_course_activity__age_days", 5.6, 2.25) == \
        "days since last active in this course: 5.6 (typical 2.2)"
    assert _text("learner_course_assessment__accuracy", 0.3, 0.625) == "share of answers right: 30% (typical 62%)"


def test_a_missing_age_is_older_than_its_view_keeps_values_and_a_missing_count_is_none():
    """A view serves nothing older than its TTL: the learner's last activity anywhere was longer ago than that,
    which "none" would have read as no days at all."""
    ttl = next(view.ttl.days for view, _ in dropout_risk_v1.views if view.name == "learner_activity")
    assert _text("learner_activity__age_days", math.nan, 2.0) == \
        f"days since last active in any course: over {ttl} (typical 2)"
    assert _text("learner_activity__answers_7d", math.nan, 7.0) == "answers in all courses, last 7 days: none (typical 7)"

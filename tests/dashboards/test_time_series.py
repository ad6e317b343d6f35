"""A chart's counts over time: the days (or weeks) with no row are zeros, not a line bridging the gap."""

import pandas as pd

from dashboards.time_series import zero_filled


def test_a_gap_in_the_days_is_filled_with_zeros_for_each_series():
    frame = pd.DataFrame({"course_id": ["a", "a", "b"], "course": ["A", "A", "B"],
                          "activity_date": pd.to_datetime(["2026-11-01", "2026-11-04", "2026-11-02"]).as_unit("us"),
                          "active_learners": [20, 3, 5]})
    filled = zero_filled(frame, by="course_id", when="activity_date", counts=["active_learners"],
                         periods=pd.date_range("2026-11-01", "2026-11-04", freq="D"))
    assert len(filled) == 8 and filled["activity_date"].dtype == frame["activity_date"].dtype
    series = filled[filled["course_id"] == "a"]
    assert series["active_learners"].tolist() == [20, 0, 0, 3]
    assert filled[filled["course_id"] == "b"]["active_learners"].tolist() == [0, 5, 0, 0]
    assert filled["active_learners"].sum() == frame["active_learners"].sum(), "nothing counted twice or lost"


def test_nothing_to_fill_stays_empty():
    empty = pd.DataFrame({"week": pd.to_datetime([]), "content_type": [], "events": []})
    assert zero_filled(empty, by="content_type", when="week", counts=["events"],
                       periods=pd.date_range("2026-11-02", periods=3, freq="W-MON")).empty

"""Daily active learners per course, and what they did by content type, from the engagement marts
(``fct_course_daily_active_learners``, ``fct_course_daily_content_activity``)."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.course_names import course_names
from dashboards.tables import show_table
from dashboards.time_series import zero_filled
from lake.warehouse import WarehouseNotPublished, query
from learnlake.settings import get_settings


@st.cache_data(ttl=60, show_spinner=False)
def load_daily_activity():
    return query(get_settings(), "select course_id, activity_date, active_learners, events from "
                 "marts.fct_course_daily_active_learners order by activity_date, course_id", frame="pandas")


@st.cache_data(ttl=60, show_spinner=False)
def load_content_activity():
    return query(get_settings(), "select course_id, activity_date, content_type, events, active_learners from "
                 "marts.fct_course_daily_content_activity order by activity_date, course_id, content_type",
                 frame="pandas")


st.title("Course activity")
st.caption("Learners with at least one event in the course, per day.")

try:
    with st.spinner("Loading daily activity..."):
        daily = load_daily_activity()
        titles = course_names()
except WarehouseNotPublished as exc:
    st.info(f"No data yet: {exc}")
    st.stop()

if daily.empty:
    st.info("No data yet: the warehouse has no course activity.")
    st.stop()

daily = daily.assign(course=daily["course_id"].map(lambda course_id: titles.get(course_id, course_id)))
names = dict(zip(daily["course_id"], daily["course"], strict=True))
courses = sorted(names, key=names.get)
chosen = st.multiselect("Courses", courses, default=courses, format_func=names.get)
first_day, last_day = daily["activity_date"].min(), daily["activity_date"].max()
days = st.date_input("Days", value=(first_day, last_day), min_value=first_day, max_value=last_day)
start, end = (days[0], days[-1]) if days else (first_day, last_day)  # a range being picked has one end
shown = daily[daily["course_id"].isin(chosen) & daily["activity_date"].between(pd.Timestamp(start),
                                                                                pd.Timestamp(end))]

left, middle, right = st.columns(3)
left.metric("Courses", f"{shown['course_id'].nunique():,}")
middle.metric("Days with activity", f"{shown['activity_date'].nunique():,}")
right.metric("Events", f"{int(shown['events'].sum()):,}")

days_shown = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D")
every_day = zero_filled(shown[["course_id", "activity_date", "active_learners", "events"]], by="course_id",
                        when="activity_date", counts=["active_learners", "events"], periods=days_shown)
chart = (
    alt.Chart(every_day.assign(course=every_day["course_id"].map(names)))
    .mark_line(point=False)
    .encode(
        x=alt.X("activity_date:T", title="Day"),
        y=alt.Y("active_learners:Q", title="Active learners"),
        color=alt.Color("course:N", title="Course", legend=alt.Legend(labelLimit=300)),
        tooltip=["course", "activity_date:T", "active_learners", "events"],
    )
    .properties(height=360)
)
st.altair_chart(chart, width="stretch")
# Days as dates (the chart needs them as timestamps), and the course's id kept for joining with other exports.
table = shown.assign(activity_date=shown["activity_date"].dt.date)[
    ["course", "activity_date", "active_learners", "events", "course_id"]]
show_table(table)
st.download_button("Download CSV", table.to_csv(index=False), "course_daily_active_learners.csv", "text/csv")

st.subheader("Events by content type")
try:
    with st.spinner("Loading activity by content type..."):
        by_type = load_content_activity()
except WarehouseNotPublished as exc:  # a warehouse published before this mart existed
    by_type = None
    st.info(f"No data yet: {exc}")
if by_type is not None and by_type.empty:
    st.info("No data yet: the warehouse has no activity by content type.")
elif by_type is not None:
    by_type = by_type[by_type["course_id"].isin(chosen) & by_type["activity_date"].between(pd.Timestamp(start),
                                                                                           pd.Timestamp(end))]
    # Weeks, not days: a content type's daily counts are too sparse to read as a line.
    weekly = (by_type.assign(week=by_type["activity_date"].dt.to_period("W").dt.start_time)
              .groupby(["week", "content_type"], as_index=False)["events"].sum())
    weeks_shown = pd.period_range(pd.Timestamp(start), pd.Timestamp(end), freq="W").start_time
    every_week = zero_filled(weekly, by="content_type", when="week", counts=["events"], periods=weeks_shown)
    st.altair_chart(alt.Chart(every_week).mark_area().encode(
        x=alt.X("week:T", title="Week"), y=alt.Y("events:Q", title="Events", stack=True),
        color=alt.Color("content_type:N", title="Content type"),
        tooltip=["week:T", "content_type", alt.Tooltip("events:Q", format=",")]).properties(height=300),
        width="stretch")
    weekly = weekly.assign(week=weekly["week"].dt.date)
    show_table(weekly)
    st.download_button("Download CSV", weekly.to_csv(index=False), "weekly_events_by_content_type.csv", "text/csv",
                       key="by_type")

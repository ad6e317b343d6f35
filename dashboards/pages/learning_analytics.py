"""Analysts: the course funnel, weekly retention cohorts, content engagement and difficulty, the tutor's
use and ratings week by week, and what learners search for and ask the tutor. Aggregates of the published
warehouse only.
"""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.cohort_views import retention_heatmap
from dashboards.course_names import course_names
from dashboards.tables import show_table
from dashboards.tutor_views import WEEK_COLUMNS, tutor_weeks_chart
from lake.warehouse import WarehouseNotPublished, query
from learnlake.settings import get_settings

CACHE_S = 60
MIN_LEARNERS_PER_TERM = 3  # a search term or question shows only once this many learners typed it


FUNNEL_STEPS = {"enrolled": "enrolled", "started": "started", "reached_25_pct": "reached 25 %",
                "reached_50_pct": "reached 50 %", "reached_75_pct": "reached 75 %", "completed": "completed"}


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def funnel(course_ids: tuple[str, ...]) -> pd.DataFrame:
    frame = query(get_settings(), "select * from marts.fct_course_funnel where list_contains($1, course_id)",
                  [list(course_ids)], frame="pandas")
    return pd.DataFrame({"step": list(FUNNEL_STEPS.values()),
                         "learners": [int(frame[column].sum()) for column in FUNNEL_STEPS]})


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def retention(course_ids: tuple[str, ...]) -> pd.DataFrame:
    # The cohort's Monday as text: a date reaches the chart as a timestamp, which an ordinal axis prints in ms.
    return query(get_settings(), """
        select strftime(cohort_week, '%Y-%m-%d') as cohort_week, weeks_since_enrollment,
               sum(cohort_learners) as cohort_learners,
               sum(active_learners) / nullif(sum(cohort_learners), 0) as retention_rate
        from marts.fct_retention_cohorts where list_contains($1, course_id)
        group by all order by cohort_week, weeks_since_enrollment""", [list(course_ids)], frame="pandas")


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def content(course_ids: tuple[str, ...]) -> pd.DataFrame:
    return query(get_settings(), """
        select i.title, e.content_type, e.learners, e.learners_completed,
               1 - e.learners_completed / nullif(e.learners, 0) as abandoned_share,
               s.p_correct as first_attempt_accuracy, round(e.time_spent_s / nullif(e.learners, 0) / 60, 1)
                   as minutes_per_learner
        from marts.fct_content_engagement as e
        join marts.dim_content_items as i using (item_id)
        left join marts.fct_item_statistics as s on s.question_id = e.item_id
        where list_contains($1, e.course_id)
        order by abandoned_share desc nulls last, first_attempt_accuracy nulls last""", [list(course_ids)],
        frame="pandas")


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def tutor_weeks(course_ids: tuple[str, ...]) -> pd.DataFrame:
    return query(get_settings(), f"""
        select week_start as week, {", ".join(f"sum({c})::bigint as {c}" for c in WEEK_COLUMNS[1:])}
        from marts.fct_course_tutor_weekly where list_contains($1, course_id)
        group by all order by week""", [list(course_ids)], frame="pandas")


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def typed_by_learners(verb: str, course_ids: tuple[str, ...]) -> pd.DataFrame:
    """What learners typed (searches, tutor questions), counted, and only what several learners typed."""
    return query(get_settings(), f"""
        select lower(trim(response)) as text, count(*) as times, count(distinct learner_id) as learners
        from staging.stg_lake__events
        where verb = $1 and response is not null and (course_id is null or list_contains($2, course_id))
        group by all having count(distinct learner_id) >= {MIN_LEARNERS_PER_TERM}
        order by times desc limit 50""", [verb, list(course_ids)], frame="pandas")


def _table(frame: pd.DataFrame, name: str, **config) -> None:
    show_table(frame, column_config=config)
    st.download_button("Download CSV", frame.to_csv(index=False), f"{name}.csv", "text/csv", key=name)


st.title("Learning analytics")
try:
    with st.spinner("Loading courses..."):
        titles = course_names()
except WarehouseNotPublished as exc:
    st.info(f"No data yet: {exc}")
    st.stop()
if not titles:
    st.info("No data yet: the warehouse has no course.")
    st.stop()

chosen = tuple(st.multiselect("Courses", list(titles), default=list(titles), format_func=titles.get))
if not chosen:
    st.info("Choose at least one course.")
    st.stop()

st.subheader("Course funnel")
with st.spinner("Loading the funnel..."):
    steps = funnel(chosen)
st.altair_chart(alt.Chart(steps).mark_bar().encode(
    x=alt.X("learners:Q", title="Learners"), y=alt.Y("step:N", sort=list(steps["step"]), title=None),
    tooltip=["step", "learners"]), width="stretch")
_table(steps, "funnel")

st.subheader("Weekly retention cohorts")
cohorts = retention(chosen)
if cohorts.empty:
    st.info("No data yet: no cohort has a week behind it.")
else:
    weeks = sorted(cohorts["cohort_week"].unique())
    first, last = st.select_slider("Cohorts", options=weeks, value=(weeks[0], weeks[-1]))
    shown = cohorts[(cohorts["cohort_week"] >= first) & (cohorts["cohort_week"] <= last)]
    st.altair_chart(retention_heatmap(shown), width="stretch")
    _table(shown, "retention", retention_rate=st.column_config.NumberColumn("Active", format="percent"),
           weeks_since_enrollment="Weeks since enrolment")  # the heat map's word

st.subheader("Content engagement and difficulty")
st.caption("Items learners leave unfinished most, then those answered right least often at the first attempt.")
_table(content(chosen), "content", abandoned_share=st.column_config.NumberColumn("Abandoned", format="percent"),
       first_attempt_accuracy=st.column_config.NumberColumn("First-attempt accuracy", format="percent"))

st.subheader("The tutor, week by week")
st.caption("Questions to the tutor, and whether the askers found its answers helpful (each answer once, by its "
           "latest rating, in the week it was given).")
weeks = tutor_weeks(chosen)
if weeks.empty:
    st.info("No data yet: no question asked to the tutor in these courses.")
else:
    st.altair_chart(tutor_weeks_chart(weeks), width="stretch")
    _table(weeks, "tutor_weeks")

st.subheader("What learners search for and ask the tutor")
st.caption(f"Only what at least {MIN_LEARNERS_PER_TERM} learners typed, so no one's own words are shown.")
for column, (verb, name, none) in zip(st.columns(2), (
        ("searched", "searches", "no search typed by several learners"),
        ("asked", "tutor_questions", "no tutor question asked by several learners")), strict=True):
    with column:
        typed = typed_by_learners(verb, chosen)
        if typed.empty:
            st.info(f"No data yet: {none}.")
        else:
            _table(typed, name)

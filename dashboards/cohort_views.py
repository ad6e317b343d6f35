"""What the pages show of weekly retention cohorts: a heat map of the share of each cohort (the week its
learners enrolled) active each week after. The instructor's page shows one course, the analysts' page the
courses chosen."""

import altair as alt
import pandas as pd


def retention_heatmap(cohorts: pd.DataFrame) -> alt.Chart:
    """``cohort_week`` (its Monday, as text), ``weeks_since_enrollment``, ``cohort_learners``, ``retention_rate``."""
    return alt.Chart(cohorts).mark_rect().encode(
        x=alt.X("weeks_since_enrollment:O", title="Weeks since enrolment", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("cohort_week:O", title="Cohort (week of enrolment)"),
        color=alt.Color("retention_rate:Q", title="Active", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("cohort_week:O", title="Cohort"),
                 alt.Tooltip("weeks_since_enrollment:O", title="Weeks since enrolment"),
                 alt.Tooltip("cohort_learners:Q", title="Learners"),
                 alt.Tooltip("retention_rate:Q", title="Active", format=".0%")])

"""What the pages show of the tutor's use, week by week: the questions asked (answered from the course's
material or not) and how the answers were rated. The instructor's page shows one course, the analysts' page
the courses chosen."""

import altair as alt
import pandas as pd

WEEK_COLUMNS = ["week", "questions", "answered_from_material", "ratings", "rated_helpful"]


def tutor_weeks_chart(weeks: pd.DataFrame) -> alt.VConcatChart:
    """Two bar charts over the same weeks (``WEEK_COLUMNS``): the questions, split by whether the material
    answered them, and the ratings, split by whether the answer helped."""
    weeks = weeks.assign(week=pd.to_datetime(weeks["week"]),
                         not_from_material=weeks["questions"] - weeks["answered_from_material"],
                         rated_unhelpful=weeks["ratings"] - weeks["rated_helpful"])
    x = alt.X("yearmonthdate(week):T", title="Week")

    def stacked(columns: dict[str, str], title: str) -> alt.Chart:
        long = weeks.melt(id_vars="week", value_vars=list(columns), var_name="part", value_name="count")
        long["part"] = long["part"].map(columns)
        return alt.Chart(long, height=160).mark_bar().encode(
            x=x, y=alt.Y("sum(count):Q", title=title),
            color=alt.Color("part:N", title=None, sort=list(columns.values())),
            tooltip=[alt.Tooltip("yearmonthdate(week):T", title="Week"), "part:N", alt.Tooltip("sum(count):Q",
                                                                                                title=title)])

    return alt.vconcat(
        stacked({"answered_from_material": "answered from the material", "not_from_material": "not in the material"},
                "Questions"),
        stacked({"rated_helpful": "helpful", "rated_unhelpful": "not helpful"}, "Answers rated"),
    ).resolve_scale(color="independent")

"""What the pages show of the tutor's use, week by week: the questions asked (answered from the course's
material or not) and how the answers were rated. The instructor's page shows one course, the analysts' page
the courses chosen."""

import altair as alt
import pandas as pd

WEEK_COLUMNS = ["week", "questions", "answered_from_material", "ratings", "rated_helpful"]


def tutor_weeks_chart(weeks: pd.DataFrame) -> alt.VConcatChart:
    """Two bar charts over the same weeks (``WEEK_COLUMNS``): the questions, split by whether the material
    answered them, and the ratings, split by whether the answer helped. A bar per week, labelled by its Monday."""
    weeks = weeks.assign(week=pd.to_datetime(weeks["week"]).dt.strftime("%Y-%m-%d"),
                         not_from_material=weeks["questions"] - weeks["answered_from_material"],
                         rated_unhelpful=weeks["ratings"] - weeks["rated_helpful"])

    def stacked(parts: dict[str, tuple[str, str]], title: str) -> alt.Chart:
        """``parts``: column -> (what the legend calls it, its colour), bottom first."""
        long = weeks.melt(id_vars="week", value_vars=list(parts), var_name="part", value_name="count")
        long["part"] = long["part"].map({column: name for column, (name, _) in parts.items()})
        names, colours = zip(*parts.values(), strict=True)
        return alt.Chart(long, height=160).mark_bar().encode(
            x=alt.X("week:O", title="Week of", sort=sorted(weeks["week"])),
            y=alt.Y("sum(count):Q", title=title, axis=alt.Axis(format="d", tickMinStep=1)),  # counts: whole ticks
            color=alt.Color("part:N", title=None, sort=list(names), legend=alt.Legend(labelLimit=300),
                            scale=alt.Scale(domain=list(names), range=list(colours))),
            order=alt.Order("part_order:Q"),
            tooltip=[alt.Tooltip("week:O", title="Week of"), alt.Tooltip("part:N", title="Which"),
                     alt.Tooltip("sum(count):Q", title=title)],
        ).transform_calculate(part_order=f"indexof({list(names)}, datum.part)")

    return alt.vconcat(
        stacked({"answered_from_material": ("answered from the material", "#1f77b4"),
                 "not_from_material": ("not in the material", "#b0b0b0")}, "Questions"),
        stacked({"rated_helpful": ("helpful", "#2ca02c"), "rated_unhelpful": ("not helpful", "#d62728")},
                "Answers rated"),
    ).resolve_scale(color="independent")

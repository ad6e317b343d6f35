"""What the pages show of the models: an API answer or why there is none, a learner's mastery per
skill as a chart, and their recommendations (a review marked as such)."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.api import ApiError


def answer_or_why_not(load, what: str):
    """``load()``'s answer, or None after saying why there is none (503: no model or warehouse yet)."""
    try:
        return load()
    except ApiError as exc:
        if exc.status == 503:
            st.info(f"No {what} yet: {exc.detail}")
        else:
            st.error(exc.detail)
        return None


def mastery_chart(skills: pd.DataFrame) -> alt.Chart:
    """Bars of mastery per skill (``skill_name``, ``mastery``, ``recent_answers``), weakest at the top."""
    return alt.Chart(skills).mark_bar().encode(
        x=alt.X("mastery:Q", title="Chance of answering right next", scale=alt.Scale(domain=[0, 1])),
        y=alt.Y("skill_name:N", sort="x", title="Skill"),
        tooltip=[alt.Tooltip("skill_name:N", title="Skill"), alt.Tooltip("mastery:Q", format=".0%"),
                 "recent_answers"])


def highlighted(snippet: str, ranges: list[list[int]]) -> str:
    """A search snippet as Markdown, its matching words in bold (everything else escaped)."""
    out, last = [], 0
    for start, end in ranges:
        out += [_escaped(snippet[last:start]), f"**{_escaped(snippet[start:end])}**"]
        last = end
    return "".join(out + [_escaped(snippet[last:])])


def _escaped(text: str) -> str:
    return "".join(f"\\{c}" if c in "\\`*_{}[]()#+-.!|<>$~" else c for c in text)


def show_recommendations(found: dict, due_for_review: frozenset[str] = frozenset()) -> None:
    """A learner's next items from the API, each with its reason; "(again)" marks an item to review. When every
    item is one of ``due_for_review`` (items whose reasons the page shows under "Due for review", as once a course
    is done), their titles only: the same reasons twice side by side read as two lists."""
    items = pd.DataFrame(found["items"], columns=["rank", "item_id", "title", "reason", "score", "review"])
    if items.empty:
        st.info("Nothing left to recommend in this course: well done.")
        return
    only_reviews = bool(due_for_review) and bool(items["item_id"].isin(due_for_review).all())
    if only_reviews:
        st.markdown("Review these first (why each, under *Due for review*):")
    for row in items.itertuples():
        again = " (again)" if row.review is True else ""
        st.markdown(f"**{row.rank}. {row.title}{again}**" + ("" if only_reviews else f"  \n{row.reason}"))

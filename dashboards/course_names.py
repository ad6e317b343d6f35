"""How the analysts' pages name courses: by their title in ``marts.dim_courses``, a course without one by its
id, and two courses of one title told apart by the start of their ids."""

from collections import Counter

import streamlit as st

from lake.warehouse import query
from learnlake.settings import get_settings

CACHE_S = 60


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def course_names() -> dict[str, str]:
    """Every course of the warehouse, id -> name, in the order of their names."""
    frame = query(get_settings(), "select course_id, coalesce(title, course_id) as title from marts.dim_courses "
                  "order by title, course_id", frame="pandas")
    return names(list(frame["course_id"]), list(frame["title"]))


def names(course_ids: list[str], titles: list[str]) -> dict[str, str]:
    shared = Counter(titles)
    return {course_id: f"{title} ({course_id[:8]})" if shared[title] > 1 else title
            for course_id, title in zip(course_ids, titles, strict=True)}

"""How every page shows a table: the page's full width, no index, headers in words, a dash where a value is missing."""

import pandas as pd
import streamlit as st

# A value that does not apply (a video's first-attempt accuracy) or is not known yet (an answer nobody rated):
# Streamlit would print "None" there, which reads as a value.
MISSING = "—"


def header(column: str) -> str:
    """A column's name as a header: "days_since_last_activity" reads "Days since last activity"."""
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]  # "p95 ms" -> "P95 ms", an "MRR" kept as it is


def show_table(frame: pd.DataFrame, column_config: dict | None = None, **options) -> None:
    """``st.dataframe`` as the pages use it; ``column_config`` and ``options`` as ``st.dataframe``'s. A column it
    does not configure is headed by its name in words."""
    headers = {str(c): header(str(c)) for c in frame.columns}
    st.dataframe(frame, width="stretch", hide_index=True, placeholder=MISSING,
                 column_config=headers | (column_config or {}), **options)

"""How every page shows a table: the page's full width, no index, headers in words, a dash where a value is missing."""

import pandas as pd
import streamlit as st

# A value that does not apply (a video's first-attempt accuracy) or is not known yet (an answer nobody rated):
# Streamlit would print "None" there, which reads as a value.
MISSING = "—"


UNITS = {"s": "(s)", "ms": "(ms)", "mb": "(MB)", "kb": "(kB)"}  # a name's last word that is a unit


def header(column: str) -> str:
    """A column's name as a header: "days_since_last_activity" reads "Days since last activity", "size_mb" reads
    "Size (MB)"."""
    words = column.strip().split("_")
    if len(words) > 1 and words[-1] in UNITS:
        words[-1] = UNITS[words[-1]]
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:]  # "p95 (ms)" -> "P95 (ms)", an "MRR" kept as it is


def show_table(frame: pd.DataFrame, column_config: dict | None = None, **options) -> None:
    """``st.dataframe`` as the pages use it; ``column_config`` and ``options`` as ``st.dataframe``'s. A column it
    does not configure is headed by its name in words."""
    headers = {str(c): header(str(c)) for c in frame.columns}
    st.dataframe(frame, width="stretch", hide_index=True, placeholder=MISSING,
                 column_config=headers | (column_config or {}), **options)

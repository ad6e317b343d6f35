"""How every page shows a table: the page's full width, no index, and a dash where a value is missing."""

import pandas as pd
import streamlit as st

# A value that does not apply (a video's first-attempt accuracy) or is not known yet (an answer nobody rated):
# Streamlit would print "None" there, which reads as a value.
MISSING = "—"


def show_table(frame: pd.DataFrame, **options) -> None:
    """``st.dataframe`` as the pages use it; ``options`` as ``st.dataframe``'s (column_config, height...)."""
    st.dataframe(frame, width="stretch", hide_index=True, placeholder=MISSING, **options)

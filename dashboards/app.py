"""Entry point of the LearnLake dashboards."""

import streamlit as st

st.set_page_config(page_title="LearnLake", layout="wide")

pages = [st.Page("pages/course_activity.py", title="Course activity", icon=":material/monitoring:", default=True)]
st.navigation(pages).run()

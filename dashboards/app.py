"""Entry point of the LearnLake dashboards: sign in, then the pages the role may see."""

import streamlit as st

from dashboards.session import current_user, sign_in_form, sign_out

st.set_page_config(page_title="LearnLake", layout="wide")

# Which pages each role sees; the API enforces the same roles on every number a page shows.
PAGES = {
    "instructor": [("pages/instructor_courses.py", "My courses", ":material/school:")],
    "analyst": [("pages/course_activity.py", "Course activity", ":material/monitoring:"),
                ("pages/learning_analytics.py", "Learning analytics", ":material/insights:")],
    "ml_engineer": [("pages/models.py", "Models", ":material/model_training:")],
    "admin": [("pages/operations.py", "Operations", ":material/monitor_heart:"),
              ("pages/models.py", "Models", ":material/model_training:"),
              ("pages/instructor_courses.py", "Courses", ":material/school:"),
              ("pages/course_activity.py", "Course activity", ":material/monitoring:"),
              ("pages/learning_analytics.py", "Learning analytics", ":material/insights:")],
    "learner": [("pages/learner_home.py", "My learning", ":material/menu_book:")],
}

user = current_user()
if user is None:
    st.navigation([st.Page(sign_in_form, title="Sign in", icon=":material/login:")]).run()
else:
    with st.sidebar:
        st.write(f"Signed in as **{user.name}** ({user.role})")
        if st.button("Sign out"):
            sign_out()
            st.rerun()
    pages = [st.Page(path, title=title, icon=icon) for path, title, icon in PAGES.get(user.role, [])]
    if not pages:
        st.info(f"No dashboards for the {user.role} role yet.")
    else:
        st.navigation(pages).run()

"""An instructor's courses: the cohort report, written answers to check, the practice questions made from the
course's material (to read, and to withdraw a poor one), how the tutor does (and the questions it could not help
with), the learners at risk and one learner in depth, from the API.

Everything comes through the API with the instructor's own token: a course that is not theirs
is refused there (403), whatever the page or its query parameters ask for.
"""

import altair as alt
import pandas as pd
import streamlit as st

from dashboards.api import ApiError, delete, get, post, put
from dashboards.cohort_views import retention_heatmap
from dashboards.model_views import answer_or_why_not, mastery_chart
from dashboards.session import current_user
from dashboards.tables import header, show_table
from dashboards.tutor_views import WEEK_COLUMNS, tutor_weeks_chart

CACHE_S = 60
LIVE_S = 5  # new at-risk changes are looked for this often, without a reload
CHANGES_OPEN = 5  # more new at-risk changes than this are counted, and listed only when asked


# Cached per token: one user's answers are never served to another.
@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _courses(token: str, instructor_id: str | None) -> list[dict]:
    return get("/api/v1/courses", token, instructor_id=instructor_id, limit=100)["items"]


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _cohort_report(token: str, course_id: str) -> dict:
    return get(f"/api/v1/analytics/courses/{course_id}/cohort-report", token)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _at_risk(token: str, course_id: str) -> dict:
    return get(f"/api/v1/courses/{course_id}/at-risk", token, limit=200)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _learner_activity(token: str, course_id: str, user_id: str) -> dict:
    return get(f"/api/v1/courses/{course_id}/learners/{user_id}/activity", token, events=30)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _mastery(token: str, course_id: str, user_id: str) -> dict:
    return get(f"/api/v1/learners/{user_id}/mastery", token, course_id=course_id)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _recommendations(token: str, course_id: str, user_id: str) -> dict:
    return get(f"/api/v1/learners/{user_id}/recommendations", token, course_id=course_id, k=10)


def _bars(frame: pd.DataFrame, x: str, y: str, x_title: str, y_title: str) -> alt.Chart:
    return alt.Chart(frame).mark_bar().encode(x=alt.X(x, title=x_title), y=alt.Y(y, title=y_title),
                                              tooltip=list(frame.columns)).properties(height=240)


def _download(frame: pd.DataFrame, name: str) -> None:
    st.download_button(f"Download {header(name).lower()} (CSV)", frame.to_csv(index=False), f"{name}.csv", "text/csv",
                       key=name)


def cohort_section(report: dict) -> None:
    funnel = report["funnel"]
    left, middle, right, last = st.columns(4)
    left.metric("Enrolled", f"{funnel['enrolled']:,}")
    middle.metric("Started", f"{funnel['started']:,}")
    right.metric("Completed", f"{funnel['completed']:,}")
    rate = funnel["completed"] / funnel["enrolled"] if funnel["enrolled"] else 0
    last.metric("Completion rate", f"{rate:.0%}")
    as_of = pd.Timestamp(report["as_of"]).strftime("%Y-%m-%d %H:%M UTC") if report["as_of"] else "no events yet"
    st.caption(f"As of the last event in the warehouse: {as_of}")

    charts = st.columns(3)
    weeks = pd.DataFrame(report["enrollments_by_week"])
    if not weeks.empty:
        charts[0].altair_chart(_bars(weeks, "yearmonthdate(week):O", "learners:Q", "Week", "New enrolments"),
                               width="stretch")
    progress = pd.DataFrame(report["progress_distribution"])
    if not progress.empty:
        charts[1].altair_chart(_bars(progress, "band_start:O", "learners:Q", "Progress (%)", "Learners"),
                               width="stretch")
    grades = pd.DataFrame(report["grade_distribution"])
    if not grades.empty:
        charts[2].altair_chart(_bars(grades, "band_start:O", "learners:Q", "Grade (%)", "Learners"), width="stretch")

    st.subheader("Skills the cohort struggles with")
    skills = pd.DataFrame(report["struggling_skills"])
    if skills.empty:
        st.info("No graded answers yet.")
    else:
        show_table(skills, column_order=(
            "skill_name", "learners", "mean_accuracy", "struggling_share"), column_config={
            "skill_name": st.column_config.TextColumn("Skill"),
            "mean_accuracy": st.column_config.NumberColumn("Mean accuracy", format="percent"),
            "struggling_share": st.column_config.NumberColumn("Below 50 % right", format="percent")})
        _download(skills, "struggling_skills")

    st.subheader("Retention by weekly cohort")
    retention = pd.DataFrame(report["retention"])
    if retention.empty:
        st.info("No cohorts yet.")
    else:
        st.altair_chart(retention_heatmap(retention), width="stretch")
        _download(retention, "retention")


def at_risk_section(at_risk: dict) -> None:
    st.subheader("Learners at risk")
    learners = pd.DataFrame(at_risk["learners"])
    if learners.empty:
        st.info("No active learners in this course.")
        return
    learners["reasons"] = learners["reasons"].map("; ".join)
    shown = learners[["rank", "name", "email", "risk", "rule_flag", "days_since_last_activity", "progress_percent",
                      "reasons"]]
    as_of = pd.Timestamp(at_risk["as_of"]).strftime("%Y-%m-%d %H:%M UTC")
    st.caption(f"Dropout model version {at_risk['model_version']}, features as of {as_of}. "
               "The rule flag is the at-risk rule (no visit in 7 days, not passed) beside the model.")
    show_table(shown, column_config={
        "name": "Learner", "email": "E-mail",
        "reasons": st.column_config.TextColumn("Why", width="large"),  # the reasons are read, not glanced at
        "risk": st.column_config.ProgressColumn("Risk", min_value=0.0, max_value=1.0, format="percent"),
        "rule_flag": st.column_config.CheckboxColumn("Rule flag"),
        "days_since_last_activity": st.column_config.NumberColumn("Days since last activity", format="%.0f"),
        "progress_percent": st.column_config.NumberColumn("Progress", format="%.0f %%")})
    _download(shown, "at_risk")


@st.fragment(run_every=LIVE_S)
def live_at_risk_changes(token: str, course_id: str) -> None:
    """Learners who crossed the at-risk threshold since they were last seen, read every few seconds: they
    appear here as the API scores each published warehouse (they are in the inbox and the daily digest too)."""
    try:
        inbox = get("/api/v1/notifications", token, unread="true", limit=100)
    except ApiError:
        return
    changes = [n for n in inbox["items"] if n["kind"] == "at_risk" and n["data"].get("course_id") == course_id]
    if not changes:
        return
    st.subheader("New at-risk changes")
    # A new warehouse can move many learners at once (a quiet month): the count first, each change on request.
    at_risk = sum(bool(n["data"].get("at_risk")) for n in changes)
    more = " among your newest unread notifications" if inbox["total"] > len(inbox["items"]) else ""
    st.markdown(f"**{at_risk}** now at risk, **{len(changes) - at_risk}** no longer at risk{more}.")
    with st.expander("Each change", expanded=len(changes) <= CHANGES_OPEN):
        for n in changes:
            mark = "⚠️" if n["data"].get("at_risk") else "✅"
            st.markdown(f"{mark} {n['body']}  \n_{pd.Timestamp(n['created_at']).strftime('%Y-%m-%d %H:%M UTC')}_")
    if st.button("Mark these as seen", key=f"seen:{course_id}"):
        for n in changes:
            post(f"/api/v1/notifications/{n['id']}/read", token, {})
        st.rerun(scope="fragment")


def review_queue_section(token: str, course_id: str) -> None:
    """Written answers the grader was unsure of: the instructor reads each beside the reference and grades it."""
    try:
        queue = get(f"/api/v1/courses/{course_id}/review-queue", token, limit=20)
    except ApiError as exc:
        st.error(exc.detail)
        return
    if not queue["items"]:
        return
    st.subheader("Written answers to check")
    st.caption(f"{queue['total']} answer(s) the grader was unsure of; your grade replaces its own.")
    for answer in queue["items"]:
        with st.form(f"review:{answer['answer_id']}"):
            st.markdown(f"**{answer['item_title']}**, {answer['learner_name']}")
            st.text(answer["answer"])
            st.caption(f"Reference: {answer['reference']}. Grader: {answer['automatic_score']} of {answer['points']} "
                       f"(confidence {answer['confidence']:.0%}). {answer['feedback']}")
            score = st.number_input("Score", min_value=0, max_value=answer["points"], value=answer["automatic_score"],
                                    step=1, key=f"score:{answer['answer_id']}")
            comment = st.text_input("Comment to the learner", key=f"comment:{answer['answer_id']}")
            if st.form_submit_button("Save the grade"):
                try:
                    post(f"/api/v1/courses/{course_id}/review-queue/{answer['answer_id']}", token,
                         {"score": int(score), "comment": comment or None})
                except ApiError as exc:  # a comment over the limit, an answer erased meanwhile: say why
                    st.error(exc.detail)
                    continue
                st.rerun()


def practice_section(token: str, course_id: str) -> None:
    """The practice questions learners get from the course's passages, each with its answer and the sentence
    that settles it: the instructor withdraws one that is unclear or wrong, or puts one back."""
    try:
        served = get(f"/api/v1/courses/{course_id}/practice", token, limit=50)["questions"]
        withdrawn = get(f"/api/v1/courses/{course_id}/practice", token, limit=50, withdrawn="true")["questions"]
    except ApiError as exc:
        st.error(exc.detail)
        return
    if not served and not withdrawn:
        return
    with st.expander(f"Practice questions from the material ({len(served)} shown to learners, "
                     f"{len(withdrawn)} withdrawn)"):
        taken_out = {q["question_id"] for q in withdrawn}
        for question in served + withdrawn:
            question_id, out = question["question_id"], question["question_id"] in taken_out
            by = "a language model" if question["generator"] != "extractive" else "rules"
            st.markdown(f"{'~~' if out else ''}{question['prompt']}{'~~' if out else ''}")
            st.caption(f"Answer: **{question['answer']}**. From \"{question['source']['section']}\": "
                       f"{question['evidence']} (written by {by})")
            if out:
                st.caption(f"Withdrawn: {question['withdrawal_reason'] or 'no reason given'}")
                label, key, reason = "Put back", "restore", None
            else:  # the reason is for the course's other editors; learners never see it
                label, key = "Withdraw", "withdraw"
                reason = st.text_input("Why withdraw it (optional)", key=f"reason:{question_id}", max_chars=500)
            if st.button(label, key=f"{key}:{question_id}"):
                path = f"/api/v1/courses/{course_id}/practice/{question_id}/withdrawal"
                try:
                    if out:
                        delete(path, token)
                    else:
                        put(path, token, {"reason": reason or None})
                except ApiError as exc:  # the passage changed meanwhile: say why
                    st.error(exc.detail)
                    continue
                st.rerun()


def tutor_section(token: str, course_id: str, weeks: list[dict]) -> None:
    """How the tutor does in the course (``weeks``: the cohort report's ``tutor_by_week``), and the questions it
    could not help with: what the material may lack."""
    try:
        report = get(f"/api/v1/courses/{course_id}/tutor-report", token, limit=50)
    except ApiError as exc:
        st.error(exc.detail)
        return
    st.subheader("The tutor in this course")
    if not report["asked"]:
        st.info("No data yet: no question asked to the tutor in this course. Learners ask from their page; how it "
                "answers and how they rate it will show here.")
        return
    asked, rated = report["asked"], report["rated"]
    left, middle, right = st.columns(3)
    left.metric("Questions asked", f"{asked:,}")
    middle.metric("Answered from the material", f"{report['answered_from_material'] / asked:.0%}")
    right.metric("Rated helpful", f"{report['rated_helpful']} of {rated}" if rated else "no rating yet")
    if weeks:  # from the warehouse, so as of the pipeline's last run
        st.altair_chart(tutor_weeks_chart(pd.DataFrame(weeks, columns=WEEK_COLUMNS)), width="stretch")
    if report["to_look_at"]:
        st.caption(f"{report['total_to_look_at']} question(s) the tutor could not answer from the material, or whose "
                   "asker found the answer unhelpful (newest first): where the material may be missing or unclear.")
        frame = pd.DataFrame([{"asked_at": t["asked_at"], "question": t["question"],
                               "from the material": t["grounded"], "helpful": t["helpful"],
                               "cited": "; ".join(t["cited"]), "answer": t["answer"]} for t in report["to_look_at"]])
        show_table(frame)
    if report["sections"]:
        st.caption("The sections rated answers cited, the most often unhelpful first: a section the tutor's answers "
                   "keep failing from may say something unclearly.")
        show_table(pd.DataFrame(report["sections"]))


def learner_section(token: str, course_id: str, learners: list[dict]) -> None:
    """One learner in depth: their timeline, mastery per skill and the recommendations they are given."""
    st.subheader("One learner")
    names = {row["user_id"]: f"{row['name']} ({row['email']})" for row in learners}
    user_id = st.selectbox("Learner", list(names), format_func=names.get, key="drill_down_learner")
    with st.spinner("Loading the learner's activity..."):
        activity = answer_or_why_not(lambda: _learner_activity(token, course_id, user_id), "activity")
    if activity is not None:
        left, middle, right = st.columns(3)
        left.metric("Progress", f"{activity['progress_percent']:.0f} %")
        middle.metric("Active days", f"{len(activity['days']):,}")
        right.metric("Enrolled", pd.Timestamp(activity["enrolled_at"]).strftime("%Y-%m-%d"))
        days = pd.DataFrame(activity["days"])
        if days.empty:
            st.info("No activity in this course yet.")
        else:
            days["wrong_answers"] = days["answers"] - days["right_answers"]
            answers = days.melt(id_vars=["day"], value_vars=["right_answers", "wrong_answers"], var_name="answer",
                                value_name="count")
            answers["answer"] = answers["answer"].map({"right_answers": "right", "wrong_answers": "wrong"})
            columns = st.columns(2)
            columns[0].altair_chart(alt.Chart(days).mark_bar().encode(
                x=alt.X("yearmonthdate(day):T", title="Day"), y=alt.Y("study_minutes:Q", title="Minutes studied"),
                tooltip=["day:T", "events:Q", alt.Tooltip("study_minutes:Q", format=".0f")]).properties(height=220),
                width="stretch")
            columns[1].altair_chart(alt.Chart(answers).mark_bar().encode(
                x=alt.X("yearmonthdate(day):T", title="Day"), y=alt.Y("count:Q", title="Answers"),
                color=alt.Color("answer:N", title=None, scale=alt.Scale(domain=["right", "wrong"])),
                tooltip=["day:T", "answer:N", "count:Q"]).properties(height=220), width="stretch")
        events = pd.DataFrame(activity["recent_events"])
        if not events.empty:
            st.caption("Latest events")
            events["occurred_at"] = pd.to_datetime(events["occurred_at"], format="ISO8601")  # with or without fractions
            show_table(events[["occurred_at", "verb", "object_type", "title", "success", "score"]], height=220,
                       column_config={"occurred_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm"),
                                      "object_type": "Object", "success": "Right"})
    mastery_column, recommendations_column = st.columns(2)
    with mastery_column, st.spinner("Tracing knowledge..."):
        mastery = answer_or_why_not(lambda: _mastery(token, course_id, user_id), "mastery model")
        if mastery is not None:
            skills = pd.DataFrame(mastery["skills"])
            if skills.empty:
                st.info("This course's items name no skills.")
            else:
                st.altair_chart(mastery_chart(skills), width="stretch")
    with recommendations_column, st.spinner("Ranking the next items..."):
        recommended = answer_or_why_not(lambda: _recommendations(token, course_id, user_id), "recommender")
        if recommended is not None:
            items = pd.DataFrame(recommended["items"])
            if items.empty:
                st.info("Nothing left to recommend in this course.")
            else:
                st.caption("What the learner is recommended next" + (" (cold start)" if recommended["cold_start"]
                                                                      else ""))
                show_table(items[["rank", "title", "reason"]], column_config={"title": "Item", "reason": "Why"})


user = current_user()
st.title("My courses" if user.role != "admin" else "Courses")
try:
    with st.spinner("Loading courses..."):
        courses = _courses(user.token, None if user.role == "admin" else user.user_id)
except ApiError as exc:
    st.error(exc.detail)
    st.stop()
if not courses:
    st.info("No courses yet: create one in the API (POST /api/v1/courses).")
    st.stop()

titles = {c["id"]: c["title"] for c in courses}
course_id = st.selectbox("Course", list(titles), format_func=titles.get)
try:
    with st.spinner("Loading the cohort report..."):
        report = _cohort_report(user.token, course_id)
except ApiError as exc:
    if exc.status == 503:
        st.info(f"No data yet: {exc.detail}")
        st.stop()
    st.error(exc.detail)
    st.stop()
cohort_section(report)
live_at_risk_changes(user.token, course_id)
review_queue_section(user.token, course_id)
practice_section(user.token, course_id)
tutor_section(user.token, course_id, report["tutor_by_week"])
try:
    with st.spinner("Scoring the learners..."):
        at_risk = _at_risk(user.token, course_id)
    at_risk_section(at_risk)
    if at_risk["learners"]:
        learner_section(user.token, course_id, at_risk["learners"])
except ApiError as exc:
    if exc.status == 503:
        st.info(f"No at-risk list yet: {exc.detail}")
    else:
        st.error(exc.detail)

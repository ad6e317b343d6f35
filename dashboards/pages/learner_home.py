"""A learner's page: my courses and progress, what to do next and why, what to review, my mastery,
practice questions from the material, a search of it, and the tutor.

Everything comes from the API with the learner's own token.
"""

import pandas as pd
import streamlit as st

from dashboards.api import ApiError, get, post, put
from dashboards.model_views import answer_or_why_not, highlighted, mastery_chart, show_recommendations
from dashboards.session import current_user
from dashboards.tables import show_table

CACHE_S = 30
LIVE_S = 5  # the progress table and the next items are read again this often, without a reload


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _my_courses(token: str) -> pd.DataFrame:
    enrollments = get("/api/v1/users/me/enrollments", token, limit=100)["items"]
    rows = [{**e, "title": get(f"/api/v1/courses/{e['course_id']}", token)["title"]}
            for e in enrollments if e["status"] != "unenrolled"]
    return pd.DataFrame(rows, columns=["course_id", "title", "status", "progress_percent", "enrolled_at"])


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _mastery(token: str, user_id: str, course_id: str) -> dict:
    return get(f"/api/v1/learners/{user_id}/mastery", token, course_id=course_id)


@st.cache_data(ttl=CACHE_S, show_spinner=False)
def _reviews(token: str, user_id: str, course_id: str) -> dict:
    return get(f"/api/v1/learners/{user_id}/reviews", token, course_id=course_id)


def _model_section(title: str, what: str, load, show) -> dict | None:
    """The section's answer from the API, shown (or why there is none); returned for the sections after it."""
    st.subheader(title)
    found = answer_or_why_not(load, what)
    if found is not None:
        show(found)
    return found


def show_mastery(found: dict) -> None:
    skills = pd.DataFrame(found["skills"], columns=["skill_id", "skill_name", "mastery", "recent_answers"])
    if skills.empty:
        st.info("No answers yet: mastery appears after your first graded answers.")
        return
    st.altair_chart(mastery_chart(skills), width="stretch")
    st.caption("Read from your answers and their order. *Due for review* also counts the days since you last "
               "practised a skill, so it can put the skills in another order.")


def show_reviews(found: dict) -> None:
    """The skills due for review, weakest first, each with its reason and the item to review it by."""
    due = [r for r in found["reviews"] if r["due"]]
    if not due:
        upcoming = [r for r in found["reviews"] if r["due_at"]]
        st.info("Nothing due for review." + (f" Next: {upcoming[0]['skill_name']}, {upcoming[0]['due_at'][:10]}."
                                             if upcoming else ""))
        return
    for review in due[:5]:
        by = f"  \nReview with: {review['item_title']}" if review["item_title"] else ""
        st.markdown(f"**{review['skill_name']}**: {review['reason']}{by}")


def practice_section(token: str, course_id: str, reviews: dict | None) -> None:
    """Questions made from the course's material on a skill (a due one first), one at a time, marked at once."""
    st.subheader("Practise")
    practised = (reviews or {}).get("reviews", [])
    if not practised:
        st.caption("Practice questions appear here for the skills you have answered questions on.")
        return
    names = {r["skill_id"]: r["skill_name"] + (" (due)" if r["due"] else "") for r in practised}
    skill = st.selectbox("Skill", list(names), format_func=names.get, key=f"practice-skill:{course_id}")
    try:
        questions = get(f"/api/v1/courses/{course_id}/practice", token, skill_id=skill, limit=20)["questions"]
    except ApiError as exc:
        st.error(exc.detail)
        return
    if not questions:
        st.info("The material has no practice questions on this skill yet.")
        return
    turn = st.session_state.setdefault(f"practice-turn:{course_id}:{skill}", 0)
    question = questions[turn % len(questions)]
    # The marking stays until the next question: searching or asking the tutor meanwhile reruns the page.
    marked_key = f"practice-marked:{course_id}:{question['question_id']}"
    with st.form(f"practice:{question['question_id']}"):
        st.markdown(question["prompt"].replace("_____", "\\_\\_\\_\\_\\_"))
        if question["generator"] == "openai-compatible":
            st.caption("Written by a language model from the course's material, and checked against it.")
        if question["kind"] == "multiple_choice":
            given = st.radio("Your answer", question["options"], index=None)
        else:
            given = st.text_input("Your answer (the missing words)", max_chars=500)
        checked = st.form_submit_button("Check")
    if checked and not given:
        st.warning("Choose or type an answer first.")
    elif checked:
        try:
            st.session_state[marked_key] = post(
                f"/api/v1/courses/{course_id}/practice/{question['question_id']}/answers", token, {"answer": given})
        except ApiError as exc:
            st.error(exc.detail)
            return
    if marked := st.session_state.get(marked_key):
        (st.success if marked["correct"] else st.warning)(
            ("Right. " if marked["correct"] else f"Not quite: the answer is {marked['expected']}. ")
            + f"From {marked['source']['section']}: {marked['feedback']}")
    if st.button("Next question", key=f"practice-next:{course_id}:{skill}"):
        st.session_state.pop(marked_key, None)
        st.session_state[f"practice-turn:{course_id}:{skill}"] = turn + 1
        st.rerun()


def written_section(token: str, course_id: str) -> None:
    """The course's questions that take a written answer: graded at once, with feedback from the material
    (an instructor checks the grades the grader is unsure of). Shown only when the course has some."""
    try:
        items = get(f"/api/v1/courses/{course_id}/written-items", token)
    except ApiError as exc:
        st.error(exc.detail)
        return
    if not items:
        return
    st.subheader("Written questions")
    by_id = {item["item_id"]: item for item in items}
    item_id = st.selectbox("Question", list(by_id), format_func=lambda i: by_id[i]["title"],
                           key=f"written-item:{course_id}")
    with st.form(f"written:{item_id}"):
        st.markdown(by_id[item_id]["question"])
        given = st.text_area("Your answer", max_chars=5000)
        sent = st.form_submit_button("Send my answer")
    if sent and given.strip():
        try:
            graded = post(f"/api/v1/courses/{course_id}/items/{item_id}/answers", token, {"answer": given})
        except ApiError as exc:
            st.error(exc.detail)
            return
        full = graded["score"] == graded["points"]
        (st.success if full else st.warning)(f"{graded['score']} of {graded['points']} points. {graded['feedback']}")
        if graded["citation"]:
            with st.expander(f"Read: {graded['citation']['section']}"):
                st.write(graded["citation"]["text"])


def search_section(token: str, course_id: str) -> None:
    st.subheader("Search the course material")
    query = st.text_input("Search this course", placeholder="for example: loops, how to read a file",
                          max_chars=500)
    if not query.strip():
        return
    try:
        found = get("/api/v1/search", token, q=query, course_id=course_id, limit=5)
    except ApiError as exc:
        st.error(exc.detail)
        return
    if not found["results"]:
        st.info("Nothing in this course matches.")
        return
    st.caption(f"{found['total']} items match")
    for result in found["results"]:
        snippet = "" if result["snippet"] == result["title"] else \
            f"  \n{highlighted(result['snippet'], result['highlights'])}"
        st.markdown(f"**{result['title']}** ({result['module_title']}, {result['content_type']}){snippet}")


def _rate(token: str, turn: dict, key: str) -> None:
    """Tell the API whether this answer helped (thumbs up: 1, down: 0, cleared: None)."""
    choice = st.session_state[key]
    try:
        put(f"/api/v1/tutor/turns/{turn['turn_id']}/rating", token,
            {"helpful": None if choice is None else bool(choice)})
        turn["rating_error"] = None
    except ApiError as exc:
        turn["rating_error"] = f"Your rating was not saved: {exc.detail}"


def tutor_section(token: str, course_id: str) -> None:
    st.subheader("Ask the tutor")
    st.caption("Answers come from this course's material only, with where to read more. Say whether an "
               "answer helped: when several learners say so of questions like yours, the tutor learns which "
               "sections answer them.")
    history = st.session_state.setdefault(f"tutor:{course_id}", {"conversation_id": None, "turns": []})
    for turn in history["turns"]:
        with st.chat_message("user"):
            st.write(turn["question"])
        with st.chat_message("assistant"):
            st.write(turn["answer"])
            for c in turn["citations"]:
                with st.expander(f"[{c['number']}] {c['section']}"):
                    st.caption(c["location"])
                    st.write(c["passage"])
            rating_key = f"rating:{turn['turn_id']}"
            st.feedback("thumbs", key=rating_key, on_change=_rate, args=(token, turn, rating_key))
            if turn.get("rating_error"):
                st.error(turn["rating_error"])
    question = st.chat_input("Your question about this course")
    if question:
        try:
            with st.spinner("Looking in the course material..."):
                reply = post("/api/v1/tutor/ask", token, {"course_id": course_id, "question": question,
                                                          "conversation_id": history["conversation_id"]})
        except ApiError as exc:
            st.error(exc.detail)
            return
        history["conversation_id"] = reply["conversation_id"]
        history["turns"].append({"question": question, **reply})
        st.rerun()


user = current_user()
st.title("My learning")
try:
    with st.spinner("Loading your courses..."):
        courses = _my_courses(user.token)
except ApiError as exc:
    st.error(exc.detail)
    st.stop()
if courses.empty:
    st.info("You are not enrolled in any course yet.")
    st.stop()

@st.fragment(run_every=LIVE_S)
def live_progress(token: str, titles: dict[str, str]) -> None:
    """My progress per course, read afresh every few seconds: a lesson finished elsewhere shows here."""
    try:
        enrollments = get("/api/v1/users/me/enrollments", token, limit=100)["items"]
    except ApiError as exc:
        st.error(exc.detail)
        return
    rows = pd.DataFrame([{**e, "title": titles.get(e["course_id"], e["course_id"])} for e in enrollments
                         if e["status"] != "unenrolled"], columns=["title", "status", "progress_percent"])
    show_table(rows, column_config={
        "title": "Course",
        "progress_percent": st.column_config.ProgressColumn("Progress", min_value=0, max_value=100,
                                                            format="%.0f %%")})


@st.fragment(run_every=LIVE_S)
def live_next_items(token: str, user_id: str, course_id: str) -> None:
    """What to do next, read afresh every few seconds (it changes as I answer and complete items)."""
    try:
        due = frozenset(r["item_id"] for r in _reviews(token, user_id, course_id)["reviews"] if r["due"] and r["item_id"])
    except ApiError:
        due = frozenset()  # "Due for review" says why there are none
    _model_section("What to do next", "recommendations",
                   lambda: get(f"/api/v1/learners/{user_id}/recommendations", token, course_id=course_id, k=5),
                   lambda found: show_recommendations(found, due))


@st.fragment(run_every=LIVE_S)
def live_notifications(token: str) -> None:
    try:
        inbox = get("/api/v1/notifications", token, unread="true", limit=5)
    except ApiError:
        return
    for n in inbox["items"]:
        st.info(f"**{n['title']}**  \n{n['body']}")


titles = dict(zip(courses["course_id"], courses["title"], strict=True))
live_notifications(user.token)
live_progress(user.token, titles)
course_id = st.selectbox("Course", list(titles), format_func=titles.get)
left, right = st.columns(2)
with left:
    live_next_items(user.token, user.user_id, course_id)
with right:
    reviews = _model_section("Due for review", "reviews", lambda: _reviews(user.token, user.user_id, course_id),
                             show_reviews)
    _model_section("My mastery", "mastery", lambda: _mastery(user.token, user.user_id, course_id), show_mastery)
practice_section(user.token, course_id, reviews)
written_section(user.token, course_id)
search_section(user.token, course_id)
tutor_section(user.token, course_id)
